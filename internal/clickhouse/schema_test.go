package clickhouse_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/migrations"
)

// stored is one reading as a test inserts it, and what the rollups must
// make of it.
type stored struct {
	device, kind, owner, status, reason string
	at                                  time.Time
	temp                                int64
	lat, lon                            int32
}

// fixture makes readings over three hours, two kinds, four devices, two
// owners, with rejections and readings without a position.
func fixture(from time.Time, n int) []stored {
	var out []stored
	for i := range n {
		r := stored{
			device: fmt.Sprintf("dev-%d", i%4), kind: []string{"WEATHER", "ENERGY"}[i%4/2], owner: []string{"0xa", "0xb"}[i%2],
			status: "valid", at: from.Add(time.Duration(i) * 7 * time.Minute), temp: int64(1000 + i*13%97),
			lat: 473_000_000 + int32(i%4)*1_000_000, lon: 85_000_000,
		}
		if i%5 == 0 {
			r.status, r.reason = "rejected", "OUT_OF_RANGE"
		}
		if i%7 == 0 {
			r.lat, r.lon = 0, 0
		}
		out = append(out, r)
	}
	return out
}

func insert(t *testing.T, conn driver.Conn, rs []stored, firstOffset int) {
	t.Helper()
	ctx := context.Background()
	// Columns of the first schema and of the newest: the upgrade test
	// inserts at version 2 and after the upgrade.
	batch, err := conn.PrepareBatch(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7,
		received_at, status, reason, detail, kafka_topic, kafka_partition, kafka_offset)`)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if err := batch.Append(r.device, uint64(i), r.at, uint64(0), r.kind, r.owner, map[string]int64{"temp": r.temp}, r.lat, r.lon,
			r.at, r.status, r.reason, "", "valid", uint32(0), uint64(firstOffset+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
}

// hourKey is a reading's hour, device and owner, as readByHour keys them.
func hourKey(r stored) string {
	return fmt.Sprintf("%s|%s|%s", r.at.Truncate(time.Hour).UTC().Format(time.DateTime), r.device, r.owner)
}

// hourly is device_hourly's content as computed here from the readings: the
// valid and rejected readings of each device and hour.
func hourly(rs []stored) map[string]string {
	type acc struct{ valid, rejected int64 }
	m := map[string]*acc{}
	for _, r := range rs {
		k := hourKey(r)
		a := m[k]
		if a == nil {
			a = &acc{}
			m[k] = a
		}
		if r.status != "valid" {
			a.rejected++
			continue
		}
		a.valid++
	}
	out := map[string]string{}
	for k, a := range m {
		out[k] = fmt.Sprintf("%d %d", a.valid, a.rejected)
	}
	return out
}

// temps is the sum, minimum and maximum of the valid readings' "temp" by
// device and hour.
func temps(rs []stored) map[string]string {
	type acc struct{ sum, mn, mx int64 }
	m := map[string]*acc{}
	for _, r := range rs {
		if r.status != "valid" {
			continue
		}
		k := hourKey(r)
		a := m[k]
		if a == nil {
			a = &acc{mn: 1 << 62, mx: -1 << 62}
			m[k] = a
		}
		a.sum += r.temp
		a.mn, a.mx = min(a.mn, r.temp), max(a.mx, r.temp)
	}
	out := map[string]string{}
	for k, a := range m {
		out[k] = fmt.Sprintf("%d %d %d", a.sum, a.mn, a.mx)
	}
	return out
}

// readHourly reads device_hourly by device and hour, with query's columns.
func readHourly(t *testing.T, conn driver.Conn) map[string]string {
	t.Helper()
	return readByHour(t, conn, "toString(sum(valid)) || ' ' || toString(sum(rejected)) FROM device_hourly")
}

// readByHour runs SELECT hour, device, owner, ... GROUP BY ALL over
// what, a string column and its FROM clause, into a map keyed like hourly's.
func readByHour(t *testing.T, conn driver.Conn, what string) map[string]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT formatDateTime(hour, '%F %T') || '|' || device_id || '|' || owner, `+what+` GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameMaps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s[%s] = %q, want %q", what, k, got[k], w)
		}
	}
}

// atVersion2 starts a server with database db at schema version 2 (before
// the rollups), where the upgrade tests begin.
func atVersion2(t *testing.T, db string) (driver.Conn, clickhouse.Config) {
	t.Helper()
	srv := testenv.ClickHouse(t)
	cfg := clickhouse.Config{Addr: srv.TCPAddr, Database: db, Username: "default"}
	conn, err := clickhouse.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := clickhouse.MigrateTo(context.Background(), conn, "", 2); err != nil {
		t.Fatal(err)
	}
	return conn, cfg
}

// TestUpgradeFromPreviousSchema stores readings under schema version 2 (no
// rollups), upgrades, and checks the rollups hold what was stored before the
// upgrade and what is stored after, counted once, also when the upgrade's
// statements run a second time (an upgrade interrupted half way).
func TestUpgradeFromPreviousSchema(t *testing.T) {
	ctx := context.Background()
	conn, cfg := atVersion2(t, "upgrade")
	if err := conn.Exec(ctx, "SELECT * FROM device_hourly LIMIT 0"); err == nil {
		t.Fatal("device_hourly exists at version 2; the test no longer starts from the previous schema")
	}
	from := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	before := fixture(from, 40)
	insert(t, conn, before, 0)

	up, err := clickhouse.OpenMigrated(ctx, cfg) // what fieldmint migrate does
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	sameMaps(t, "device_hourly after upgrade", readHourly(t, up), hourly(before))

	all, _ := migrations.All()
	for _, s := range all[len(all)-1].Statements {
		if err := up.Exec(ctx, s); err != nil {
			t.Fatalf("re-running the upgrade: %v", err)
		}
	}
	after := fixture(from.Add(2*time.Hour), 30)
	insert(t, up, after, 40)
	sameMaps(t, "device_hourly after more inserts", readHourly(t, up), hourly(append(before, after...)))

	var cells, owners, outcomes uint64
	if err := up.QueryRow(ctx, "SELECT sum(valid + rejected) FROM cell_hourly").Scan(&cells); err != nil {
		t.Fatal(err)
	}
	if err := up.QueryRow(ctx, "SELECT sum(valid + rejected) FROM owner_daily").Scan(&owners); err != nil {
		t.Fatal(err)
	}
	if err := up.QueryRow(ctx, "SELECT sum(readings) FROM outcomes_hourly").Scan(&outcomes); err != nil {
		t.Fatal(err)
	}
	positioned := 0
	for _, r := range append(before, after...) {
		if r.lat != 0 || r.lon != 0 {
			positioned++
		}
	}
	if owners != 70 || outcomes != 70 || cells != uint64(positioned) {
		t.Errorf("owner_daily holds %d readings, outcomes_hourly %d, cell_hourly %d; want 70, 70, %d", owners, outcomes, cells, positioned)
	}
}

// TestDeviceHourlyMapsKeptAt17 stores readings under schema 16, when
// device_hourly still summed measurements, upgrades (applying 17 twice, as
// an interrupted upgrade would), and stores more readings into the same
// hours: the maps keep exactly what they held, the counts go on, and
// readings hold the new measurements.
func TestDeviceHourlyMapsKeptAt17(t *testing.T) {
	ctx := context.Background()
	conn, cfg := atVersion2(t, "maps")
	if err := clickhouse.MigrateTo(ctx, conn, "", 16); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	before := fixture(from, 40)
	insert(t, conn, before, 0)
	mapped := "toString(sumMap(measurement_sum)['temp']) || ' ' || toString(minMap(measurement_min)['temp']) || ' ' || toString(maxMap(measurement_max)['temp']) FROM device_hourly WHERE valid > 0"
	want := readByHour(t, conn, mapped)
	sameMaps(t, "maps under schema 16", want, temps(before))

	up, err := clickhouse.OpenMigrated(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	all, _ := migrations.All()
	for _, m := range all {
		if m.Version == 17 {
			for _, s := range m.Statements {
				if err := up.Exec(ctx, s); err != nil {
					t.Fatalf("re-running migration 17: %v", err)
				}
			}
		}
	}
	after := fixture(from.Add(30*time.Minute), 30) // into the same hours
	insert(t, up, after, 40)
	sameMaps(t, "counts after the upgrade", readHourly(t, up), hourly(append(before, after...)))
	sameMaps(t, "maps after the upgrade", readByHour(t, up, mapped), want)
	sameMaps(t, "measurements from readings", readByHour(t, up, `toString(sum(measurements['temp'])) || ' ' || toString(min(measurements['temp'])) || ' ' || toString(max(measurements['temp']))
		FROM (SELECT toStartOfHour(event_time) AS hour, device_id, owner, measurements FROM readings WHERE status = 'valid')`), temps(append(before, after...)))
}

// TestCellsAreH3 checks the cell rollup by geometry: each stored cell is a
// resolution-7 H3 cell whose centre lies within 3 km of the place reported
// (a cell's edge is about 1.4 km), and Zurich and Bern fall in different
// cells. A swapped latitude and longitude would put the centre thousands of
// kilometres away.
func TestCellsAreH3(t *testing.T) {
	conn, _ := testenv.ClickHouseConn(t)
	ctx := context.Background()
	rs := fixture(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 2)
	rs[0].device, rs[0].lat, rs[0].lon = "zurich", 473_769_000, 85_417_000
	rs[1].device, rs[1].lat, rs[1].lon = "bern", 469_480_000, 74_474_000
	insert(t, conn, rs, 0)
	rows, err := conn.Query(ctx, `SELECT h3GetResolution(cell), tupleElement(h3ToGeo(cell), 1), tupleElement(h3ToGeo(cell), 2)
		FROM cell_hourly ORDER BY cell SETTINGS h3togeo_lon_lat_result_order = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var centres [][2]float64
	for rows.Next() {
		var res uint8
		var lat, lon float64
		if err := rows.Scan(&res, &lat, &lon); err != nil {
			t.Fatal(err)
		}
		if res != 7 {
			t.Errorf("cell resolution %d, want 7", res)
		}
		centres = append(centres, [2]float64{lat, lon})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(centres) != 2 {
		t.Fatalf("%d cells, want 2 (Zurich and Bern)", len(centres))
	}
	for _, r := range rs {
		p := [2]float64{float64(r.lat) / 1e7, float64(r.lon) / 1e7}
		best := 1e9
		for _, c := range centres {
			best = min(best, distanceKm(p, c))
		}
		if best > 3 {
			t.Errorf("%s: nearest cell centre %.1f km away", r.device, best)
		}
	}
}

// distanceKm is the haversine distance between two (lat, lon) points.
func distanceKm(a, b [2]float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (b[0]-a[0])*rad, (b[1]-a[1])*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a[0]*rad)*math.Cos(b[0]*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * 6371 * math.Asin(math.Sqrt(h))
}

// TestReadingsMergedWide: readings carries migration 18's merge setting
// (a later migration that re-created the table without it would lose the
// cut in merge CPU that docs/performance.md measures).
func TestReadingsMergedWide(t *testing.T) {
	conn, _ := testenv.ClickHouseConn(t)
	var engine string
	if err := conn.QueryRow(context.Background(), `SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'readings'`).Scan(&engine); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(engine, "merge_selector_base = 20") {
		t.Fatalf("readings' engine: %s", engine)
	}
}
