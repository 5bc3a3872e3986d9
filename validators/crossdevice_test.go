package validators

import (
	"fmt"
	"maps"
	"testing"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// xr is a reading of device id for the checks across devices.
type xr struct {
	id       string
	seq      uint64
	t        int64 // ms after t0
	kind     pb.ResourceKind
	m        map[string]int64
	lat, lon int32
	witness  *pb.Witness
}

func (x xr) raw() *pb.RawReading {
	kind := x.kind
	if kind == 0 {
		kind = pb.ResourceKind_RESOURCE_KIND_WEATHER
	}
	r := &pb.Reading{DeviceId: x.id, Seq: x.seq, EventTimeMs: t0 + x.t, Kind: kind, Measurements: x.m, Witness: x.witness}
	if x.lat != 0 || x.lon != 0 {
		r.Location = &pb.Location{LatE7: x.lat, LonE7: x.lon}
	}
	return &pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: []byte(fmt.Sprint(x.id, x.seq))}, ReceivedAtMs: t0 + x.t}
}

// fleet is a registry of devices at asserted positions.
type fleet map[string]*pb.Device

func (f fleet) add(id string, kind pb.ResourceKind, lat, lon int32, registered int64) {
	f[id] = &pb.Device{DeviceId: id, Kind: kind, Active: true, RegisteredAtMs: registered, Location: &pb.Location{LatE7: lat, LonE7: lon}}
}

func (f fleet) checker() *Checker {
	c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	c.Lookup = func(id string) *pb.Device { return f[id] }
	return c
}

// decide runs readings through a checker, committing after each, and
// returns the reasons.
func decide(c *Checker, f fleet, rs ...xr) []string {
	var out []string
	for _, r := range rs {
		d := c.Check(r.raw(), f[r.id])
		out = append(out, d.Reason)
		c.Commit()
	}
	return out
}

func weather(temp, hum, pres int64) map[string]int64 {
	return map[string]int64{"temperature_c": temp, "humidity_pct": hum, "pressure_hpa": pres}
}

func TestClonedStream(t *testing.T) {
	f := fleet{}
	f.add("orig", pb.ResourceKind_RESOURCE_KIND_WEATHER, homeLat, homeLon, 1)
	f.add("copy", pb.ResourceKind_RESOURCE_KIND_WEATHER, homeLat+100_000, homeLon, 2) // 1.1 km away
	run := func(delta int64) []string {
		c := f.checker()
		var rs []xr
		for i := range 5 {
			v := weather(20_000+int64(i)*300, 60_000+int64(i)*1500, 1_013_000+int64(i)*200)
			rs = append(rs, xr{id: "orig", seq: uint64(i + 1), t: int64(i) * 10_000, m: v})
			cp := weather(v["temperature_c"]+delta, v["humidity_pct"], v["pressure_hpa"])
			rs = append(rs, xr{id: "copy", seq: uint64(i + 1), t: int64(i)*10_000 + 300, m: cp})
		}
		return decide(c, f, rs...)
	}
	// The copy's first two readings pass; from the third in a row it is a clone.
	// Readings alternate original, copy.
	want := []string{"", "", "", "", "", ReasonClonedStream, "", ReasonClonedStream, "", ReasonClonedStream}
	if got := run(7); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("a copied stream (temperature +0.007 °C): %q, want %q", got, want)
	}
	// Readings 0.3 °C apart are another station's, however alike the rest.
	if got := run(300); fmt.Sprint(got) != fmt.Sprint(make([]string, 10)) {
		t.Fatalf("a close honest neighbour: %q", got)
	}
	// In still weather the original reads what it read before, which its
	// copy sent in between: the original is not the copy's clone.
	var rs []xr
	for i := range 5 {
		v := weather(20_000, 60_000, 1_013_000)
		rs = append(rs, xr{id: "orig", seq: uint64(i + 1), t: int64(i) * 5_000, m: v}, xr{id: "copy", seq: uint64(i + 1), t: int64(i)*5_000 + 300, m: v})
	}
	want = []string{"", "", "", "", "", ReasonClonedStream, "", ReasonClonedStream, "", ReasonClonedStream}
	if got := decide(f.checker(), f, rs...); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("a copy of a station in still weather: %q, want %q", got, want)
	}
}

// TestSybilCluster: with sybilMaxPerCell set (it is off by default: real
// neighbours agree within its tolerances), a second device of a cell
// saying the same as the first is a Sybil.
func TestSybilCluster(t *testing.T) {
	f := fleet{}
	for i := range 3 {
		f.add(fmt.Sprint("s", i), pb.ResourceKind_RESOURCE_KIND_WEATHER, homeLat+int32(i)*100, homeLon, int64(i))
	}
	f.add("far", pb.ResourceKind_RESOURCE_KIND_WEATHER, homeLat+40_000, homeLon, 9) // 445 m north: the next cell
	rs := []xr{
		{id: "s0", seq: 1, t: 0, m: weather(20_000, 60_000, 1_013_000)},
		{id: "s1", seq: 1, t: 1000, m: weather(20_400, 62_900, 1_013_400)}, // within tolerance of s0
		{id: "far", seq: 1, t: 2000, m: weather(20_000, 60_000, 1_013_000)},
		{id: "s0", seq: 2, t: 5000, m: weather(20_100, 60_500, 1_013_100)},
		{id: "s1", seq: 2, t: 6000, m: weather(20_200, 60_500, 1_013_100)},
		{id: "s2", seq: 1, t: 7000, m: weather(20_700, 60_500, 1_013_100)}, // 0.6 °C off: its own weather
	}
	want := []string{"", ReasonSybilCluster, "", "", ReasonSybilCluster, ""}
	c := f.checker()
	w := c.rules[pb.ResourceKind_RESOURCE_KIND_WEATHER]
	w.SybilMaxPerCell = 1
	c.rules[pb.ResourceKind_RESOURCE_KIND_WEATHER] = w
	if got := decide(c, f, rs...); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := decide(f.checker(), f, rs...); fmt.Sprint(got) != fmt.Sprint(make([]string, len(rs))) {
		t.Fatalf("with the default rules (off): %q", got)
	}
}

func TestWitnessChecks(t *testing.T) {
	hotspot := pb.ResourceKind_RESOURCE_KIND_HOTSPOT
	f := fleet{}
	f.add("beaconer", hotspot, homeLat, homeLon, 1)
	f.add("near", hotspot, homeLat+17_966, homeLon, 2) // 200 m north
	f.add("km", hotspot, homeLat+89_831, homeLon, 3)   // 1000 m north
	// 1000 m at 915 MHz: free-space loss 91.68 dB; from 27 dBm with the 10 dB
	// margin a witness may hear at most -54.68 dBm.
	beacon := xr{id: "beaconer", seq: 7, t: 0, kind: hotspot, m: map[string]int64{BeaconTxMeasurement: 27_000}}
	heard := func(id string, seq uint64, rssi int64, of string, beaconSeq uint64) xr {
		return xr{id: id, seq: seq, t: 2000, kind: hotspot, m: map[string]int64{RSSIMeasurement: rssi}, witness: &pb.Witness{BeaconDeviceId: of, BeaconSeq: beaconSeq}}
	}
	for _, c := range []struct {
		name string
		r    xr
		want string
	}{
		{"honest witness at 1 km", heard("km", 1, -56_000, "beaconer", 7), ""},
		{"just inside free space", heard("km", 1, -54_690, "beaconer", 7), ""},
		{"stronger than free space", heard("km", 1, -54_000, "beaconer", 7), ReasonWitnessTooStrong},
		{"too close", heard("near", 1, -80_000, "beaconer", 7), ReasonWitnessTooClose},
		{"its own beacon", heard("beaconer", 8, -30_000, "beaconer", 7), ReasonWitnessSelf},
		{"a beacon never sent", heard("km", 1, -80_000, "beaconer", 6), ReasonWitnessUnknownBeacon},
		{"a beaconer nobody knows", heard("km", 1, -80_000, "ghost", 1), ReasonWitnessUnknownBeacon},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := f.checker()
			got := decide(ch, f, beacon, c.r)
			if got[0] != "" || got[1] != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	// Across a region border (39° N) the beacon is another validator's: it
	// is not visible here (scoring checks it at epoch close), but distance
	// and strength are checked from the registry, against the strongest
	// transmitter allowed (27 dBm).
	f.add("south", hotspot, 389_955_000, homeLon, 5) // 500 m south of the border
	f.add("north", hotspot, 390_045_000, homeLon, 6) // 500 m north: 1000 m from south
	f.add("hug", hotspot, 389_995_000, homeLon+1, 8)
	f.add("ahead", hotspot, 390_000_500, homeLon, 9) // 61 m from hug, across the border
	for _, c := range []struct {
		name string
		r    xr
		want string
	}{
		{"across the border at 1 km, plausible", heard("south", 1, -56_000, "north", 1), ""},
		{"across the border at 1 km, too strong", heard("south", 1, -54_000, "north", 1), ReasonWitnessTooStrong},
		{"across the border, too close", heard("hug", 1, -80_000, "ahead", 1), ReasonWitnessTooClose},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := decide(f.checker(), f, c.r); got[0] != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestFSPL(t *testing.T) {
	for _, c := range []struct{ d, f, want int64 }{
		{1000, 915, 91_677}, {1, 2400, 40_054}, {10_000, 868, 111_220},
	} {
		if got := FSPLMilliDB(c.d, c.f); abs(got-c.want) > 15 {
			t.Errorf("FSPL(%d m, %d MHz) = %d mdB, want %d", c.d, c.f, got, c.want)
		}
	}
}

// TestCrossStateAbort: what an aborted transaction accepted leaves no trace
// in the checks across devices.
func TestCrossStateAbort(t *testing.T) {
	f := fleet{}
	f.add("orig", pb.ResourceKind_RESOURCE_KIND_WEATHER, homeLat, homeLon, 1)
	f.add("copy", pb.ResourceKind_RESOURCE_KIND_WEATHER, homeLat+100_000, homeLon, 2)
	c := f.checker()
	v := weather(20_000, 60_000, 1_013_000)
	for i := range 2 {
		c.Check(xr{id: "orig", seq: uint64(i + 1), t: int64(i) * 10_000, m: v}.raw(), f["orig"])
		c.Check(xr{id: "copy", seq: uint64(i + 1), t: int64(i)*10_000 + 100, m: v}.raw(), f["copy"])
	}
	c.Abort()
	// Had the aborted four counted, this would be the copy's third in a row.
	c.Check(xr{id: "orig", seq: 1, t: 20_000, m: v}.raw(), f["orig"])
	if d := c.Check(xr{id: "copy", seq: 1, t: 20_100, m: v}.raw(), f["copy"]); d.Reason != "" {
		t.Fatalf("after an abort: %q %s", d.Reason, d.Detail)
	}
}

// TestCrossStateBounded: what the checks across devices remember stays
// within twice the clone window of event time, whatever the longest
// window of another kind (a hotspot's witness window is 10 minutes): 50
// weather stations reading every second for 20 minutes leave at most the
// last minute's readings in memory.
func TestCrossStateBounded(t *testing.T) {
	c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	const devices, seconds = 50, 1200
	for s := range seconds {
		for d := range devices {
			id := fmt.Sprintf("ws-%02d", d)
			r := &pb.Reading{DeviceId: id, Seq: uint64(s + 1), EventTimeMs: t0 + int64(s)*1000, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
				Measurements: map[string]int64{"temperature_c": int64(d)*1000 + int64(s%7)*100, "humidity_pct": int64(d) * 1500}}
			dev := &pb.Device{DeviceId: id, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Active: true, Location: &pb.Location{LatE7: homeLat + int32(d)*100_000, LonE7: homeLon}}
			raw := &pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: []byte(fmt.Sprint(id, s))}, ReceivedAtMs: r.EventTimeMs}
			if dec := c.Check(raw, dev); dec.Reason != "" {
				t.Fatalf("second %d, %s: %+v", s, id, dec)
			}
		}
		c.Commit()
	}
	window := DefaultRules()[pb.ResourceKind_RESOURCE_KIND_WEATHER].CloneWindow
	if limit := devices * int(2*window/time.Second+1); c.x.cloneQ.len() > limit {
		t.Fatalf("%d clone entries remembered after %d s of readings, at most %d expected (2 x %s of %d devices)", c.x.cloneQ.len(), seconds, limit, window, devices)
	}
	// The keys hold exactly the queued readings: an expired one (the first
	// of its key or a later one: a station's values recur every 7 s) is gone.
	held := map[cloneRef]int{}
	for key, l := range c.x.clones {
		for i := range l.len() {
			held[cloneRef{key, l.at(i).device, l.at(i).eventMs}]++
		}
	}
	queued := map[cloneRef]int{}
	for _, ref := range c.x.cloneQ.items() {
		queued[ref]++
	}
	if !maps.Equal(held, queued) {
		t.Fatalf("%d readings held by key, %d queued; they differ", len(held), len(queued))
	}
}
