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
	var offset uint64 // each row its own Kafka offset, as in the topics
	put := func(device, kind, status, reason string, ep uint64, lat, lon int32, kafkaOffset uint64, seconds ...int64) {
		for i, sec := range seconds {
			off := kafkaOffset
			if off == 0 {
				offset++
				off = offset
			}
			if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, lat_e7, lon_e7, received_at, status, reason, kafka_topic, kafka_partition, kafka_offset)
				VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, now64(3), ?, ?, ?, 0, ?)`,
				device, uint64(i+1), int64(ep)*epochLength.Milliseconds()+sec*1000, ep, kind, "owner-"+device, lat, lon, status, reason,
				map[string]string{"valid": "valid-topic", "rejected": "rejected-topic"}[status], off); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert := func(device, kind, status string, lat, lon int32, seconds ...int64) {
		reason := ""
		if status == "rejected" {
			reason = "OUT_OF_RANGE"
		}
		put(device, kind, status, reason, epoch, lat, lon, 0, seconds...)
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
	insert("ws-clone", weather, "valid", 388_000_400, -91_000_000, every5...)
	put("ws-clone", weather, "rejected", "CLONED_STREAM", epoch, 388_000_400, -91_000_000, 0, 3)
	insert("ws-probation", weather, "valid", 385_000_000, -91_000_000, every5...)
	put("ws-probation", weather, "rejected", "STUCK_SENSOR", epoch-1, 385_000_000, -91_000_000, 0, 3)
	insert("ws-after-cut", weather, "valid", 384_000_000, -91_000_000, every5...)
	put("ws-after-cut", weather, "rejected", "OUT_OF_RANGE", epoch, 384_000_000, -91_000_000, 5000, 3) // past the cut below
	insert("ws-retry", weather, "valid", 383_000_000, -91_000_000, every5...)
	put("ws-retry", weather, "rejected", "DUPLICATE", epoch, 383_000_000, -91_000_000, 0, 3)
	// A reading of another epoch is not this epoch's.
	put("ws-a", weather, "valid", "", epoch+1, 387_000_000, -91_400_000, 0, 0)

	got, err := ScoreEpoch(ctx, conn, DefaultScoring(), epochLength, epoch, "rejected-topic", map[int32]int64{0: 1000})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/scoring.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| ([a-z0-9-]+) \| (RESOURCE_KIND_[A-Z]+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$`)
	var want []string
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		want = append(want, strings.Join(m[1:], " "))
	}
	var have []string
	for _, d := range got {
		if d.Owner != "owner-"+d.DeviceID {
			t.Errorf("%s: owner %s", d.DeviceID, d.Owner)
		}
		have = append(have, fmt.Sprintf("%s %s %d %d %d %d %d", d.DeviceID, d.Kind, d.Readings, d.Uptime, d.Sharing, d.Frauds, d.Score))
	}
	if len(want) != 10 || strings.Join(have, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scores of the worked example:\n%s\ndocs/scoring.md says:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
	if err := storeScores(ctx, conn, epoch, got); err != nil {
		t.Fatal(err)
	}
	if err := storeScores(ctx, conn, epoch, got); err != nil { // a retry after a crash
		t.Fatal(err)
	}
	var rows, total uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(score) FROM device_scores WHERE epoch = ?", uint64(epoch)).Scan(&rows, &total); err != nil || rows != 10 || total != 34000 {
		t.Fatalf("device_scores after a retried insert: %d rows, total %d (%v); want 10 and 34000", rows, total, err)
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
	if h := s.Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT]; h != DefaultScoring().Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT] || s.Probation != 2 {
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
	if err := (Scoring{Kinds: map[pb.ResourceKind]KindScoring{pb.ResourceKind_RESOURCE_KIND_WEATHER: {Interval: time.Second, Weight: 0, CellResolution: 8}}}).Validate(time.Hour); err == nil {
		t.Error("weight 0 accepted")
	}
}
