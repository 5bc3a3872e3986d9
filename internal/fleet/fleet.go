// Package fleet simulates devices posting signed readings to an ingest
// endpoint: honest ones of every resource kind, and some that cheat. Which
// device cheats, and how, is known only here; nothing in a reading says so.
package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Behavior is what a simulated device does.
type Behavior int

// Behaviors. Honest devices have noise in their values; the others cheat one way each.
const (
	Honest     Behavior = iota
	Replayer            // re-sends an older signed reading now and then
	ClockCheat          // claims event times ten minutes in the future
	Inflator            // reports physically impossible values
	Forger              // signs with a key that is not its registered one
	numBehaviors
)

func (b Behavior) String() string {
	return [...]string{"honest", "replayer", "clock-cheat", "inflator", "forger"}[b]
}

// Config of a fleet.
type Config struct {
	Devices      int            // number of devices
	Owners       []client.Owner // owners (they sign the registrations), assigned round-robin
	Interval     time.Duration  // time between a device's readings
	FraudPercent int            // share of devices that cheat, 0-100
	Seed         string         // device keys derive from it: the same seed gives the same fleet
	Concurrency  int            // parallel HTTP requests; 0: 16
}

// Device is one simulated device.
type Device struct {
	ID       string
	Kind     pb.ResourceKind
	Owner    common.Address
	owner    client.Owner
	Behavior Behavior
	Location *pb.Location
	key      ed25519.PrivateKey
	wrongKey ed25519.PrivateKey
	history  []*pb.SignedReading // recent sent readings, for the replayer
	rng      *rand.Rand
}

// Stats counts what the fleet sent and how ingest answered.
type Stats struct {
	Sent     atomic.Uint64 // readings answered 2xx
	Refused  atomic.Uint64 // readings answered 4xx
	Failures atomic.Uint64 // requests that failed after retries (5xx, transport)
}

// Fleet is a set of simulated devices.
type Fleet struct {
	cfg     Config
	Devices []*Device
	Stats   Stats
	log     *slog.Logger
}

func seedKey(seed string, i int, purpose string) ed25519.PrivateKey {
	h := sha256.Sum256([]byte(fmt.Sprintf("fieldmint-fleet/%s/%s/%d", seed, purpose, i)))
	return ed25519.NewKeyFromSeed(h[:])
}

// New builds the fleet deterministically from cfg.
func New(cfg Config, log *slog.Logger) (*Fleet, error) {
	if cfg.Devices <= 0 || len(cfg.Owners) == 0 || cfg.Interval <= 0 || cfg.FraudPercent < 0 || cfg.FraudPercent > 100 {
		return nil, errors.New("fleet: devices, owners and interval are required; fraudPercent is 0-100")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	f := &Fleet{cfg: cfg, log: log}
	fraudEvery := 0
	if cfg.FraudPercent > 0 {
		fraudEvery = 100 / cfg.FraudPercent
	}
	cheats := 0
	for i := 0; i < cfg.Devices; i++ {
		key := seedKey(cfg.Seed, i, "device")
		h := sha256.Sum256(key)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
		d := &Device{
			ID:       fmt.Sprintf("%s-%04d", []string{"hotspot", "weather", "energy", "bandwidth"}[i%4], i),
			Kind:     pb.ResourceKind(1 + i%4),
			Owner:    cfg.Owners[i%len(cfg.Owners)].Address(),
			owner:    cfg.Owners[i%len(cfg.Owners)],
			key:      key,
			wrongKey: seedKey(cfg.Seed, i, "wrong"),
			rng:      rng,
			// Around Lisbon, within about 20 km.
			Location: &pb.Location{LatE7: 387_223_000 + int32(rng.IntN(3_600_000)) - 1_800_000, LonE7: -91_393_000 + int32(rng.IntN(4_600_000)) - 2_300_000},
		}
		if fraudEvery > 0 && i%fraudEvery == fraudEvery-1 {
			d.Behavior = Behavior(1 + cheats%int(numBehaviors-1))
			cheats++
		}
		f.Devices = append(f.Devices, d)
	}
	return f, nil
}

// Register registers every device (idempotent: a restart registers again).
func (f *Fleet) Register(ctx context.Context, c *client.Client) error {
	return f.each(ctx, func(d *Device) error {
		return c.Register(ctx, &pb.Device{DeviceId: d.ID, PublicKey: d.key.Public().(ed25519.PublicKey), Kind: d.Kind, Location: d.Location}, d.key, d.owner)
	})
}

func (f *Fleet) each(ctx context.Context, fn func(*Device) error) error {
	sem := make(chan struct{}, f.cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, d := range f.Devices {
		sem <- struct{}{}
		wg.Add(1)
		go func(d *Device) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(d); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("%s: %w", d.ID, err)
				}
				mu.Unlock()
			}
		}(d)
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	return first
}

// measurements returns plausible values of a kind, with noise.
func (d *Device) measurements(t time.Time) map[string]int64 {
	n := func(center, spread int64) int64 { return center + d.rng.Int64N(2*spread+1) - spread }
	hour := int64(t.Hour())
	switch d.Kind {
	case pb.ResourceKind_RESOURCE_KIND_HOTSPOT:
		return map[string]int64{"rssi_dbm": n(-85_000, 15_000), "snr_db": n(8_000, 6_000), "beacons": n(30, 10)}
	case pb.ResourceKind_RESOURCE_KIND_WEATHER:
		return map[string]int64{"temperature_c": n(12_000+hour*500, 2_000), "humidity_pct": n(65_000, 15_000), "pressure_hpa": n(1_013_000, 8_000)}
	case pb.ResourceKind_RESOURCE_KIND_ENERGY:
		return map[string]int64{"power_w": n(2_500_000, 1_500_000), "voltage_v": n(230_000, 5_000)}
	default:
		return map[string]int64{"throughput_mbps": n(250_000, 200_000), "latency_ms": n(35_000, 25_000)}
	}
}

// next builds the device's reading for time t.
func (d *Device) next(t time.Time) (*pb.SignedReading, error) {
	if d.Behavior == Replayer && len(d.history) >= 3 && d.rng.IntN(2) == 0 {
		return d.history[d.rng.IntN(len(d.history)-1)], nil // an older reading, again
	}
	r := &pb.Reading{DeviceId: d.ID, Seq: uint64(t.UnixMilli()), EventTimeMs: t.UnixMilli(), Kind: d.Kind, Measurements: d.measurements(t), Location: d.Location}
	key := d.key
	switch d.Behavior {
	case ClockCheat:
		r.EventTimeMs += (10 * time.Minute).Milliseconds()
	case Inflator:
		for k := range r.Measurements {
			r.Measurements[k] = 1 << 40
		}
	case Forger:
		key = d.wrongKey
	}
	s, err := pb.Sign(r, key)
	if err != nil {
		return nil, err
	}
	d.history = append(d.history, s)
	if len(d.history) > 8 {
		d.history = d.history[1:]
	}
	return s, nil
}

// Tick sends one reading of every device.
func (f *Fleet) Tick(ctx context.Context, c *client.Client, now time.Time) {
	f.each(ctx, func(d *Device) error {
		s, err := d.next(now)
		if err != nil {
			return err
		}
		_, err = c.Send(ctx, []*pb.SignedReading{s})
		var refused *client.Error
		switch {
		case err == nil:
			f.Stats.Sent.Add(1)
		case errors.As(err, &refused) && !refused.Retryable():
			f.Stats.Refused.Add(1)
		case ctx.Err() == nil:
			f.Stats.Failures.Add(1)
			f.log.Warn("fleet: send failed", "device", d.ID, "err", err)
		}
		return nil
	})
}

// Run sends readings every interval until ctx ends.
func (f *Fleet) Run(ctx context.Context, c *client.Client) error {
	t := time.NewTicker(f.cfg.Interval)
	defer t.Stop()
	for {
		f.Tick(ctx, c, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
