package clickhouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestOwnerDailyAndEpochScoresAreViews checks the two rollups that became
// views (migrations 19 and 20) against readings counted here: owner_daily
// as device_hourly summed by day, and epoch_scores with a scored epoch's
// counts from device_scores (set apart from the readings' own, so that the
// branch read shows) and an epoch not scored yet from readings.
func TestOwnerDailyAndEpochScoresAreViews(t *testing.T) {
	conn, _ := testenv.ClickHouseConn(t)
	ctx := context.Background()
	// 60 readings over 7 hours (epochs of an hour: 2026-11-20 22:00 to
	// 04:00 the next day, so two days), 4 devices, 2 owners, a fifth rejected.
	from := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	rs := fixture(from, 60)
	batch, err := conn.PrepareBatch(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, received_at, status, reason, kafka_topic, kafka_partition, kafka_offset)`)
	if err != nil {
		t.Fatal(err)
	}
	epochOf := func(r stored) uint64 { return uint64(r.at.Unix() / 3600) }
	type day struct{ day, owner string }
	type epochKey struct {
		epoch         uint64
		owner, device string
	}
	wantDaily, devicesDaily, wantEpochs := map[day][2]uint64{}, map[day]map[string]bool{}, map[epochKey]uint64{}
	for i, r := range rs {
		if err := batch.Append(r.device, uint64(i), r.at, epochOf(r), r.kind, r.owner, r.at, r.status, r.reason, "valid", uint32(0), uint64(i)); err != nil {
			t.Fatal(err)
		}
		k := day{r.at.Format(time.DateOnly), r.owner}
		c := wantDaily[k]
		if r.status == "valid" {
			c[0]++
			wantEpochs[epochKey{epochOf(r), r.owner, r.device}]++
		} else {
			c[1]++
		}
		wantDaily[k] = c
		if devicesDaily[k] == nil {
			devicesDaily[k] = map[string]bool{}
		}
		devicesDaily[k][r.device] = true
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}

	rows, err := conn.Query(ctx, "SELECT toString(day), owner, sum(valid), sum(rejected), uniqMerge(devices) FROM owner_daily GROUP BY day, owner")
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for rows.Next() {
		var k day
		var valid, rejected, devices uint64
		if err := rows.Scan(&k.day, &k.owner, &valid, &rejected, &devices); err != nil {
			t.Fatal(err)
		}
		got++
		if w := wantDaily[k]; valid != w[0] || rejected != w[1] || devices != uint64(len(devicesDaily[k])) {
			t.Errorf("owner_daily %v: valid %d, rejected %d, devices %d; want %d, %d, %d", k, valid, rejected, devices, w[0], w[1], len(devicesDaily[k]))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if got != len(wantDaily) || len(wantDaily) != 4 {
		t.Errorf("owner_daily has %d days and owners, want %d (4)", got, len(wantDaily))
	}

	// The first epoch is scored: device_scores says 100 + its readings for
	// each device, for one owner ("0xscored"); the others are not.
	scored := epochOf(rs[0])
	for k, n := range wantEpochs {
		if k.epoch != scored {
			continue
		}
		if err := conn.Exec(ctx, "INSERT INTO device_scores (epoch, device_id, owner, kind, readings) VALUES (?, ?, '0xscored', 'WEATHER', ?)", k.epoch, k.device, 100+n); err != nil {
			t.Fatal(err)
		}
		delete(wantEpochs, k)
		wantEpochs[epochKey{k.epoch, "0xscored", k.device}] += 100 + n
	}
	if err := conn.Exec(ctx, "INSERT INTO scored_epochs VALUES (?, now64(3))", scored); err != nil {
		t.Fatal(err)
	}
	rows, err = conn.Query(ctx, "SELECT epoch, owner, device_id, sum(readings) FROM epoch_scores GROUP BY ALL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[epochKey]uint64{}
	for rows.Next() {
		var k epochKey
		var n uint64
		if err := rows.Scan(&k.epoch, &k.owner, &k.device, &n); err != nil {
			t.Fatal(err)
		}
		seen[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(wantEpochs) || len(wantEpochs) < 10 {
		t.Errorf("epoch_scores has %d rows, want %d", len(seen), len(wantEpochs))
	}
	for k, n := range wantEpochs {
		if seen[k] != n {
			t.Errorf("epoch_scores %v: %d, want %d", k, seen[k], n)
		}
	}
}
