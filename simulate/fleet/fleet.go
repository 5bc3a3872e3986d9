// Package fleet simulates devices posting signed readings to an ingest
// endpoint: honest ones of four resource kinds, with noise, outages and
// clock drift, and devices that cheat by one labelled strategy each. Which
// device cheats, and how, is known only here: nothing in a reading says so.
package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
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
	Strategies   []Strategy     // cheats to hand out, round-robin, with their default Params; nil: Cheats
	// Variants, if set, are handed out instead of Strategies: a strategy
	// with its parameters each (a sweep hands out one per value).
	Variants []Variant
	// SeqBase is where every device's sequence numbers start (the first
	// reading has SeqBase+1). A fleet restarted on the same registry must
	// start above what it sent before, or every reading is a replay: the dev
	// stack passes the start time in milliseconds, which grows faster than
	// any device sends (at most ten readings per 2 s interval).
	SeqBase uint64
	// Center of the area the devices stand in, about 33 by 17 km; nil:
	// near Lisbon, inside one region (one 1-degree square).
	Center *pb.Location
	// Protocol is how the devices send: "http" (""), "mqtt" (each device
	// its own connection to MQTT, ingest's broker, "tcp://host:port"),
	// "grpc" (the fleet is one gateway: every device's batches go over one
	// gRPC stream to the ingest the readings are posted to), or "mixed"
	// (a third of the devices each way).
	Protocol string
	MQTT     string
}

// Protocols are the values of Config.Protocol.
var Protocols = []string{"http", "mqtt", "grpc", "mixed"}

// Device is one simulated device.
type Device struct {
	ID       string
	Kind     pb.ResourceKind
	Owner    common.Address
	Strategy Strategy
	Variant  string       // the strategy with its swept parameter, for a sweep's report
	Location *pb.Location // asserted at registration

	owner      client.Owner
	key        ed25519.PrivateKey
	wrongKey   ed25519.PrivateKey
	rng        *rand.Rand
	seq        uint64
	values     map[string]int64      // what the device measured last (counters included)
	sensor     sensor                // an honest device's physics (measure.go)
	air        *air                  // the air the fleet stands in
	params     Params                // a parameterized strategy's settings
	drift      time.Duration         // the device clock's offset, wandering by milliseconds
	outage     int                   // ticks left without sending
	history    []*pb.SignedReadingV2 // recent sent readings, for the replayer
	target     *Device               // whom a clone copies
	lastSent   *pb.Reading           // the last reading sent, for clones and witnesses
	beacon     uint64                // seq of the beacon sent this tick (hotspots), or 0
	constant   map[string]int64      // what a Constant device reports, always
	hops       int                   // a Hopper's moves
	home       *pb.Location          // where a Hopper was first registered
	tape       []map[string]int64    // loop, counterloop: the readings recorded, then looped
	pattern    []heardReport         // witnessloop: the witness reports recorded, then repeated
	program    *Device               // multikind: the site's real station; nil for the station itself
	sent       int                   // readings sent (ticks a loop has run)
	played     int                   // witnessloop: reports repeated
	lastBeacon struct {
		seq  uint64
		atMs int64
	} // a hotspot's latest beacon
	via  string       // how the device sends: http, mqtt or grpc (Config.Protocol)
	mqtt *client.MQTT // its MQTT connection, made at its first send
}

// heardReport is a witness report a witnessloop hotspot recorded.
type heardReport struct {
	beaconer  *Device
	rssi, snr int64
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
	air     *air
	// variants are the cheats as handed out, in order.
	variants []Variant

	mu     sync.Mutex
	counts map[string]*Counts
	ticks  int
	// stream carries the gRPC devices' batches, opened at the first;
	// closed by Close.
	stream       *client.Stream
	streamCancel context.CancelFunc
}

func seedKey(seed string, i int, purpose string) ed25519.PrivateKey {
	h := sha256.Sum256([]byte(fmt.Sprintf("fieldmint-fleet/%s/%s/%d", seed, purpose, i)))
	return ed25519.NewKeyFromSeed(h[:])
}

var kindNames = []string{"hotspot", "weather", "energy", "bandwidth"}

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
	var res *client.Result
	var err error
	switch d.via {
	case "mqtt":
		f.sendMQTT(ctx, d, rs)
		return
	case "grpc":
		res, err = f.sendGRPC(ctx, c.URL, rs)
	default:
		res, err = c.Send(ctx, rs)
	}
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

// sendMQTT publishes a device's readings over its MQTT connection (3.1.1,
// QoS 1) and counts them accepted once acknowledged: 3.1.1 acknowledges a
// refused reading too (docs/api.md), so a device over MQTT is counted
// refused only when ingest will not let it connect (a counterfeit, one
// denylisted).
func (f *Fleet) sendMQTT(ctx context.Context, d *Device, rs []*pb.SignedReadingV2) {
	if d.mqtt == nil {
		dev := client.NewDevice(d.ID, d.Kind, d.key)
		m, err := client.DialMQTT(ctx, dev, client.MQTTOptions{Broker: f.cfg.MQTT})
		if err != nil {
			if ctx.Err() == nil {
				f.count(d, 0, uint64(len(rs)))
			}
			return
		}
		d.mqtt = m
	}
	if err := d.mqtt.Send(ctx, rs); err != nil {
		return // ctx ended: Send publishes again until acknowledged
	}
	f.count(d, uint64(len(rs)), 0)
}

// sendGRPC sends a device's readings on the fleet's gRPC stream to url
// and waits for their acknowledgement (the stream sends them again until
// one comes, or ctx ends).
func (f *Fleet) sendGRPC(ctx context.Context, url string, rs []*pb.SignedReadingV2) (*client.Result, error) {
	f.mu.Lock()
	if f.stream == nil {
		sctx, cancel := context.WithCancel(context.Background())
		f.stream, f.streamCancel = client.NewGRPC(client.GRPCOptions{URL: url}).Stream(sctx, 0), cancel
	}
	st := f.stream
	f.mu.Unlock()
	a, err := st.Send(ctx, rs)
	if err != nil {
		return nil, err
	}
	return a.Wait(ctx)
}

// Close closes the devices' MQTT connections and the gRPC stream.
func (f *Fleet) Close() {
	f.mu.Lock()
	if f.stream != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		f.stream.Close(cctx)
		cancel()
		f.streamCancel()
		f.stream = nil
	}
	f.mu.Unlock()
	for _, d := range f.Devices {
		if d.mqtt != nil {
			d.mqtt.Close()
			d.mqtt = nil
		}
	}
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

// Labels are the fleet's variants' labels: honest first, then the cheats
// in the order they were handed out.
func (f *Fleet) Labels() []string {
	out := []string{string(Honest)}
	for _, v := range f.variants {
		out = append(out, v.Label)
	}
	return out
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
	f.air.advance(now.UnixMilli())
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
	defer f.Close()
	for {
		f.Tick(ctx, c, time.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
