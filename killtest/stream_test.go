package killtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The stream every kill test sends: a fleet of weather stations registered
// through ingest, one signed reading per device per step.

// register waits for ingest and registers the fleet: 30 weather stations of
// 3 owners.
func (p *pipeline) register() {
	testenv.WaitFor(p.t, time.Until(deadlineOf(p.ctx)), "ingest answering /healthz 200", func() bool {
		resp, err := http.Get(p.url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	p.sdk = &client.Client{URL: p.url, MaxRetries: 200, MaxBackoff: time.Second, HTTP: &http.Client{Timeout: 10 * time.Second},
		// Every answer short of 2xx must tell the device to retry: 429 or
		// 503, with Retry-After. (Transport errors come from killed ingests.)
		OnRetry: func(err error) {
			if p.onRetry != nil {
				p.onRetry(err)
			}
			var refused *client.Error
			if errors.As(err, &refused) {
				if !refused.Retryable() || refused.RetryAfter() <= 0 {
					p.fail("ingest refused a batch without telling it to retry: %v (Retry-After %s)", err, refused.RetryAfter())
				}
				p.refusals.Add(1)
			}
		}}
	if p.admin != nil {
		// As an operator does: fieldmint add-maker, the admin's key in the
		// environment.
		cmd := exec.CommandContext(p.ctx, p.bin, "add-maker", "--url", p.url, "--id", p.maker.ID, "--name", "the factory",
			"--public-key", hex.EncodeToString(p.maker.Key.Public().(ed25519.PublicKey)))
		cmd.Env = append(os.Environ(), "FIELDMINT_ADMIN_KEY="+hex.EncodeToString(crypto.FromECDSA(p.admin)))
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "registered by admin "+chain.Address(p.admin).Hex()) {
			p.fail("fieldmint add-maker: %v\n%s", err, out)
		}
	}
	p.owners, p.ownerKeys = make([]common.Address, 3), make([]*ecdsa.PrivateKey, 3)
	signers := make([]client.Owner, 3)
	for i := range p.owners {
		k, _ := crypto.GenerateKey()
		p.owners[i], p.ownerKeys[i], signers[i] = chain.Address(k), k, client.OwnerKey(k)
	}
	p.keys = make([]ed25519.PrivateKey, devices)
	for i := range p.keys {
		_, p.keys[i], _ = ed25519.GenerateKey(nil)
		d := &pb.Device{DeviceId: fmt.Sprintf("ws-%02d", i), PublicKey: p.keys[i].Public().(ed25519.PublicKey),
			// One device per region (a degree of latitude apart), so that
			// readings spread over the partitions and no two devices share
			// a cell.
			Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &pb.Location{LatE7: 300_000_000 + int32(i)*10_000_000, LonE7: -91_000_000}}
		if err := p.sdk.Register(p.ctx, d, p.keys[i], p.maker.Attest(d.PublicKey, d.Kind), signers[ownerOf(i)]); err != nil {
			p.fail("register %s: %v", d.DeviceId, err)
		}
	}
	// Event times replay a past stretch (within the validators' clock
	// window), 1 s of event time per step, starting at an epoch boundary and
	// inside one month.
	now := time.Now().UTC()
	base := now.Add(-20 * time.Minute)
	if monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC); base.Before(monthStart) {
		base = monthStart
	}
	p.baseMs = (base.UnixMilli()/epochMs + 1) * epochMs
	p.firstEpoch = uint64(p.baseMs / epochMs)
}

// tail is the step of the last reading each device sends.
func (p *pipeline) tail() int { return p.steps + tailAfter }

func (p *pipeline) reading(dev, step int) *pb.SignedReadingV2 {
	temp := int64(15_000 + dev*1000 + step%5*100) // each station its own weather, changing as a live sensor's does
	if outOfRange(dev, step) {
		temp = 99_000
	}
	sr, err := pb.SignV2(&pb.Reading{DeviceId: fmt.Sprintf("ws-%02d", dev), Seq: uint64(step + 1), EventTimeMs: p.baseMs + int64(step)*1000 + int64(dev),
		Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": temp}}, p.keys[dev])
	if err != nil {
		p.t.Fatal(err)
	}
	return sr
}

// stream sends the steps in order, calling during(step) before each; then the
// tail step, which closes the last epoch and the one after it. A batch
// is retried until answered 2xx (the SDK retries transport errors and 503
// with Retry-After), so a reading can reach Kafka twice but never goes
// missing.
func (p *pipeline) stream(during func(step int)) {
	send := func(step int) {
		for b := 0; b < devices; b += perBatch {
			var batch []*pb.SignedReadingV2
			for dev := b; dev < b+perBatch; dev++ {
				batch = append(batch, p.reading(dev, step))
			}
			if _, err := p.sdk.Send(p.ctx, batch); err != nil {
				p.fail("step %d: batch from device %d never accepted: %v", step, b, err)
			}
		}
	}
	for step := 0; step < p.steps; step++ {
		during(step)
		send(step)
		time.Sleep(p.pace)
	}
	send(p.tail())
}
