package fleet

import (
	"crypto/ed25519"
	"io"
	"log/slog"
	"maps"
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
	f, err := New(Config{Devices: 120, Owners: testOwners(2), Interval: 5 * time.Second, FraudPercent: 20, Seed: seed}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	if count[Honest] != 96 || len(count) != len(Cheats)+1 || len(kinds) != 4 {
		t.Fatalf("strategies %v, kinds %v: want 96 honest, every cheat present, 4 kinds", count, kinds)
	}
	for _, d := range a.Devices {
		if d.Strategy == Clone && (d.target == nil || d.target.Strategy != Honest || d.target.Kind != d.Kind) {
			t.Fatalf("%s: a clone needs an honest target of its kind", d.ID)
		}
	}
}

// TestStrategiesCheatAsLabelled runs every device for 60 ticks (two phases
// each, as Tick does; the loops record 36) and checks that each strategy does what its label
// says, and that honest devices keep to what the validators expect.
func TestStrategiesCheatAsLabelled(t *testing.T) {
	f := newFleet(t, "s")
	now := time.Now()
	sent := map[*Device][]*pb.SignedReading{}
	const ticks = 60
	for tick := range ticks {
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
			t.Fatalf("%s (%s) sent nothing in %d ticks", d.ID, d.Strategy, ticks)
		}
		last := rs[len(rs)-1]
		switch d.Strategy {
		case Forge:
			if verifyV2(last, pub) == nil {
				t.Errorf("%s: a forger's reading verifies under its registered key", d.ID)
			}
			continue
		case Clock:
			if skew := last.Reading.EventTimeMs - now.UnixMilli() - (ticks-1)*5000; skew < 9*60_000 {
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
			if len(rs) < 7*ticks {
				t.Errorf("%s: a flooder sent only %d readings in %d ticks", d.ID, len(rs), ticks)
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
		case NearCopy, CounterCopy:
			checkCopy(t, d, last.Reading)
		case Loop, CounterLoop:
			checkLoop(t, d, rs)
		case WitnessLoop:
			checkWitnessLoop(t, d, rs)
		case MultiKind:
			if d.program != nil && (d.Owner != d.program.Owner || distanceM(d.Location, d.program.Location) > 10) {
				t.Errorf("%s: a site's identity must be its station's owner's, at its spot", d.ID)
			}
		case Honest:
			witnesses += checkHonest(t, d, rs)
		}
		if err := verifyV2(last, pub); err != nil {
			t.Errorf("%s (%s): %v", d.ID, d.Strategy, err)
		}
	}
	if witnesses == 0 {
		t.Errorf("no honest hotspot heard a beacon in %d ticks", ticks)
	}
	// A site's identities share one clock; its station keeps its own.
	sites := map[*Device][]int64{}
	for _, d := range f.Devices {
		if d.Strategy == MultiKind && d.program != nil {
			rs := sent[d]
			sites[d.program] = append(sites[d.program], rs[len(rs)-1].Reading.EventTimeMs)
		}
	}
	for station, times := range sites {
		st := sent[station]
		if len(times) != 3 || times[0] != times[1] || times[1] != times[2] || times[0] == st[len(st)-1].Reading.EventTimeMs {
			t.Errorf("site of %s: its identities' last times %v (want three, equal), its own %d", station.ID, times, st[len(st)-1].Reading.EventTimeMs)
		}
	}
}

// checkHonest: an honest device's sequence increases, its readings are a
// second apart at least, and it never repeats its values four times in a
// row (a sensor rounding to its resolution reads what it read before now
// and then; never for long: STUCK_SENSOR). It returns the witness reports.
func checkHonest(t *testing.T, d *Device, rs []*pb.SignedReading) (witnesses int) {
	t.Helper()
	same := 0 // readings in a row with the values of the one before
	for i := 1; i < len(rs); i++ {
		if rs[i].Reading.Seq <= rs[i-1].Reading.Seq || rs[i].Reading.EventTimeMs-rs[i-1].Reading.EventTimeMs < 1000 {
			t.Fatalf("%s: honest readings %d and %d: sequence must increase, event times 1 s apart at least", d.ID, i-1, i)
		}
		if equalMeasurements(rs[i].Reading.Measurements, rs[i-1].Reading.Measurements) && rs[i].Reading.Witness == nil {
			same++
		} else {
			same = 0
		}
		if same >= 4 {
			t.Fatalf("%s: an honest sensor repeated its values %d times in a row", d.ID, same)
		}
	}
	for _, r := range rs {
		if r.Reading.Witness != nil {
			witnesses++
		}
	}
	return witnesses
}

// checkCopy: a near copy's values are its target's, within its noise, and
// come its delay after them.
func checkCopy(t *testing.T, d *Device, r *pb.Reading) {
	t.Helper()
	want := d.target.lastSent
	if r.EventTimeMs != want.EventTimeMs+d.params.Delay.Milliseconds() {
		t.Errorf("%s: sent at %d, its target at %d; want %s later", d.ID, r.EventTimeMs, want.EventTimeMs, d.params.Delay)
	}
	for name, v := range r.Measurements {
		limit := int64(0)
		switch {
		case d.Strategy == NearCopy:
			limit = int64(d.params.Noise*float64(gridSteps[name])) + 1
		case name == "power_w":
			limit = int64(d.params.Noise*1000) + 1
		case name == "energy_wh":
			continue // its own counter, integrating the copied power
		}
		if diff := v - want.Measurements[name]; diff > limit || diff < -limit {
			t.Errorf("%s: %s %d, its target's %d: more than %d apart", d.ID, name, v, want.Measurements[name], limit)
		}
	}
}

// checkLoop: after its first Length readings, a loop sends them again, in
// turn, within its jitter; a counter loop's counter goes on rising.
func checkLoop(t *testing.T, d *Device, rs []*pb.SignedReading) {
	t.Helper()
	L := d.params.Length
	if len(rs) <= L {
		t.Fatalf("%s: %d readings, no loop yet", d.ID, len(rs))
	}
	for i := L; i < len(rs); i++ {
		now, then := rs[i].Reading.Measurements, rs[i%L].Reading.Measurements
		for name, v := range now {
			limit := int64(d.params.Jitter*float64(gridSteps[name])) + 1
			if name == "power_w" {
				limit = int64(d.params.Jitter*1000) + 1
			}
			if name == "energy_wh" {
				if v <= rs[i-1].Reading.Measurements[name] {
					t.Errorf("%s: the counter did not rise at reading %d", d.ID, i)
				}
				continue
			}
			if diff := v - then[name]; diff > limit || diff < -limit {
				t.Errorf("%s: reading %d's %s is %d, reading %d's was %d", d.ID, i, name, v, i%L, then[name])
			}
		}
	}
}

// checkWitnessLoop: once recorded, the hotspot's witness reports repeat
// its pattern's signals, each naming a real beacon.
func checkWitnessLoop(t *testing.T, d *Device, rs []*pb.SignedReading) {
	t.Helper()
	var reports []*pb.Reading
	for _, r := range rs {
		if r.Reading.Witness != nil {
			reports = append(reports, r.Reading)
		}
	}
	if len(d.pattern) < d.params.Length || len(reports) <= d.params.Length {
		t.Fatalf("%s: %d reports recorded, %d sent", d.ID, len(d.pattern), len(reports))
	}
	for i, r := range reports[d.params.Length:] {
		h := d.pattern[i%d.params.Length]
		if r.Measurements["rssi_dbm"] != h.rssi || r.Witness.BeaconDeviceId != h.beaconer.ID || r.Witness.BeaconSeq == 0 {
			t.Errorf("%s: report %d (%d from %s) does not repeat the pattern (%d from %s)", d.ID, d.params.Length+i, r.Measurements["rssi_dbm"], r.Witness.BeaconDeviceId, h.rssi, h.beaconer.ID)
		}
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

// TestProtocols: a mixed fleet sends a third of its devices each way, an
// MQTT or gRPC fleet all of them; without the broker's address (MQTT, mixed),
// or with a protocol it does not know, the fleet is refused.
func TestProtocols(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{Devices: 30, Owners: testOwners(2), Interval: 5 * time.Second, Seed: "p"}
	for proto, want := range map[string]map[string]int{"": {"http": 30}, "http": {"http": 30},
		"mixed": {"http": 10, "mqtt": 10, "grpc": 10}, "mqtt": {"mqtt": 30}, "grpc": {"grpc": 30}} {
		c := cfg
		c.Protocol, c.MQTT = proto, "tcp://127.0.0.1:1"
		f, err := New(c, log)
		if err != nil {
			t.Fatalf("%q: %v", proto, err)
		}
		got := map[string]int{}
		for _, d := range f.Devices {
			got[d.via]++
		}
		if !maps.Equal(got, want) {
			t.Errorf("%q: devices by protocol %v, want %v", proto, got, want)
		}
	}
	for _, c := range []Config{{Protocol: "mixed"}, {Protocol: "mqtt"}, {Protocol: "carrier-pigeon", MQTT: "tcp://127.0.0.1:1"}} {
		c.Devices, c.Owners, c.Interval, c.Seed = 30, testOwners(2), 5*time.Second, "p"
		if _, err := New(c, log); err == nil {
			t.Errorf("protocol %q with broker %q accepted", c.Protocol, c.MQTT)
		}
	}
	c := cfg
	c.Protocol = "grpc" // over the HTTP port: no broker's address needed
	if _, err := New(c, log); err != nil {
		t.Errorf("grpc without a broker: %v", err)
	}
}
