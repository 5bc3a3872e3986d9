package fleet

import (
	"crypto/ed25519"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

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
	f, err := New(Config{Devices: 100, Owners: testOwners(2), Interval: time.Second, FraudPercent: 20, Seed: seed}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	count := map[Behavior]int{}
	kinds := map[pb.ResourceKind]bool{}
	for _, d := range a.Devices {
		count[d.Behavior]++
		kinds[d.Kind] = true
	}
	if count[Honest] != 80 || len(count) != int(numBehaviors) || len(kinds) != 4 {
		t.Fatalf("behaviors %v, kinds %v: want 80 honest, every cheat present, 4 kinds", count, kinds)
	}
}

func TestBehaviorsCheatAsLabeled(t *testing.T) {
	f := newFleet(t, "s")
	now := time.Now()
	for _, d := range f.Devices {
		var readings []*pb.SignedReading
		for i := 0; i < 12; i++ {
			s, err := d.next(now.Add(time.Duration(i) * time.Second))
			if err != nil {
				t.Fatal(err)
			}
			readings = append(readings, s)
		}
		pub := d.key.Public().(ed25519.PublicKey)
		last := readings[len(readings)-1]
		switch d.Behavior {
		case Forger:
			if pb.Verify(last, pub) == nil {
				t.Errorf("%s: forger's reading verifies under its registered key", d.ID)
			}
		case ClockCheat:
			if skew := last.Reading.EventTimeMs - int64(last.Reading.Seq); skew != (10 * time.Minute).Milliseconds() {
				t.Errorf("%s: clock cheat skew %d ms", d.ID, skew)
			}
		case Replayer:
			replayed := false
			for i := 1; i < len(readings); i++ {
				if readings[i].Reading.Seq <= readings[i-1].Reading.Seq {
					replayed = true
				}
			}
			if !replayed {
				t.Errorf("%s: replayer never replayed in 12 readings", d.ID)
			}
		default:
			if err := pb.Verify(last, pub); err != nil {
				t.Errorf("%s (%s): %v", d.ID, d.Behavior, err)
			}
			if d.Behavior == Honest {
				for i := 1; i < len(readings); i++ {
					if readings[i].Reading.Seq <= readings[i-1].Reading.Seq {
						t.Fatalf("%s: honest device's sequence does not increase", d.ID)
					}
				}
			}
		}
	}
}
