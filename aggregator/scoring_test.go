package aggregator

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestWorkedExample builds the readings of docs/scoring.md's worked
// example, scores the epoch, and compares every row with the document's
// table.
func TestWorkedExample(t *testing.T) {
	ctx := context.Background()
	conn, _ := testenv.ClickHouseConn(t)
	const epochLength = 30 * time.Second
	const epoch = 1000
	weather, energy := pb.ResourceKind_RESOURCE_KIND_WEATHER.String(), pb.ResourceKind_RESOURCE_KIND_ENERGY.String()
	// A reading of the example: where it was, what it measured, how far
	// from the asserted location, and for rejections why.
	type reading struct {
		device, kind, status, reason string
		epoch                        uint64
		sec                          int64
		lat, lon                     int32
		measurements                 map[string]int64
		driftM                       uint32
		offset                       uint64 // 0: the next one
	}
	var offset uint64
	put := func(r reading) {
		if r.offset == 0 {
			offset++
			r.offset = offset
		}
		if r.epoch == 0 {
			r.epoch = epoch
		}
		if r.measurements == nil {
			r.measurements = map[string]int64{}
		}
		if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at,
				status, reason, kafka_topic, kafka_partition, kafka_offset, drift_m)
			VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, ?, now64(3), ?, ?, ?, 0, ?, ?)`,
			r.device, r.offset, int64(r.epoch)*epochLength.Milliseconds()+r.sec*1000, r.epoch, r.kind, "owner-"+r.device, r.measurements,
			r.lat, r.lon, r.status, r.reason, map[string]string{"valid": "valid-topic", "rejected": "rejected-topic"}[r.status], r.offset, r.driftM); err != nil {
			t.Fatal(err)
		}
	}
	// What a live sensor measures: every value moves a little each reading.
	live := func(kind string, i int64) map[string]int64 {
		if kind == energy {
			return map[string]int64{"power_w": 2_000_000 + 5_000*i, "voltage_v": 230_000 + 300*i, "energy_wh": 1_000_000 + 5_000*i}
		}
		return map[string]int64{"temperature_c": 15_000 + 100*i, "humidity_pct": 60_000 + 300*i, "pressure_hpa": 1_013_000 + 60*i}
	}
	// valid puts a device's valid readings at the given seconds.
	valid := func(device, kind string, lat, lon int32, driftM uint32, seconds ...int64) {
		for i, sec := range seconds {
			put(reading{device: device, kind: kind, status: "valid", sec: sec, lat: lat, lon: lon, measurements: live(kind, int64(i)), driftM: driftM})
		}
	}
	every5 := []int64{0, 5, 10, 15, 20, 25}
	valid("ws-a", weather, 387_000_000, -91_400_000, 0, 0, 1, 2, 7, 12, 29)
	var all []int64
	for s := int64(0); s < 30; s++ {
		all = append(all, s)
	}
	valid("ws-flood", weather, 387_500_000, -92_000_000, 0, all...)
	for i := int32(1); i <= 3; i++ {
		valid(fmt.Sprintf("ws-ring-%d", i), weather, 388_000_000+i*100, -91_000_000, 0, every5...)
	}
	valid("meter-d", energy, 388_000_100, -91_000_000, 0, every5...)
	for _, sec := range every5 {
		put(reading{device: "ws-e", kind: weather, status: "rejected", reason: "OUT_OF_RANGE", sec: sec, lat: 386_000_000, lon: -91_000_000})
	}
	valid("ws-clone", weather, 388_000_400, -91_000_000, 0, every5...)
	put(reading{device: "ws-clone", kind: weather, status: "rejected", reason: "CLONED_STREAM", sec: 3, lat: 388_000_400, lon: -91_000_000})
	valid("ws-probation", weather, 385_000_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-probation", kind: weather, status: "rejected", reason: "STUCK_SENSOR", epoch: epoch - 1, sec: 3, lat: 385_000_000, lon: -91_000_000})
	valid("ws-held", weather, 384_500_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-held", kind: weather, status: "rejected", reason: "CLONED_STREAM", epoch: epoch + 2, sec: 3, lat: 384_500_000, lon: -91_000_000})
	valid("ws-after-cut", weather, 384_000_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-after-cut", kind: weather, status: "rejected", reason: "OUT_OF_RANGE", sec: 3, lat: 384_000_000, lon: -91_000_000, offset: 5000}) // past the cut below
	valid("ws-retry", weather, 383_000_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-retry", kind: weather, status: "rejected", reason: "DUPLICATE", sec: 3, lat: 383_000_000, lon: -91_000_000})
	valid("ws-replay", weather, 382_500_000, -91_000_000, 0, 0, 5)
	for sec := int64(6); sec < 16; sec++ { // its two readings, sent again and again
		put(reading{device: "ws-replay", kind: weather, status: "rejected", reason: "DUPLICATE", sec: sec, lat: 382_500_000, lon: -91_000_000})
	}
	for i, sec := range every5 {
		flat := map[string]int64{"temperature_c": 18_000, "humidity_pct": 60_000, "pressure_hpa": 1_012_000}
		put(reading{device: "ws-flat", kind: weather, status: "valid", sec: sec, lat: 382_000_000, lon: -91_000_000, measurements: flat})
		dither := int64(i%2*2-1) * 10 // +-10: under every noise floor
		put(reading{device: "ws-dither", kind: weather, status: "valid", sec: sec, lat: 381_000_000, lon: -91_000_000,
			measurements: map[string]int64{"temperature_c": 18_000 + dither, "humidity_pct": 60_000 - dither, "pressure_hpa": 1_012_000 + dither}})
		partial := live(weather, int64(i))
		if i%2 == 1 {
			delete(partial, "pressure_hpa")
		}
		put(reading{device: "ws-partial", kind: weather, status: "valid", sec: sec, lat: 380_000_000, lon: -91_000_000, measurements: partial})
	}
	valid("ws-drift-350", weather, 379_000_000, -91_000_000, 350, every5...)
	valid("ws-drift-450", weather, 378_000_000, -91_000_000, 450, every5...)
	// Three meters in three cells of one crowded area (energy's target is
	// 2 in this example).
	for i, lat := range []int32{389_000_000, 389_080_000, 389_160_000} {
		valid(fmt.Sprintf("meter-x%d", i+1), energy, lat, -92_000_000, 0, every5...)
	}
	// A meter whose counter claims 50 Wh every 5 s, 36 kW: more than the
	// kind's rating (10 kW) can deliver.
	for i, sec := range every5 {
		over := live(energy, int64(i))
		over["energy_wh"] = 1_000_000 + 50_000*int64(i)
		put(reading{device: "meter-over", kind: energy, status: "valid", sec: sec, lat: 376_000_000, lon: -91_000_000, measurements: over})
	}
	// Hotspots paid for the beacons they heard (hotspot's witnessesPerBeacon
	// is 2 in this example): each report carries the signal it heard.
	hotspot := pb.ResourceKind_RESOURCE_KIND_HOTSPOT.String()
	heard := func(device string, lat int32, reports ...struct {
		sec    int64
		beacon string
		seq    uint64
	}) {
		for i, w := range reports {
			if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at,
					status, kafka_topic, kafka_partition, kafka_offset, witness_of, witness_seq)
				VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, -91000000, now64(3), 'valid', 'valid-topic', 0, ?, ?, ?)`,
				device, uint64(i+1), int64(epoch)*epochLength.Milliseconds()+w.sec*1000, uint64(epoch), hotspot, "owner-"+device,
				map[string]int64{"rssi_dbm": -90_000 + 1_000*int64(i), "snr_db": 5_000 + 1_000*int64(i)}, lat, 9000+offset, w.beacon, w.seq); err != nil {
				t.Fatal(err)
			}
			offset++
		}
	}
	type w = struct {
		sec    int64
		beacon string
		seq    uint64
	}
	// The beacons, sent in the epoch before (hs-q's was never sent).
	for i, b := range []w{{20, "hs-x", 1}, {22, "hs-x", 2}, {23, "hs-y", 1}, {24, "hs-z", 1}, {25, "hs-z", 2}} {
		if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at,
				status, kafka_topic, kafka_partition, kafka_offset)
			VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, '', ?, ?, -91000000, now64(3), 'valid', 'valid-topic', 0, ?)`,
			b.beacon, b.seq, int64(epoch-1)*epochLength.Milliseconds()+b.sec*1000, uint64(epoch-1), hotspot,
			map[string]int64{"rssi_dbm": -90_000, "snr_db": 5_000, "beacon_tx_dbm": 27_000}, 374_000_000+int32(i)*1_000_000, 8000+i); err != nil {
			t.Fatal(err)
		}
	}
	heard("hs-a", 375_000_000, w{1, "hs-x", 1}, w{6, "hs-x", 2}, w{11, "hs-y", 1}, w{16, "hs-q", 1})
	heard("hs-b", 377_000_000, w{2, "hs-x", 1}, w{12, "hs-y", 1})
	heard("hs-c", 379_000_000, w{3, "hs-x", 1}, w{7, "hs-x", 2}, w{8, "hs-z", 1}, w{9, "hs-z", 2})
	// A reading of another epoch is not this epoch's.
	put(reading{device: "ws-a", kind: weather, status: "valid", epoch: epoch + 1, lat: 387_000_000, lon: -91_400_000, measurements: live(weather, 0)})

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
	rows, err := conn.Query(ctx, "SELECT epoch, "+ScoreColumns+" FROM device_scores WHERE epoch = ? ORDER BY device_id", uint64(epoch))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var stored []DeviceScore
	for rows.Next() {
		var d DeviceScore
		if err := rows.Scan(append([]any{&d.Epoch}, d.ScanInto()...)...); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, d)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(got) {
		t.Fatalf("device_scores holds %d rows after a retried close, want %d", len(stored), len(got))
	}
	for i := range got {
		if !stored[i].Same(got[i]) {
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
		d := DeviceScore{Kind: pb.ResourceKind_RESOURCE_KIND_ENERGY.String(), Uptime: 6, Complete: 6, Quality: 10_000, Trust: 10_000,
			Weight: energy.Weight, Delivered: delivered, DeviceID: "m"}
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
			ds = append(ds, DeviceScore{DeviceID: fmt.Sprintf("w%02d", i), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER.String(), Uptime: 6,
				Complete: 6, Quality: 10_000, Trust: 10_000, Weight: weather.Weight, Cell: uint64(i), Area: 1})
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
	if q0, q1 := quality(DeviceScore{Uptime: 6, Complete: 6}, 3), quality(DeviceScore{Uptime: 6, Complete: 6, Moving: 1}, 3); q0 != 0 || q1 != 10_000 {
		t.Errorf("quality with no moving measurement %d, with one %d; want 0 and 10000", q0, q1)
	}
}
