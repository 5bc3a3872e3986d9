package aggregator

import (
	"context"
	"fmt"
	"os"
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
	start := int64(epoch) * epochLength.Milliseconds()
	insert := func(device, kind, status string, lat, lon int32, offsets ...int64) {
		for i, off := range offsets {
			if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, lat_e7, lon_e7, received_at, status, reason, kafka_topic, kafka_offset)
				VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, now64(3), ?, ?, 't', ?)`,
				device, uint64(i+1), start+off*1000, uint64(epoch), kind, "owner-"+device, lat, lon, status, map[string]string{"valid": "", "rejected": "OUT_OF_RANGE"}[status], uint64(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	weather, energy := pb.ResourceKind_RESOURCE_KIND_WEATHER.String(), pb.ResourceKind_RESOURCE_KIND_ENERGY.String()
	every5 := []int64{0, 5, 10, 15, 20, 25}
	insert("ws-a", weather, "valid", 387_000_000, -91_400_000, 0, 1, 2, 7, 12, 29)
	var all []int64
	for s := int64(0); s < 30; s++ {
		all = append(all, s)
	}
	insert("ws-flood", weather, "valid", 387_500_000, -92_000_000, all...)
	for i := int32(1); i <= 3; i++ {
		insert(fmt.Sprintf("ws-ring-%d", i), weather, "valid", 388_000_000+i*100, -91_000_000, every5...)
	}
	insert("meter-d", energy, "valid", 388_000_100, -91_000_000, every5...)
	insert("ws-e", weather, "rejected", 386_000_000, -91_000_000, every5...)
	// A reading of another epoch is not this epoch's.
	if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, lat_e7, lon_e7, received_at, status, kafka_topic)
		VALUES ('ws-a', 99, fromUnixTimestamp64Milli(?), ?, ?, 'owner-ws-a', 387000000, -91400000, now64(3), 'valid', 't')`, start+epochLength.Milliseconds(), uint64(epoch+1), weather); err != nil {
		t.Fatal(err)
	}

	got, err := ScoreEpoch(ctx, conn, DefaultScoring(), epochLength, epoch)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/scoring.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| ([a-z0-9-]+) \| (RESOURCE_KIND_[A-Z]+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$`)
	var want []string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		want = append(want, strings.Join(m[1:], " "))
	}
	var have []string
	for _, d := range got {
		if d.Owner != "owner-"+d.DeviceID {
			t.Errorf("%s: owner %s", d.DeviceID, d.Owner)
		}
		have = append(have, fmt.Sprintf("%s %s %d %d %d %d", d.DeviceID, d.Kind, d.Readings, d.Uptime, d.Sharing, d.Score))
	}
	if len(want) != 6 || strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scores of the worked example:\n%s\ndocs/scoring.md says:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
	if err := storeScores(ctx, conn, epoch, got); err != nil {
		t.Fatal(err)
	}
	if err := storeScores(ctx, conn, epoch, got); err != nil { // a retry after a crash
		t.Fatal(err)
	}
	var rows, total uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(score) FROM device_scores WHERE epoch = ?", uint64(epoch)).Scan(&rows, &total); err != nil || rows != 6 || total != 22000 {
		t.Fatalf("device_scores after a retried insert: %d rows, total %d (%v); want 6 and 22000", rows, total, err)
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
	if w := s[pb.ResourceKind_RESOURCE_KIND_WEATHER]; w.Interval != time.Minute || w.Weight != 2000 || w.CellResolution != 7 {
		t.Fatalf("weather: %+v", w)
	}
	if h := s[pb.ResourceKind_RESOURCE_KIND_HOTSPOT]; h != DefaultScoring()[pb.ResourceKind_RESOURCE_KIND_HOTSPOT] {
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
	if err := (Scoring{pb.ResourceKind_RESOURCE_KIND_WEATHER: {Interval: time.Second, Weight: 0, CellResolution: 8}}).Validate(time.Hour); err == nil {
		t.Error("weight 0 accepted")
	}
}
