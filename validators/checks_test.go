package validators

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

const t0 = 1_700_000_000_000 // ms

// rd is a reading under test: a weather station at a fixed place, t
// milliseconds after t0, received when it was taken.
type rd struct {
	seq      uint64
	t        int64 // event time after t0, ms
	recv     int64 // received after t0, ms (0: t)
	sig      byte
	m        map[string]int64
	lat, lon int32
}

func (x rd) raw() *pb.RawReading {
	m := x.m
	if m == nil {
		m = map[string]int64{"temperature_c": 20_000 + int64(x.seq)} // a live sensor: values change
	}
	recv := x.recv
	if recv == 0 {
		recv = x.t
	}
	r := &pb.Reading{DeviceId: "d", Seq: x.seq, EventTimeMs: t0 + x.t, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: m}
	if x.lat != 0 || x.lon != 0 {
		r.Location = &pb.Location{LatE7: x.lat, LonE7: x.lon}
	}
	sig := x.sig
	if sig == 0 {
		sig = byte(x.seq)
	}
	return &pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: []byte{sig}}, ReceivedAtMs: t0 + recv}
}

// home is the device's asserted location (Lisbon).
const homeLat, homeLon = 387_000_000, -91_000_000

func registered() *pb.Device {
	return &pb.Device{DeviceId: "d", Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Active: true, Location: &pb.Location{LatE7: homeLat, LonE7: homeLon}}
}

// TestEveryCheck runs each check of the catalog on a history of honest
// readings, then a reading that trips it and a close honest one that does
// not. Decisions are committed one by one, as transactions would.
func TestEveryCheck(t *testing.T) {
	temp := func(v int64) map[string]int64 { return map[string]int64{"temperature_c": v} }
	stuck := make([]rd, 10) // StuckAfter (10) identical readings accepted
	for i := range stuck {
		stuck[i] = rd{seq: uint64(i + 1), t: int64(i) * 5000, m: temp(21_000)}
	}
	denied := registered()
	denied.Denied, denied.DeniedReason, denied.LastChangeMs = true, "clone ring", t0+10_000
	inactive := registered()
	inactive.Active, inactive.LastChangeMs = false, t0+10_000
	made := registered()
	made.MakerId = "removed-maker" // an admin removed it at t0 + 10 s
	makers := map[string]*pb.Maker{"removed-maker": {MakerId: "removed-maker", Active: false, LastChangeMs: t0 + 10_000}}
	cases := []struct {
		check   string
		dev     *pb.Device
		history []rd
		bad     rd
		honest  rd
	}{
		{ReasonDuplicate + " vs " + ReasonSequenceReplay, registered(),
			[]rd{{seq: 1, t: 0}, {seq: 2, t: 5000}, {seq: 3, t: 10_000}},
			rd{seq: 2, t: 5000, sig: 99}, // same number, other content: a replay
			rd{seq: 2, t: 5000}},         // the very reading again: a retry, DUPLICATE
		{ReasonDeviceDenylisted, denied, nil,
			rd{seq: 1, t: 10_000},
			rd{seq: 1, t: 9_999}}, // received before the denylisting
		{ReasonDeviceInactive, inactive, nil,
			rd{seq: 1, t: 10_000},
			rd{seq: 1, t: 9_000}},
		{ReasonMakerRemoved, made, nil,
			rd{seq: 1, t: 10_000},
			rd{seq: 1, t: 9_999}}, // received before the removal
		{ReasonClockFuture, registered(), nil,
			rd{seq: 1, t: 120_002, recv: 1}, // 2 min 1 ms ahead
			rd{seq: 1, t: 120_001, recv: 1}},
		{ReasonClockStale, registered(), nil,
			rd{seq: 1, t: 1, recv: 3_600_002},
			rd{seq: 1, t: 2, recv: 3_600_002}},
		{ReasonUnknownMeasurement, registered(), nil,
			rd{seq: 1, m: map[string]int64{"temperature_c": 20_000, "power_w": 5}},
			rd{seq: 1, m: map[string]int64{"temperature_c": 20_000, "humidity_pct": 5}}},
		{ReasonOutOfRange, registered(), nil,
			rd{seq: 1, m: temp(60_001)},
			rd{seq: 1, m: temp(60_000)}},
		{ReasonRateExceeded, registered(), []rd{{seq: 1, t: 10_000}},
			rd{seq: 2, t: 10_999},
			rd{seq: 2, t: 11_000}},
		{ReasonStuckSensor, registered(), stuck,
			rd{seq: 11, t: 50_000, m: temp(21_000)},
			rd{seq: 11, t: 50_000, m: temp(21_001)}},
		{ReasonImplausibleJump, registered(), []rd{{seq: 1, t: 0, m: temp(20_000)}},
			rd{seq: 2, t: 600_000, m: temp(30_001)}, // +10.001 °C in 10 minutes
			rd{seq: 2, t: 600_000, m: temp(30_000)}},
		{ReasonImplausibleJump + " (outside the window)", registered(), []rd{{seq: 1, t: 0, m: temp(20_000)}},
			rd{seq: 2, t: 1000, m: temp(40_000)},
			rd{seq: 2, t: 600_001, m: temp(40_000)}}, // after 10 min any change is physics
		{ReasonImpossibleMovement, registered(), []rd{{seq: 1, t: 0, lat: homeLat, lon: homeLon}},
			// 0.0030 degrees of latitude (334 m) in 5 s is 240 km/h; 0.0025 (278 m) is 200.
			rd{seq: 2, t: 5000, lat: homeLat + 30_000, lon: homeLon},
			rd{seq: 2, t: 5000, lat: homeLat + 24_900, lon: homeLon}},
		{ReasonLocationDrift, registered(), nil,
			rd{seq: 1, lat: homeLat, lon: homeLon + 57_800}, // 501 m east at 38.7° N
			rd{seq: 1, lat: homeLat, lon: homeLon + 57_500}},
	}
	for _, c := range cases {
		t.Run(c.check, func(t *testing.T) {
			want := strings.Fields(c.check)[0]
			for _, honestFirst := range []bool{false, true} {
				ch := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
				ch.Maker = func(id string) *pb.Maker { return makers[id] }
				for _, h := range c.history {
					if d := ch.Check(h.raw(), c.dev); d.Reason != "" {
						t.Fatalf("history reading %d rejected: %s %s", h.seq, d.Reason, d.Detail)
					}
					ch.Commit()
				}
				if honestFirst {
					d := ch.Check(c.honest.raw(), c.dev)
					if want == ReasonDuplicate {
						if d.Reason != ReasonDuplicate {
							t.Fatalf("a retried reading: %q (%s), want DUPLICATE", d.Reason, d.Detail)
						}
					} else if d.Reason != "" {
						t.Fatalf("the close honest reading was rejected: %s (%s)", d.Reason, d.Detail)
					}
					continue
				}
				d := ch.Check(c.bad.raw(), c.dev)
				wantBad := want
				if want == ReasonDuplicate {
					wantBad = ReasonSequenceReplay
				}
				if d.Reason != wantBad {
					t.Fatalf("got %q (%s), want %s", d.Reason, d.Detail, wantBad)
				}
				if d.Detail == "" {
					t.Fatal("a rejection without evidence")
				}
			}
		})
	}
}

// TestCatalogIsDocumented: every code in Reasons has its row in the
// README's catalog, and the README names no code the code lacks.
func TestCatalogIsDocumented(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, r := range Reasons {
		if !strings.Contains(doc, "| `"+r+"` |") {
			t.Errorf("README.md has no catalog row for %s", r)
		}
	}
	if len(Reasons) < 12 {
		t.Errorf("%d checks; the catalog promises at least 12", len(Reasons))
	}
	// The tables' catalog (each reason's class, fraud or benign) lists the
	// same codes in the same order.
	if want := tables.ReasonsBy("validators"); !slices.Equal(Reasons, want) {
		t.Errorf("validators.Reasons %v, schemas/tables' catalog %v", Reasons, want)
	}
}

func TestAbortForgetsPendingDecisions(t *testing.T) {
	c := NewChecker(DefaultRules(), time.Minute, time.Hour)
	if d := c.Check(rd{seq: 1}.raw(), nil); d.Reason != "" {
		t.Fatal(d)
	}
	// Within the same transaction the device's history already counts.
	if d := c.Check(rd{seq: 1}.raw(), nil); d.Reason != ReasonDuplicate {
		t.Fatalf("in-transaction duplicate: %q", d.Reason)
	}
	c.Abort()
	// The transaction aborted: the same reading decided again is valid.
	if d := c.Check(rd{seq: 1}.raw(), nil); d.Reason != "" {
		t.Fatalf("after abort: %q %s", d.Reason, d.Detail)
	}
}

// TestRebuiltStateDecidesAlike: a checker rebuilt from the valid readings
// alone (as a new instance rebuilds from the valid topic) decides the next
// readings exactly as the one that accepted them.
func TestRebuiltStateDecidesAlike(t *testing.T) {
	live := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	rebuilt := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	var accepted []rd
	for i := range 12 {
		x := rd{seq: uint64(i + 1), t: int64(i) * 2000, m: map[string]int64{"temperature_c": 21_000}, lat: homeLat, lon: homeLon}
		if d := live.Check(x.raw(), registered()); d.Reason == "" {
			accepted = append(accepted, x)
		}
		live.Commit()
	}
	for _, x := range accepted {
		r := x.raw()
		rebuilt.remember(&pb.ValidReading{Reading: r.Signed.Reading, Signature: r.Signed.Signature, ReceivedAtMs: r.ReceivedAtMs})
	}
	next := []rd{
		{seq: 13, t: 30_000, m: map[string]int64{"temperature_c": 21_000}},                                      // still stuck
		{seq: 5, t: 8000, m: map[string]int64{"temperature_c": 21_000}, lat: homeLat, lon: homeLon},             // a retry
		{seq: 14, t: 18_500, m: map[string]int64{"temperature_c": 21_100}},                                      // too soon after seq 10
		{seq: 15, t: 20_000, m: map[string]int64{"temperature_c": 21_100}, lat: homeLat + 30_000, lon: homeLon}, // 334 m in 2 s
		{seq: 16, t: 50_000, m: map[string]int64{"temperature_c": 21_200}},
	}
	want := []string{ReasonStuckSensor, ReasonDuplicate, ReasonRateExceeded, ReasonImpossibleMovement, ""}
	for i, x := range next {
		a, b := live.Check(x.raw(), registered()), rebuilt.Check(x.raw(), registered())
		if a != b {
			t.Fatalf("seq %d: live %+v, rebuilt %+v", x.seq, a, b)
		}
		if a.Reason != want[i] {
			t.Fatalf("seq %d: %q (%s), want %q", x.seq, a.Reason, a.Detail, want[i])
		}
		live.Commit()
		rebuilt.Commit()
	}
}

func TestRulesFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "rules.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rules, err := LoadRules(write("weather:\n  stuckAfter: 3\n  maxJump: {humidity_pct: 5000}\n  minInterval: 30s\nRESOURCE_KIND_ENERGY:\n  measurements:\n    power_w: {min: 0, max: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := rules[pb.ResourceKind_RESOURCE_KIND_WEATHER]
	if w.StuckAfter != 3 || w.MinInterval != 30*time.Second || w.MaxJump["humidity_pct"] != 5000 || w.MaxJump["temperature_c"] != 10_000 || w.MaxDriftM != 500 {
		t.Fatalf("weather rules %+v: the file's values over the defaults", w)
	}
	if e := rules[pb.ResourceKind_RESOURCE_KIND_ENERGY]; e.Measurements["power_w"] != (Range{0, 10}) || e.Measurements["voltage_v"] != (Range{0, 500_000}) {
		t.Fatalf("energy ranges %+v", e.Measurements)
	}
	if DefaultRules()[pb.ResourceKind_RESOURCE_KIND_WEATHER].MaxJump["humidity_pct"] != 0 {
		t.Fatal("loading a file changed the defaults")
	}
	for body, want := range map[string]string{
		"toaster: {score: 1}\n":                          "not a resource kind",
		"weather: {stuckAfer: 3}\n":                      "stuckAfer",
		"weather: {measurements: {t: {min: 5, max: 1}}}": "min 5 above max 1",
		"weather: [": "rules.yaml",
	} {
		if _, err := LoadRules(write(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %q", body, err, want)
		}
	}
}

// TestWindowsRemember: a retried reading is DUPLICATE while its
// fingerprint is among the device's last DuplicateWindow accepted (or
// RejectedWindow rejected) readings, and decided again once it has left
// the window; a reading accepted in an aborted transaction is forgotten.
func TestWindowsRemember(t *testing.T) {
	c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	last := uint64(DuplicateWindow + 5)
	for seq := uint64(1); seq <= last; seq++ {
		if d := c.Check(rd{seq: seq, t: int64(seq) * 5000}.raw(), nil); d.Reason != "" {
			t.Fatalf("reading %d: %s %s", seq, d.Reason, d.Detail)
		}
		c.Commit()
	}
	for _, tc := range []struct {
		seq  uint64
		want string
	}{{last, ReasonDuplicate}, {last - DuplicateWindow + 1, ReasonDuplicate}, {last - DuplicateWindow, ReasonSequenceReplay}} {
		if d := c.Check(rd{seq: tc.seq, t: int64(tc.seq) * 5000}.raw(), nil); d.Reason != tc.want {
			t.Errorf("accepted reading %d of %d sent again: %q, want %s", tc.seq, last, d.Reason, tc.want)
		}
	}
	c.Abort()
	next := rd{seq: last + 1, t: int64(last+1) * 5000}
	if d := c.Check(next.raw(), nil); d.Reason != "" {
		t.Fatalf("reading %d: %s", next.seq, d.Reason)
	}
	c.Abort()
	if d := c.Check(next.raw(), nil); d.Reason != "" {
		t.Fatalf("reading %d, accepted in an aborted transaction, sent again: %q, want valid", next.seq, d.Reason)
	}
	c.Commit()

	hot := map[string]int64{"temperature_c": 60_001}
	first, end := last+2, last+2+RejectedWindow
	for seq := first; seq <= end; seq++ {
		if d := c.Check(rd{seq: seq, t: int64(seq) * 5000, m: hot}.raw(), nil); d.Reason != ReasonOutOfRange {
			t.Fatalf("reading %d: %q, want %s", seq, d.Reason, ReasonOutOfRange)
		}
		c.Commit()
	}
	for _, tc := range []struct {
		seq  uint64
		want string
	}{{end, ReasonDuplicate}, {end - RejectedWindow + 1, ReasonDuplicate}, {end - RejectedWindow, ReasonOutOfRange}} {
		if d := c.Check(rd{seq: tc.seq, t: int64(tc.seq) * 5000, m: hot}.raw(), nil); d.Reason != tc.want {
			t.Errorf("rejected reading %d of %d..%d sent again: %q, want %s", tc.seq, first, end, d.Reason, tc.want)
		}
	}
}
