package loadgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// A fleet load sends fresh readings, each once, from a fleet that looks like
// a real one to the validators: weather stations, energy meters and
// bandwidth nodes, four to a 1-degree square (each in a cell of its own),
// reporting once a second of event time with values that move as sensors'
// do, no two devices alike. Mostly valid: 1 reading in 200 is out of its
// kind's range (the validators reject it, and it is stored as rejected) and
// 1 in 200 carries a broken signature (ingest refuses it: never acknowledged).

// FleetKinds are the kinds of a fleet's devices, in turn.
var FleetKinds = []pb.ResourceKind{pb.ResourceKind_RESOURCE_KIND_WEATHER, pb.ResourceKind_RESOURCE_KIND_ENERGY, pb.ResourceKind_RESOURCE_KIND_BANDWIDTH}

// MaxEventSpan is how far a device's readings may spread in event time: they
// are dated from this long before the start, a second apart, and the
// validators refuse readings more than an hour old or ahead of the clock.
const MaxEventSpan = 30 * time.Minute

// fleetDevice is device d's registration.
func fleetDevice(d int, pub ed25519.PublicKey) *pb.Device {
	region, slot := d/4, d%4
	lat := int32(-60+(region/360)%120)*10_000_000 + 5_000_000 + int32(slot)*1_000_000
	lon := int32(-180+region%360)*10_000_000 + 5_000_000
	return &pb.Device{DeviceId: fleetID(d), PublicKey: pub, Kind: FleetKinds[d%len(FleetKinds)], Location: &pb.Location{LatE7: lat, LonE7: lon}}
}

func fleetID(d int) string { return fmt.Sprintf("fleet-%06d", d) }

// fleetReading is device d's k-th reading, dated t0 + k seconds. Two of
// each kind's measurements sit in buckets of the validators' clone grid
// that only device d uses (and wobble inside them), so no two devices look
// cloned, as no two real sensors report the same values for long; the
// third moves freely.
func fleetReading(d, k int, t0 int64) *pb.Reading {
	dev := fleetDevice(d, nil)
	wave := int64(k % 10)
	in := func(bucket, step int64) int64 { return bucket*step + step/5 + wave*step/50 } // inside the bucket, below its middle
	var m map[string]int64
	switch id := int64(d); dev.Kind {
	case pb.ResourceKind_RESOURCE_KIND_WEATHER:
		m = map[string]int64{"humidity_pct": in(id%100, 1000), "pressure_hpa": in(9000+(id/100)%1800, 100), "temperature_c": -10_000 + id%300*100 + wave*150}
	case pb.ResourceKind_RESOURCE_KIND_ENERGY:
		m = map[string]int64{"voltage_v": in(100+id%300, 1000), "power_w": in(10+(id/300)%4000, 10_000), "energy_wh": int64(k) * 150}
	default:
		m = map[string]int64{"throughput_mbps": in(10+id%10_000, 1000), "latency_ms": in(5+(id/10_000)%1000, 1000), "served_gb": int64(k) * 20}
	}
	if (d*31+k)%200 == 0 {
		for name := range m { // out of range for every kind
			m[name] = -1_000_000_000
			break
		}
	}
	return &pb.Reading{DeviceId: dev.DeviceId, Seq: uint64(k + 1), EventTimeMs: t0 + int64(k)*1000 + int64(d%1000), Kind: dev.Kind, Measurements: m}
}

// PrepareFleet registers o.Devices fleet devices (owned by 100 owners) and
// signs readings fresh readings (wire format v2), o.Batch to a request, for
// Run to send each once, in order: every device's k-th reading before any
// device's next. progress, if set, hears how the signing goes.
func PrepareFleet(ctx context.Context, o Options, readings int, progress func(signed int)) (*Load, error) {
	if o.Devices < 10 || o.Batch < 1 || o.Clients < 1 || readings < 1 {
		return nil, errors.New("loadgen: need at least 10 devices, 1 reading per batch, 1 client and 1 reading")
	}
	// A device's next reading is Devices readings after its last one, in
	// other requests: far enough that the requests in flight at once never
	// hold two of a device's readings, which could arrive out of order
	// (the validators would call the later one a replay).
	if o.Devices < 4*o.Batch*o.Clients {
		return nil, fmt.Errorf("loadgen: %d devices is too few for %d clients sending %d readings a request: a device's readings could overtake each other; use at least %d devices",
			o.Devices, o.Clients, o.Batch, 4*o.Batch*o.Clients)
	}
	perDevice := (readings + o.Devices - 1) / o.Devices
	if span := time.Duration(perDevice) * time.Second; span > MaxEventSpan {
		return nil, fmt.Errorf("loadgen: %d readings from %d devices is %d a device, %s of event time at one a second; the validators take at most %s: use at least %d devices",
			readings, o.Devices, perDevice, span, MaxEventSpan, readings/int(MaxEventSpan/time.Second)+1)
	}
	if o.Admin != nil {
		c := &client.Client{URL: o.URL, Network: o.Network}
		if err := c.AddMaker(ctx, o.Maker.ID, "loadgen maker", o.Maker.Key.Public().(ed25519.PublicKey), client.OwnerKey(o.Admin)); err != nil {
			return nil, fmt.Errorf("loadgen: register the maker: %w", err)
		}
	}
	owners := make([]*ecdsa.PrivateKey, 100)
	for i := range owners {
		owners[i], _ = crypto.GenerateKey()
	}
	keys := make([]ed25519.PrivateKey, o.Devices)
	c := &client.Client{URL: o.URL, Network: o.Network}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for d := range keys {
		_, keys[d], _ = ed25519.GenerateKey(nil)
		dev := fleetDevice(d, keys[d].Public().(ed25519.PublicKey))
		g.Go(func() error {
			return c.Register(gctx, dev, keys[d], o.Maker.Attest(dev.PublicKey, dev.Kind), client.OwnerKey(owners[d%len(owners)]))
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("loadgen: register the fleet: %w", err)
	}

	t0 := time.Now().Add(-MaxEventSpan).UnixMilli()
	l := &Load{opts: o, once: true, http: newHTTP(o.Clients)}
	n := (readings + o.Batch - 1) / o.Batch
	l.bodies, l.readings, l.sizes = make([][]byte, n), make([]int, n), make([]int, n)
	var signed atomic64
	sg, _ := errgroup.WithContext(ctx)
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		sg.Go(func() error {
			for j := w; j < n; j += workers {
				var batch pb.ReadingBatchV2
				for i := j * o.Batch; i < min((j+1)*o.Batch, readings); i++ {
					d, k := i%o.Devices, i/o.Devices
					body, err := proto.MarshalOptions{Deterministic: true}.Marshal(fleetReading(d, k, t0))
					if err != nil {
						return err
					}
					// curve25519-voi signs in two thirds of crypto/ed25519's
					// time, and the signing is the preparation's cost.
					sig := voi.Sign(voi.PrivateKey(keys[d]), pb.SignedBytesV2(body))
					if (d*17+k)%200 == 1 {
						sig[0] ^= 1 // refused by ingest
					} else {
						l.readings[j]++
					}
					batch.Readings = append(batch.Readings, &pb.SignedReadingV2{Reading: body, Signature: sig})
				}
				b, err := proto.Marshal(&batch)
				if err != nil {
					return err
				}
				l.bodies[j], l.sizes[j] = b, len(batch.Readings)
				if s := signed.add(len(batch.Readings)); progress != nil && s/100_000 != (s-len(batch.Readings))/100_000 {
					progress(s)
				}
			}
			return ctx.Err()
		})
	}
	if err := sg.Wait(); err != nil {
		return nil, err
	}
	return l, nil
}
