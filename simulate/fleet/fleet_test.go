package fleet

import (
	"crypto/ed25519"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// testOwners are n owners with keys derived from their index.
func testOwners(n int) []client.Owner {
	out := make([]client.Owner, n)
	for i := range out {
		k, _ := crypto.ToECDSA(crypto.Keccak256([]byte{byte(i)}))
		out[i] = client.OwnerKey(k)
	}
	return out
}

func newFleet(t *testing.T, seed string) *Fleet {
	f, err := New(Config{Devices: 100, Owners: testOwners(2), Interval: 5 * time.Second, FraudPercent: 20, Seed: seed}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFleetIsDeterministicAndMixed(t *testing.T) {
	a, b, c := newFleet(t, "s"), newFleet(t, "s"), newFleet(t, "other")
	if string(a.Devices[5].key) != string(b.Devices[5].key) || string(a.Devices[5].key) == string(c.Devices[5].key) {
		t.Fatal("device keys must depend on the seed only")
	}
	count := map[Strategy]int{}
	kinds := map[pb.ResourceKind]bool{}
	for i, d := range a.Devices {
		count[d.Strategy]++
		kinds[d.Kind] = true
		if d.Strategy != b.Devices[i].Strategy || !proto.Equal(d.Location, b.Devices[i].Location) {
			t.Fatalf("%s: roles and places must depend on the seed only", d.ID)
		}
	}
	if count[Honest] != 80 || len(count) != len(Cheats)+1 || len(kinds) != 4 {
		t.Fatalf("strategies %v, kinds %v: want 80 honest, every cheat present, 4 kinds", count, kinds)
	}
	for _, d := range a.Devices {
		if d.Strategy == Clone && (d.target == nil || d.target.Strategy != Honest || d.target.Kind != d.Kind) {
			t.Fatalf("%s: a clone needs an honest target of its kind", d.ID)
		}
	}
}

// TestStrategiesCheatAsLabelled runs every device for 30 ticks (two phases
// each, as Tick does) and checks that each strategy does what its label
// says, and that honest devices keep to what the validators expect.
func TestStrategiesCheatAsLabelled(t *testing.T) {
	f := newFleet(t, "s")
	now := time.Now()
	sent := map[*Device][]*pb.SignedReading{}
	for tick := range 30 {
		at := now.Add(time.Duration(tick) * 5 * time.Second)
		var beacons []*Device
		for _, d := range f.Devices {
			rs, err := d.readings(at)
			if err != nil {
				t.Fatal(err)
			}
			sent[d] = append(sent[d], decodeAll(t, rs)...)
			if d.beacon != 0 {
				beacons = append(beacons, d)
			}
		}
		for _, d := range f.Devices {
			rs, err := f.later(d, at, beacons)
			if err != nil {
				t.Fatal(err)
			}
			sent[d] = append(sent[d], decodeAll(t, rs)...)
		}
	}
	witnesses := 0
	for _, d := range f.Devices {
		rs := sent[d]
		pub := d.key.Public().(ed25519.PublicKey)
		if len(rs) == 0 {
			t.Fatalf("%s (%s) sent nothing in 30 ticks", d.ID, d.Strategy)
		}
		last := rs[len(rs)-1]
		switch d.Strategy {
		case Forge:
			if verifyV2(last, pub) == nil {
				t.Errorf("%s: a forger's reading verifies under its registered key", d.ID)
			}
			continue
		case Clock:
			if skew := last.Reading.EventTimeMs - now.UnixMilli() - 29*5000; skew < 9*60_000 {
				t.Errorf("%s: clock cheat ahead by only %d ms", d.ID, skew)
			}
		case Replay:
			replayed := false
			for i := 1; i < len(rs); i++ {
				replayed = replayed || rs[i].Reading.Seq <= rs[i-1].Reading.Seq
			}
			if !replayed {
				t.Errorf("%s: replayer never replayed", d.ID)
			}
		case Flood:
			if len(rs) < 200 {
				t.Errorf("%s: a flooder sent only %d readings in 30 ticks", d.ID, len(rs))
			}
		case Spoof:
			if distanceM(last.Reading.Location, d.Location) < 4_000 {
				t.Errorf("%s: a spoofer reports from its registered place", d.ID)
			}
		case Clone:
			if !equalMeasurements(last.Reading.Measurements, d.target.lastSent.Measurements) {
				t.Errorf("%s: a clone's reading differs from its target's", d.ID)
			}
		case Witness:
			if last.Reading.Witness == nil {
				t.Errorf("%s: a fake witness reported no witness", d.ID)
			}
		case Constant:
			if !equalMeasurements(rs[0].Reading.Measurements, last.Reading.Measurements) {
				t.Errorf("%s: constant data changed", d.ID)
			}
		case Honest:
			for i := 1; i < len(rs); i++ {
				if rs[i].Reading.Seq <= rs[i-1].Reading.Seq || rs[i].Reading.EventTimeMs-rs[i-1].Reading.EventTimeMs < 1000 {
					t.Fatalf("%s: honest readings %d and %d: sequence must increase, event times 1 s apart at least", d.ID, i-1, i)
				}
				if equalMeasurements(rs[i].Reading.Measurements, rs[i-1].Reading.Measurements) && rs[i].Reading.Witness == nil {
					t.Fatalf("%s: an honest sensor repeated its values exactly", d.ID)
				}
			}
			for _, r := range rs {
				if r.Reading.Witness != nil {
					witnesses++
				}
			}
		}
		if err := verifyV2(last, pub); err != nil {
			t.Errorf("%s (%s): %v", d.ID, d.Strategy, err)
		}
	}
	if witnesses == 0 {
		t.Error("no honest hotspot heard a beacon in 30 ticks")
	}
}

func equalMeasurements(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// decodeAll turns v2 signed readings into v1's shape (the reading decoded,
// the same signature), for the checks to read; verifyV2 verifies them as
// the v2 readings they were.
func decodeAll(t *testing.T, rs []*pb.SignedReadingV2) []*pb.SignedReading {
	t.Helper()
	out := make([]*pb.SignedReading, len(rs))
	for i, s := range rs {
		r := &pb.Reading{}
		if err := proto.Unmarshal(s.Reading, r); err != nil {
			t.Fatal(err)
		}
		out[i] = &pb.SignedReading{Reading: r, Signature: s.Signature}
	}
	return out
}

func verifyV2(s *pb.SignedReading, pub ed25519.PublicKey) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(s.Reading)
	if err != nil {
		return err
	}
	return pb.VerifyV2(&pb.SignedReadingV2{Reading: b, Signature: s.Signature}, pub)
}
