package aggregator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// TestWorkedExample builds the readings of docs/scoring.md's worked
// example, scores the epoch, and compares every row with the document's
// table.
func TestWorkedExample(t *testing.T) {
	ctx := context.Background()
	conn, _ := testenv.ClickHouseConn(t)
	const epochLength, epoch = workedEpochLength, workedEpoch
	seedWorkedExample(t, ctx, conn)
	policy := DefaultScoring()
	e := policy.Kinds[pb.ResourceKind_RESOURCE_KIND_ENERGY]
	e.CrowdTarget = 2
	policy.Kinds[pb.ResourceKind_RESOURCE_KIND_ENERGY] = e
	h := policy.Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT]
	h.WitnessesPerBeacon = 2
	policy.Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT] = h
	got, err := ScoreEpoch(ctx, conn, policy, epochLength, epoch, "rejected-topic", map[int32]int64{0: 1000}, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/scoring.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| ([a-z0-9-]+) \| (weather|energy|hotspot) \|((?: \d+ \|){14})$`)
	var want []string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		want = append(want, m[1]+" "+m[2]+" "+strings.Join(strings.Fields(strings.ReplaceAll(m[3], "|", "")), " "))
	}
	var have []string
	for _, d := range got {
		if d.Owner != "owner-"+d.DeviceID {
			t.Errorf("%s: owner %s", d.DeviceID, d.Owner)
		}
		have = append(have, fmt.Sprintf("%s %s %d %d %d %d %d %d %d %d %d %d %d %d %d %d", d.DeviceID, strings.ToLower(strings.TrimPrefix(d.Kind, "RESOURCE_KIND_")),
			d.Readings, d.Uptime, d.Complete, d.Moving, d.Quality, d.DriftM, d.Trust, d.Witnessed, d.Delivered, d.Sharing, d.Occupied, d.Crowding, d.Frauds, d.Score))
	}
	if len(want) != 24 || strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scores of the worked example:\n%s\ndocs/scoring.md says (%d rows):\n%s", strings.Join(have, "\n"), len(want), strings.Join(want, "\n"))
	}
	// The server's arithmetic is the Go reference's (finish, base).
	again := append([]DeviceScore(nil), got...)
	Rescore(again, policy)
	for i := range got {
		if !got[i].Same(again[i]) {
			t.Errorf("the server and the Go reference differ:\n%+v\n%+v", got[i], again[i])
		}
	}
	// Closing the epoch stores the same rows; a retry after a crash adds none.
	for range 2 {
		if n, err := storeScores(ctx, conn, policy, epochLength, epoch, "rejected-topic", map[int32]int64{0: 1000}, nil); err != nil || n != 24 {
			t.Fatalf("stored %d scores (%v), want 24", n, err)
		}
	}
	stored, err := tables.DeviceScores(ctx, conn, "WHERE epoch = ? ORDER BY device_id", uint64(epoch))
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(got) {
		t.Fatalf("device_scores holds %d rows after a retried close, want %d", len(stored), len(got))
	}
	for i := range got {
		if stored[i] != got[i].DeviceScore {
			t.Errorf("stored %+v\nscored %+v", stored[i], got[i])
		}
	}
}

// TestScoringFile: a scoring file overrides the defaults per kind and is
// decoded strictly; an interval that does not divide the epoch is refused.
func TestScoringFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := dir + "/scoring.yaml"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s, err := LoadScoring(write("kinds:\n  weather: {interval: 60s, weight: 2000, cellResolution: 7}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]; w.Interval != time.Minute || w.Weight != 2000 || w.CellResolution != 7 {
		t.Fatalf("weather: %+v", w)
	}
	if h := s.Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT]; !reflect.DeepEqual(h, DefaultScoring().Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT]) || s.Probation != 2 {
		t.Fatalf("hotspot changed: %+v", h)
	}
	if err := s.Validate(time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(90 * time.Second); err == nil {
		t.Error("a 60s interval accepted for a 90s epoch")
	}
	for _, bad := range []string{"kinds:\n  weather: {intervall: 60s}\n", "kinds:\n  toaster: {interval: 60s}\n", "kinds: [\n"} {
		if _, err := LoadScoring(write(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if w := s.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]; w.Measurements["pressure_hpa"] != 50 || w.TrustFullM != 300 || w.CrowdTarget != 16 {
		t.Errorf("fields the file left out lost their defaults: %+v", w)
	}
	s, err = LoadScoring(write("hold: 5\nkinds:\n  energy: {measurements: {power_w: 10}}\n"))
	if err != nil || s.Hold != 5 || len(s.Kinds[pb.ResourceKind_RESOURCE_KIND_ENERGY].Measurements) != 1 {
		t.Fatalf("hold and measurements from a file: %+v, %v", s, err)
	}
	for name, mutate := range map[string]func(*KindScoring){
		"weight 0":                        func(k *KindScoring) { k.Weight = 0 },
		"an area finer than the cell":     func(k *KindScoring) { k.CrowdResolution = 9 },
		"full trust beyond partial trust": func(k *KindScoring) { k.TrustFullM = 500 },
		"a negative noise floor":          func(k *KindScoring) { k.Measurements = map[string]int64{"temperature_c": -1} },
		"intervals times weight past 1e14": func(k *KindScoring) {
			k.Interval, k.Weight = time.Millisecond, 1_000_000_000
		},
	} {
		bad := DefaultScoring()
		k := bad.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]
		mutate(&k)
		bad.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER] = k
		if err := bad.Validate(24 * time.Hour); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if err := DefaultScoring().Validate(24 * time.Hour); err != nil {
		t.Errorf("the defaults refused for a day: %v", err)
	}
	informationFile(t, write)
}

// informationFile: the information checks' policy from a file, over the
// defaults, strictly decoded and validated; a kind given fewer
// measurements keeps the checks' defaults among those; scores wait for
// the evidence window, or the fraud hold if longer.
func informationFile(t *testing.T, write func(string) string) {
	s, err := LoadScoring(write("information: {ahead: 30m, zMilli: 4000}\nkinds:\n  weather: {measurements: {temperature_c: 50}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if in := s.Information; in.Ahead != 30*time.Minute || in.ZMilli != 4000 || in.Back != DefaultInformation().Back || in.LoopZMilli != DefaultInformation().LoopZMilli {
		t.Errorf("information over the defaults: %+v", in)
	}
	if w := s.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]; !reflect.DeepEqual(w.Track, []string{"temperature_c"}) || len(w.Generator) != 0 ||
		!reflect.DeepEqual(w.Noise, map[string]int64{"temperature_c": 100}) {
		t.Errorf("weather with the temperature only: track %v, generator %v, noise %v", w.Track, w.Generator, w.Noise)
	}
	if err := s.Validate(time.Hour); err != nil {
		t.Error(err)
	}
	if _, err := LoadScoring(write("information: {ahed: 30m}\n")); err == nil {
		t.Error("a misspelt information field accepted")
	}
	for _, bad := range []string{"information: {betaBP: 10000}\n", "information: {back: 20h, ahead: 5h}\n", "information: {maxLag: 1h}\n",
		"kinds:\n  weather: {track: [wind_ms]}\n", "kinds:\n  weather: {noise: {temperature_c: 0}}\n"} {
		s, err := LoadScoring(write(bad))
		if err == nil {
			err = s.Validate(time.Hour)
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	def := DefaultScoring()
	if d := def.Delay(30 * time.Second); d != 16 {
		t.Errorf("30 s epochs wait %d epochs for the scores, want 16 (eight minutes ahead)", d)
	}
	if d := def.Delay(24 * time.Hour); d != def.Hold {
		t.Errorf("daily epochs wait %d, want the hold, %d", d, def.Hold)
	}
	def.Information.Back, def.Information.Ahead = 0, 0
	if d := def.Delay(30 * time.Second); d != def.Hold || def.Information.On() {
		t.Errorf("with the checks off: delay %d, on %v", d, def.Information.On())
	}
}

// TestBoundaries: each multiplier at its threshold and one past it, the
// honest case and the tripping one side by side.
func TestBoundaries(t *testing.T) {
	s := DefaultScoring()
	weather := s.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]
	for _, c := range []struct {
		driftM, want uint64
	}{{0, 10_000}, {300, 10_000}, {301, 2_500}, {400, 2_500}, {401, 0}} {
		if got := trust(c.driftM, weather); got != c.want {
			t.Errorf("trust at %d m: %d, want %d", c.driftM, got, c.want)
		}
	}
	// A counter kind: what the rating allows is paid in full, a unit more
	// earns nothing more.
	energy := s.Kinds[pb.ResourceKind_RESOURCE_KIND_ENERGY]
	capacity := energy.capacity() // 10 kW for 5 s: 13,888 mWh
	if capacity != 13_888 {
		t.Fatalf("energy capacity per interval %d, want 13888", capacity)
	}
	meter := func(delivered uint64) uint64 {
		d := DeviceScore{DeviceScore: tables.DeviceScore{Kind: pb.ResourceKind_RESOURCE_KIND_ENERGY.String(), Uptime: 6, Complete: 6, Quality: 10_000, Trust: 10_000,
			Weight: energy.Weight, Delivered: delivered, DeviceID: "m"}}
		ds := []DeviceScore{d}
		finish(ds, s)
		return ds[0].Score
	}
	if full, over := meter(6*capacity), meter(6*capacity+1); full != 6_000 || over != full {
		t.Errorf("a meter at its rating scores %d, one unit over %d; want 6000 both", full, over)
	}
	if half := meter(3 * capacity); half != 3_000 {
		t.Errorf("a meter at half its rating scores %d, want 3000", half)
	}
	// Crowding: crowdTarget occupied cells in an area pay in full, one more
	// scales every cell down.
	area := func(cells int) uint64 {
		var ds []DeviceScore
		for i := range cells {
			ds = append(ds, DeviceScore{DeviceScore: tables.DeviceScore{DeviceID: fmt.Sprintf("w%02d", i), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER.String(), Uptime: 6,
				Complete: 6, Quality: 10_000, Trust: 10_000, Weight: weather.Weight, Cell: uint64(i), Area: 1}})
		}
		finish(ds, s)
		return ds[0].Score
	}
	// 10000 * 16 / 17 = 9411 basis points; 6000 * 9411 / 10000 = 5646.
	if at, past := area(int(weather.CrowdTarget)), area(int(weather.CrowdTarget)+1); at != 6_000 || past != 5_646 {
		t.Errorf("an area of %d cells pays %d a cell, of %d cells %d; want 6000 and 5646", weather.CrowdTarget, at, weather.CrowdTarget+1, past)
	}
	// Quality: no measurement past its noise floor is no quality at all;
	// one is enough.
	if q0, q1 := quality(DeviceScore{DeviceScore: tables.DeviceScore{Uptime: 6, Complete: 6}}, 3), quality(DeviceScore{DeviceScore: tables.DeviceScore{Uptime: 6, Complete: 6, Moving: 1}}, 3); q0 != 0 || q1 != 10_000 {
		t.Errorf("quality with no moving measurement %d, with one %d; want 0 and 10000", q0, q1)
	}
}

// TestScoringFileRoundTrip: the file an export publishes reads back as the
// policy it was written from, the defaults' and one with every part changed.
func TestScoringFileRoundTrip(t *testing.T) {
	changed := DefaultScoring()
	w := changed.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]
	w.Interval, w.Weight, w.Track = 90*time.Second, 7, []string{"humidity_pct"}
	changed.Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER] = w
	changed.Benign, changed.Probation, changed.Hold = []string{"DUPLICATE"}, 5, 1
	changed.Information.Back, changed.Information.Ahead, changed.Information.MaxLag = 0, 0, 17*time.Second
	for i, s := range []Scoring{DefaultScoring(), changed} {
		raw, err := s.File()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "scoring.yaml")
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadScoring(p)
		if err != nil {
			t.Fatalf("policy %d: %v\n%s", i, err, raw)
		}
		if !reflect.DeepEqual(back, s) {
			t.Errorf("policy %d read back as\n%+v\nwant\n%+v\nfile:\n%s", i, back, s, raw)
		}
	}
}
