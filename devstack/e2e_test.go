package devstack

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/roles"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/claim"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	os.Exit(m.Run())
}

type device struct {
	id  string
	key ed25519.PrivateKey
	lat int32 // asserted latitude (1e-7 degrees); longitude -9.1
}

func newDevice(id string, lat int32) device {
	_, k, _ := ed25519.GenerateKey(nil)
	return device{id: id, key: k, lat: lat}
}

// register registers d as a weather station at its asserted location,
// attested by the dev maker and owned by owner.
func (d device) register(t *testing.T, ctx context.Context, c *client.Client, owner client.Owner) {
	t.Helper()
	pub := d.key.Public().(ed25519.PublicKey)
	if err := c.Register(ctx, &pb.Device{DeviceId: d.id, PublicKey: pub, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Location: &pb.Location{LatE7: d.lat, LonE7: -91_000_000}}, d.key, DevMaker().Attest(pub, pb.ResourceKind_RESOURCE_KIND_WEATHER), owner); err != nil {
		t.Fatal(err)
	}
}

// weatherScoring writes a scoring file in which weather readings a second
// apart each count (an interval of 1 s) and carry only the temperature.
func weatherScoring(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "scoring.yaml")
	// The information checks are off: these devices send made-up weather
	// a few seconds long (TestSimulateReport runs the checks).
	policy := "kinds:\n  weather: {interval: 1s, weight: 1000, cellResolution: 8, measurements: {temperature_c: 50}}\ninformation: {back: 0s, ahead: 0s}\n"
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (d device) reading(t *testing.T, seq uint64, eventMs int64, temp int64) *pb.SignedReading {
	s, err := pb.Sign(&pb.Reading{DeviceId: d.id, Seq: seq, EventTimeMs: eventMs, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": temp}, Location: &pb.Location{LatE7: d.lat + 100, LonE7: -91_000_100}}, d.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startPipeline starts the embedded stack with short epochs and every role
// on it, all stopped with the test, and waits for ingest. edit may change
// the configuration first; onSettled hears of settled epochs (nil: none).
func startPipeline(t *testing.T, ctx context.Context, owners int, edit func(*Config), onSettled func(settler.Settled)) *Stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DevDefaults()
	cfg.Dev = Options{DataDir: t.TempDir(), Owners: owners}
	cfg.Ingest.Listen, cfg.Settle.APIListen = freeport.Addr(), freeport.Addr()
	cfg.Aggregate.EpochLength = 10 * time.Second
	cfg.Aggregate.AllowedLateness = time.Second
	// When the readings that close an epoch are all rejected, the valid
	// partitions go idle, and time follows the rejected ones.
	cfg.Aggregate.IdleTimeout = 2 * time.Second
	cfg.Aggregate.FlushInterval = 100 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	stack, err := StartStack(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	c := stack.Config
	for _, run := range []func(context.Context, roles.Config, *slog.Logger) error{roles.RunIngest, roles.RunValidate, roles.RunAggregate} {
		testenv.Go(t, func(ctx context.Context) error { return run(ctx, c.Config, log) })
	}
	testenv.Go(t, func(ctx context.Context) error { return roles.RunSettle(ctx, c.Config, 0, log, onSettled) })
	testenv.Go(t, func(ctx context.Context) error { return roles.RunAPI(ctx, c.Config, log) })
	if err := waitHTTP(ctx, stack.Info().IngestURL+"/healthz"); err != nil {
		t.Fatal(err)
	}
	if err := stack.AddMaker(ctx); err != nil {
		t.Fatal(err)
	}
	return stack
}

// TestEndToEnd: signed readings over HTTP -> validated -> ClickHouse -> epoch
// closed -> root on chain -> claimed, on kfake, a ClickHouse server and a dev
// chain. A forged reading is refused by ingest, a replayed one rejected by
// the validators; neither earns anything.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	settled := make(chan settler.Settled, 10)
	// 5 tokens per epoch, split 3:2 below.
	// Readings a second apart each count (docs/scoring.md): a weather
	// interval of 1 s; these readings carry only the temperature.
	scoring := weatherScoring(t)
	stack := startPipeline(t, ctx, 3, func(cfg *Config) {
		cfg.Settle.EmissionPerEpoch = "5000000000000000000"
		cfg.Aggregate.ScoringFile = scoring
	},
		func(s settler.Settled) { settled <- s })
	c, info := stack.Config, stack.Info()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	owners, signers := stack.OwnerAddresses(), stack.OwnerSigners()
	ingestClient := &client.Client{URL: info.IngestURL}
	// 11 km apart: each in a scoring cell of its own (docs/scoring.md).
	a, b, cheat := newDevice("a", 387_000_000), newDevice("b", 388_000_000), newDevice("cheat", 389_000_000)
	ticker := newDevice("ticker", 386_000_000) // moves time on; its readings are all rejected
	for i, d := range []device{a, b, cheat, ticker} {
		d.register(t, ctx, ingestClient, signers[i%3])
	}

	// All readings fall in one past epoch E: a, 3 valid; b, 2; cheat, 1 valid,
	// then a replay of its sequence number and a forgery.
	length := c.Aggregate.EpochLength.Milliseconds()
	epoch := uint64(time.Now().UnixMilli()/length) - 1
	at := func(k int64) int64 { return int64(epoch)*length + 1000*k } // a second apart, as the validators require
	// Wire format v1, as old firmware sends it, through the whole pipeline.
	send := func(rs ...*pb.SignedReading) error { _, err := ingestClient.SendV1(ctx, rs); return err }
	if err := send(a.reading(t, 1, at(1), 20_000), a.reading(t, 2, at(2), 20_100), a.reading(t, 3, at(3), 20_200)); err != nil {
		t.Fatal(err)
	}
	if err := send(b.reading(t, 1, at(1), 19_000), b.reading(t, 2, at(2), 19_100)); err != nil {
		t.Fatal(err)
	}
	if err := send(cheat.reading(t, 7, at(1), 18_000)); err != nil {
		t.Fatal(err)
	}
	if err := send(cheat.reading(t, 7, at(4), 35_000)); err != nil { // replay: same seq, other content
		t.Fatalf("ingest must accept a well-signed replay (validators judge it): %v", err)
	}
	forged := cheat.reading(t, 8, at(5), 18_000)
	forged.Signature[0] ^= 1
	var refused *client.Error
	if err := send(forged); !errors.As(err, &refused) || refused.Code != "BAD_SIGNATURE" || refused.Status != 401 {
		t.Fatalf("forged reading: %v, want 401 BAD_SIGNATURE", err)
	}

	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string, args ...any) uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Wait until the seven accepted readings are decided and stored.
	for count("SELECT count() FROM readings") < 7 {
		if ctx.Err() != nil {
			t.Fatal("readings never reached ClickHouse")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Readings in the present from the ticker move the watermark past E's
	// end, and past the two epochs E's scores are held for: E closes, and is
	// scored. They are out of range, so rejected: they earn nothing, and no
	// later epoch gets a root while the owners claim.
	var got, active settler.Settled
	for seq := uint64(100); active.Epoch == 0; seq++ {
		if err := send(ticker.reading(t, seq, time.Now().UnixMilli(), 99_000)); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-settled:
			switch {
			case s.Epoch != epoch:
				t.Fatalf("settled epoch %d (%s), want %d", s.Epoch, s.State, epoch)
			case s.State == settler.Computed:
				got = s
			case s.State == settler.Active:
				active = s
			}
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("epoch never settled")
		}
	}
	if got.Epoch != epoch || active.Root != got.Root {
		t.Fatalf("computed %+v, active %+v: want epoch %d computed, then its root active", got, active, epoch)
	}
	if got.Accepted != 6 {
		t.Errorf("epoch accepted %d readings, want 6", got.Accepted)
	}
	if n := count("SELECT count() FROM (SELECT device_id, seq, reason FROM readings GROUP BY ALL HAVING count() > 1)"); n != 0 {
		t.Errorf("%d readings stored twice", n)
	}
	if n := count("SELECT count() FROM readings WHERE seq < 100"); n != 7 {
		t.Errorf("%d of the 7 accepted readings are in ClickHouse", n)
	}
	if n := count("SELECT count() FROM rejections WHERE device_id = 'cheat' AND reason = 'SEQUENCE_REPLAY' AND seq = 7"); n != 1 {
		t.Errorf("replay rejections: %d, want 1", n)
	}
	if n := count("SELECT count() FROM readings WHERE device_id = 'cheat' AND seq = 8"); n != 0 {
		t.Errorf("the forged reading reached ClickHouse")
	}

	// The expected split, from what was sent: a's 3 intervals to b's 2 of 5
	// tokens; the cheat's replay is fraud-class, so its epoch is forfeited
	// and its owner gets nothing (docs/scoring.md).
	token := big.NewInt(1_000_000_000_000_000_000)
	want := map[common.Address]*big.Int{owners[0]: new(big.Int).Mul(big.NewInt(3), token), owners[1]: new(big.Int).Mul(big.NewInt(2), token)}
	dist, err := chain.TokenBalance(ctx, mustClient(t, ctx, stack), stack.Contracts.Token, stack.Contracts.Distributor)
	if err != nil {
		t.Fatal(err)
	}
	// The proof API serves a tree whose root is the one on chain.
	resp, err := http.Get(info.APIURL + "/v1/epochs/" + big.NewInt(int64(epoch)).String() + "/tree")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("tree: %v %v", err, resp)
	}
	var dump merkle.Dump
	json.NewDecoder(resp.Body).Decode(&dump)
	resp.Body.Close()
	if len(dump.Tree) == 0 || dump.Tree[0] != got.Root.Hex() || dump.Format != "standard-v1" || len(dump.Values) != 2 {
		t.Fatalf("tree dump %+v does not match root %s", dump, got.Root.Hex())
	}

	// The aggregators mirror the registry for analysts.
	for count("SELECT count() FROM devices_current WHERE active") < 4 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	for i, d := range []device{a, b, cheat} {
		if n := count("SELECT count() FROM devices_current WHERE device_id = ? AND owner = ? AND public_key = ? AND maker_id = ?",
			d.id, owners[i].Hex(), fmt.Sprintf("%x", d.key.Public().(ed25519.PublicKey)), DevMaker().ID); n != 1 {
			t.Errorf("device %s: %d rows in devices_current, want 1 with its owner, key and maker", d.id, n)
		}
	}
	// An admin denylists the cheat; analysts see it with the reason.
	adminKey, err := chain.ParseKey(info.Admin.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingestClient.Deny(ctx, cheat.id, "future-dated readings", client.OwnerKey(adminKey)); err != nil {
		t.Fatalf("denylisting: %v", err)
	}
	for count("SELECT count() FROM devices_current WHERE denied AND denied_reason = 'future-dated readings' AND device_id = ?", cheat.id) != 1 && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Fatal("the denylisting never reached devices_current")
	}
	t.Run("cookbook", func(t *testing.T) { checkCookbook(t, ctx, conn) })

	for i, o := range stack.Owners {
		key, err := chain.ParseKey(o.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		res, err := claim.Run(ctx, claim.Options{API: info.APIURL, RPC: info.RPCURL, Key: key})
		if want[owners[i]] == nil {
			if err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
				t.Errorf("owner %d (the cheat's) claim: %v %+v, want NOT_FOUND: a forfeited epoch pays nothing", i, err, res)
			}
			continue
		}
		if err != nil {
			t.Fatalf("owner %d claim: %v", i, err)
		}
		if res.Balance.Cmp(want[owners[i]]) != 0 || res.Paid.Cmp(want[owners[i]]) != 0 {
			t.Errorf("owner %d: balance %s, paid %s, want %s", i, res.Balance, res.Paid, want[owners[i]])
		}
		if _, err := claim.Run(ctx, claim.Options{API: info.APIURL, RPC: info.RPCURL, Key: key}); !errors.Is(err, claim.ErrNothingToClaim) {
			t.Errorf("owner %d second claim: %v, want nothing to claim", i, err)
		}
	}
	// After the claims the proof API reads what each owner was paid from the
	// chain: nothing is left to claim.
	for i, o := range owners[:2] {
		var body settler.RewardProof
		resp, err := http.Get(info.APIURL + "/v1/rewards/" + o.Hex())
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if body.Claimed != want[o].String() || body.Claimable != "0" || body.CumulativeAmount != want[o].String() {
			t.Errorf("owner %d after claiming: %+v, want claimed %s and claimable 0", i, body, want[o])
		}
	}

	// verify-epoch recomputes the epoch from the readings and finds the
	// stored tree and the root on chain equal to it...
	var report strings.Builder
	if err := roles.RunVerifyEpoch(ctx, c.Config, []string{strconv.FormatUint(epoch, 10)}, &report, log); err != nil {
		t.Fatalf("verify-epoch: %v\n%s", err, report.String())
	}
	t.Logf("verify-epoch:\n%s", report.String())
	if !strings.Contains(report.String(), "root on chain   "+got.Root.Hex()) || !strings.Contains(report.String(), "ok: ") {
		t.Errorf("verify-epoch report:\n%s", report.String())
	}
	// ...and, once a reading is slipped into ClickHouse, names the difference.
	// Two readings a second apart whose temperature moves: 2 intervals.
	for i := int64(1); i <= 2; i++ {
		if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, status, score, kafka_topic, kafka_offset)
			VALUES ('intruder', ?, fromUnixTimestamp64Milli(?), ?, 'RESOURCE_KIND_WEATHER', ?, ?, 'valid', 50, 'forged', 0)`,
			i, at(i), epoch, owners[2].Hex(), map[string]int64{"temperature_c": 20_000 + 500*i}); err != nil {
			t.Fatal(err)
		}
	}
	report.Reset()
	if err := roles.RunVerifyEpoch(ctx, c.Config, []string{strconv.FormatUint(epoch, 10)}, &report, log); !errors.Is(err, roles.ErrMismatch) ||
		!strings.Contains(report.String(), "first difference: epoch "+strconv.FormatUint(epoch, 10)+": device intruder scores 2000 by its readings, but has no stored score") ||
		!strings.Contains(report.String(), "  stored root     "+got.Root.Hex()) || strings.Contains(report.String(), "recomputed root "+got.Root.Hex()) {
		t.Errorf("verify-epoch after tampering: %v\n%s", err, report.String())
	}
	t.Logf("verify-epoch after tampering:\n%s", report.String())

	after, _ := chain.TokenBalance(ctx, mustClient(t, ctx, stack), stack.Contracts.Token, stack.Contracts.Distributor)
	if paid := new(big.Int).Sub(dist, after); paid.Cmp(new(big.Int).Mul(big.NewInt(5), token)) != 0 {
		t.Errorf("distributor paid %s in all, want exactly the emission 5e18", paid)
	}
}

func mustClient(t *testing.T, ctx context.Context, s *Stack) *ethclient.Client {
	cl, err := s.Chain.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
