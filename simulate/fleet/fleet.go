// Package fleet simulates devices posting signed readings to an ingest
// endpoint: honest ones of four resource kinds, with noise, outages and
// clock drift, and devices that cheat by one labelled strategy each. Which
// device cheats, and how, is known only here: nothing in a reading says so.
package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/ingest"
	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Config of a fleet.
type Config struct {
	Devices      int            // number of devices
	Owners       []client.Owner // owners (they sign the registrations), assigned round-robin
	Maker        client.Maker   // the maker that attests the devices
	Interval     time.Duration  // time between a device's readings
	FraudPercent int            // share of devices that cheat, 0-100
	Seed         string         // keys, places and roles derive from it: the same seed gives the same fleet
	Concurrency  int            // parallel HTTP requests; 0: 16
	Strategies   []Strategy     // cheats to hand out, round-robin; nil: Cheats
	// SeqBase is where every device's sequence numbers start (the first
	// reading has SeqBase+1). A fleet restarted on the same registry must
	// start above what it sent before, or every reading is a replay: the dev
	// stack passes the start time in milliseconds, which grows faster than
	// any device sends (at most ten readings per 2 s interval).
	SeqBase uint64
	// Center of the area the devices stand in, about 33 by 17 km; nil:
	// near Lisbon, inside one region (one 1-degree square).
	Center *pb.Location
}

// Device is one simulated device.
type Device struct {
	ID       string
	Kind     pb.ResourceKind
	Owner    common.Address
	Strategy Strategy
	Location *pb.Location // asserted at registration

	owner    client.Owner
	key      ed25519.PrivateKey
	wrongKey ed25519.PrivateKey
	rng      *rand.Rand
	seq      uint64
	values   map[string]int64      // the random walk of an honest device's measurements
	drift    time.Duration         // the device clock's offset, wandering by milliseconds
	outage   int                   // ticks left without sending
	history  []*pb.SignedReadingV2 // recent sent readings, for the replayer
	target   *Device               // whom a clone copies
	lastSent *pb.Reading           // the last reading sent, for clones and witnesses
	beacon   uint64                // seq of the beacon sent this tick (hotspots), or 0
	constant map[string]int64      // what a Constant device reports, always
	hops     int                   // a Hopper's moves
	countMs  int64                 // when the counters last moved
	home     *pb.Location          // where a Hopper was first registered
}

// Stats counts what the fleet sent and how ingest answered.
type Stats struct {
	Sent     atomic.Uint64 // readings accepted by ingest
	Refused  atomic.Uint64 // readings ingest refused (4xx, or rejected in a 200 batch)
	Failures atomic.Uint64 // requests that failed after retries (5xx, transport)
}

// Counts is what one device sent, as ingest answered.
type Counts struct {
	Accepted, Refused uint64
}

// Fleet is a set of simulated devices.
type Fleet struct {
	cfg     Config
	Devices []*Device
	Stats   Stats
	log     *slog.Logger

	mu     sync.Mutex
	counts map[string]*Counts
	ticks  int
}

func seedKey(seed string, i int, purpose string) ed25519.PrivateKey {
	h := sha256.Sum256([]byte(fmt.Sprintf("fieldmint-fleet/%s/%s/%d", seed, purpose, i)))
	return ed25519.NewKeyFromSeed(h[:])
}

var kindNames = []string{"hotspot", "weather", "energy", "bandwidth"}

// New builds the fleet deterministically from cfg.
func New(cfg Config, log *slog.Logger) (*Fleet, error) {
	if cfg.Devices <= 0 || len(cfg.Owners) == 0 || cfg.Interval < 2*time.Second || cfg.FraudPercent < 0 || cfg.FraudPercent > 100 {
		return nil, errors.New("fleet: devices and owners are required, an interval of 2s or more (hotspots report witnesses half way between readings, and validators want 1s between a device's readings), fraudPercent 0-100")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if cfg.Strategies == nil {
		cfg.Strategies = Cheats
	}
	center := cfg.Center
	if center == nil {
		center = &pb.Location{LatE7: 387_200_000, LonE7: -91_400_000}
	}
	f := &Fleet{cfg: cfg, log: log, counts: map[string]*Counts{}}
	cheaters := cfg.Devices * cfg.FraudPercent / 100
	every := 0
	if cheaters > 0 {
		every = cfg.Devices / cheaters
	}
	cheats := 0
	var sybilHome *pb.Location
	sybils, borders := 0, 0
	for i := 0; i < cfg.Devices; i++ {
		key := seedKey(cfg.Seed, i, "device")
		h := sha256.Sum256(key)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(h[:8]), binary.LittleEndian.Uint64(h[8:16])))
		d := &Device{
			Kind:     pb.ResourceKind(1 + rng.IntN(4)),
			owner:    cfg.Owners[i%len(cfg.Owners)],
			key:      key,
			wrongKey: seedKey(cfg.Seed, i, "wrong"),
			rng:      rng,
			seq:      cfg.SeqBase,
			Strategy: Honest,
			drift:    time.Duration(rng.IntN(4000)-2000) * time.Millisecond,
			// Within about 17 km north-south and 8 km east-west of the centre.
			Location: &pb.Location{LatE7: center.LatE7 + int32(rng.IntN(3_000_000)) - 1_500_000, LonE7: center.LonE7 + int32(rng.IntN(1_800_000)) - 900_000},
		}
		if every > 0 && i%every == every-1 && cheats < cheaters {
			d.Strategy = cfg.Strategies[cheats%len(cfg.Strategies)]
			cheats++
		}
		switch d.Strategy {
		case Witness:
			d.Kind = pb.ResourceKind_RESOURCE_KIND_HOTSPOT
		case Sybil:
			// Sybils come four to a spot: this one and three more like it.
			d.Kind = pb.ResourceKind_RESOURCE_KIND_WEATHER
			if sybils%4 == 0 {
				sybilHome = d.Location
			}
			d.Location = &pb.Location{LatE7: sybilHome.LatE7 + int32(sybils%4)*200, LonE7: sybilHome.LonE7}
			sybils++
		case Border:
			// Pairs: 55 m south and north of the nearest whole degree of
			// latitude north of the area, a kilometre apart from the next pair.
			d.Kind = pb.ResourceKind_RESOURCE_KIND_WEATHER
			border := (center.LatE7/10_000_000 + 1) * 10_000_000
			d.Location = &pb.Location{LatE7: border - 5_000 + int32(borders%2)*10_000, LonE7: center.LonE7 + int32(borders/2)*120_000}
			borders++
		}
		d.Owner, d.home = d.owner.Address(), d.Location
		d.ID = fmt.Sprintf("%s-%04d", kindNames[d.Kind-1], i)
		d.values = d.baseline()
		d.constant = maps.Clone(d.values)
		f.Devices = append(f.Devices, d)
	}
	// Clones copy an honest device, of its kind, standing 2 km from it.
	var honest []*Device
	for _, d := range f.Devices {
		if d.Strategy == Honest {
			honest = append(honest, d)
		}
	}
	for i, d := range f.Devices {
		if d.Strategy != Clone || len(honest) == 0 {
			continue
		}
		t := honest[d.rng.IntN(len(honest))]
		d.target, d.Kind = t, t.Kind
		d.ID = fmt.Sprintf("%s-%04d", kindNames[d.Kind-1], i)
		d.values = d.baseline()
		d.Location = &pb.Location{LatE7: t.Location.LatE7 + 180_000, LonE7: t.Location.LonE7}
	}
	return f, nil
}

// Register registers every device (idempotent: a restart registers again).
// A counterfeit's registration is refused, as it should be: that is
// counted, not an error.
func (f *Fleet) Register(ctx context.Context, c *client.Client) error {
	return f.each(ctx, f.Devices, func(d *Device) error {
		pub := d.key.Public().(ed25519.PublicKey)
		maker := f.cfg.Maker
		if d.Strategy == Counterfeit {
			maker = client.Maker{ID: f.cfg.Maker.ID, Key: d.wrongKey}
		}
		err := c.Register(ctx, &pb.Device{DeviceId: d.ID, PublicKey: pub, Kind: d.Kind, Location: d.Location}, d.key, maker.Attest(pub, d.Kind), d.owner)
		var refused *client.Error
		switch {
		case d.Strategy == Counterfeit && errors.As(err, &refused) && !refused.Retryable():
			f.count(d, 0, 1)
			return nil
		case errors.As(err, &refused) && refused.Code == ingest.CodeMovedTooSoon:
			// A hopper that moved in a previous run is registered where it
			// moved to: registering it at home again is a second move within
			// ingest.minMoveInterval, refused, and the device goes on from
			// where the registry has it.
			return nil
		}
		return err
	})
}

func (f *Fleet) each(ctx context.Context, devices []*Device, fn func(*Device) error) error {
	sem := make(chan struct{}, f.cfg.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, d := range devices {
		if ctx.Err() != nil {
			break
		}
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
	}
	wg.Wait()
	return first
}

// send posts a device's readings and counts the answers.
func (f *Fleet) send(ctx context.Context, c *client.Client, d *Device, rs []*pb.SignedReadingV2) {
	if len(rs) == 0 {
		return
	}
	res, err := c.Send(ctx, rs)
	var refused *client.Error
	accepted, rejected := uint64(0), uint64(0)
	switch {
	case err == nil:
		accepted, rejected = uint64(res.Accepted), uint64(res.Rejected)
	case errors.As(err, &refused) && !refused.Retryable():
		rejected = uint64(len(rs))
	case ctx.Err() == nil:
		f.Stats.Failures.Add(1)
		f.log.Warn("fleet: send failed", "device", d.ID, "err", err)
		return
	default:
		return
	}
	f.count(d, accepted, rejected)
}

// count records what ingest accepted and refused of a device's requests.
func (f *Fleet) count(d *Device, accepted, rejected uint64) {
	f.Stats.Sent.Add(accepted)
	f.Stats.Refused.Add(rejected)
	f.mu.Lock()
	cnt := f.counts[d.ID]
	if cnt == nil {
		cnt = &Counts{}
		f.counts[d.ID] = cnt
	}
	cnt.Accepted += accepted
	cnt.Refused += rejected
	f.mu.Unlock()
}

// Counts returns what each device sent so far, as ingest answered.
func (f *Fleet) Counts() map[string]Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Counts, len(f.counts))
	for k, v := range f.counts {
		out[k] = *v
	}
	return out
}

// Tick sends one round: every device's readings, then the clones' copies
// and the hotspots' witness reports. Every third round, hoppers with
// readings to replay first move their asserted location to another region.
func (f *Fleet) Tick(ctx context.Context, c *client.Client, now time.Time) {
	if f.ticks++; f.ticks%3 == 0 {
		f.each(ctx, f.Devices, func(d *Device) error { return f.hop(ctx, c, d) })
	}
	f.each(ctx, f.Devices, func(d *Device) error {
		rs, err := d.readings(now)
		if err != nil {
			return err
		}
		f.send(ctx, c, d, rs)
		return nil
	})
	var beacons []*Device
	for _, d := range f.Devices {
		if d.beacon != 0 {
			beacons = append(beacons, d)
		}
	}
	f.each(ctx, f.Devices, func(d *Device) error {
		rs, err := f.later(d, now, beacons)
		if err != nil {
			return err
		}
		f.send(ctx, c, d, rs)
		return nil
	})
}

// hop moves a Hopper's asserted location a degree and a tenth north of
// home, or back: another region, so another partition of the validators.
func (f *Fleet) hop(ctx context.Context, c *client.Client, d *Device) error {
	if d.Strategy != Hopper || len(d.history) < 3 {
		return nil
	}
	d.hops++
	d.Location = &pb.Location{LatE7: d.home.LatE7 + int32(d.hops%2)*11_000_000, LonE7: d.home.LonE7}
	pub := d.key.Public().(ed25519.PublicKey)
	err := c.Register(ctx, &pb.Device{DeviceId: d.ID, PublicKey: pub, Kind: d.Kind, Location: d.Location}, d.key, f.cfg.Maker.Attest(pub, d.Kind), d.owner)
	var refused *client.Error
	if errors.As(err, &refused) && !refused.Retryable() {
		f.count(d, 0, 1) // MOVED_TOO_SOON, as it should be
	}
	return nil
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
