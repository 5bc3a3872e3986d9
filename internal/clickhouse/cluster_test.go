package clickhouse_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/migrations"
)

// TestClusterDDL checks every statement's cluster form: ON CLUSTER, a
// Replicated engine for every table, the replicated deduplication window,
// and that a real ClickHouse parses it.
func TestClusterDDL(t *testing.T) {
	conn, _ := testenv.ClickHouseConn(t)
	ctx := context.Background()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	plainEngine := regexp.MustCompile(`ENGINE = (Summing|Replacing|Aggregating)?MergeTree`)
	n := 0
	for _, m := range all {
		stmts, err := clickhouse.Statements(m, "fieldmint_cluster")
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range stmts {
			orig := m.Statements[i]
			if strings.HasPrefix(orig, "INSERT") {
				if s != orig {
					t.Errorf("%s: an INSERT was rewritten: %s", m.Name, s)
				}
				continue
			}
			n++
			var formatted string
			if err := conn.QueryRow(ctx, "SELECT formatQuerySingleLine(?)", s).Scan(&formatted); err != nil {
				t.Errorf("%s statement %d does not parse: %v\n%s", m.Name, i+1, err, s)
				continue
			}
			if !strings.Contains(formatted, "ON CLUSTER fieldmint_cluster") {
				t.Errorf("%s statement %d lacks ON CLUSTER: %s", m.Name, i+1, formatted)
			}
			if plainEngine.MatchString(formatted) || strings.Contains(formatted, "non_replicated") {
				t.Errorf("%s statement %d keeps a single-server engine or setting: %s", m.Name, i+1, formatted)
			}
			if strings.Contains(orig, "MergeTree") && !strings.Contains(formatted, "ENGINE = Replicated") {
				t.Errorf("%s statement %d: table not replicated: %s", m.Name, i+1, formatted)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d DDL statements checked", n)
	}
	if _, err := migrations.ForCluster("CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x", "c'; DROP"); err == nil {
		t.Error("a cluster name with a quote was accepted")
	}
	if _, err := migrations.ForCluster("DROP TABLE readings", "c"); err == nil {
		t.Error("a statement without a cluster form was accepted")
	}
}

// TestReadingsTTL sets, changes and removes the TTL, and shows that expired
// raw readings go while the rollups keep them.
func TestReadingsTTL(t *testing.T) {
	conn, cfg := testenv.ClickHouseConn(t)
	ctx := context.Background()
	engine := func() string {
		var s string
		if err := conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'readings'").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	rs := fixture(time.Now().Add(-30*24*time.Hour).Truncate(time.Hour), 10)
	insert(t, conn, rs, 0)
	fresh := fixture(time.Now().Add(-time.Hour).Truncate(time.Hour), 5)
	insert(t, conn, fresh, 10)

	cfg.ReadingsTTL = 7 * 24 * time.Hour
	c2, err := clickhouse.OpenMigrated(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if e := engine(); !strings.Contains(e, "TTL toDateTime(received_at) + toIntervalSecond(604800)") {
		t.Fatalf("TTL not set: %s", e)
	}
	if err := conn.Exec(ctx, "OPTIMIZE TABLE readings FINAL"); err != nil {
		t.Fatal(err)
	}
	var raw, rolled uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT sum(valid + rejected) FROM device_hourly").Scan(&rolled); err != nil {
		t.Fatal(err)
	}
	if raw != 5 || rolled != 15 {
		t.Errorf("after expiry: %d raw readings (want the 5 fresh ones), rollup counts %d (want all 15)", raw, rolled)
	}
	cfg.ReadingsTTL = 0
	c3, err := clickhouse.OpenMigrated(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c3.Close()
	if e := engine(); strings.Contains(e, " TTL ") {
		t.Fatalf("TTL not removed: %s", e)
	}
	cfg.ReadingsTTL = 1500 * time.Millisecond
	if _, err := clickhouse.OpenMigrated(ctx, cfg); err == nil {
		t.Error("a TTL of 1.5 s was accepted")
	}
}

// TestTwoMigratorsAtOnce: two `fieldmint migrate` started together on a
// database at version 2 holding readings leave one schema, every migration
// recorded once and the rollups' backfills counted once (each backfill runs
// under the lock); a role refuses to start on the old schema and starts on
// the new one.
func TestTwoMigratorsAtOnce(t *testing.T) {
	ctx := context.Background()
	conn, cfg := atVersion2(t, "racing")
	before := fixture(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), 40)
	insert(t, conn, before, 0)
	if _, err := clickhouse.Open(ctx, cfg); !errors.Is(err, clickhouse.ErrSchema) || !strings.Contains(err.Error(), "fieldmint migrate") {
		t.Fatalf("a role started on schema version 2: %v", err)
	}
	var wg sync.WaitGroup
	applied := make([][]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := clickhouse.Dial(ctx, cfg)
			if err != nil {
				errs[i] = err
				return
			}
			defer c.Close()
			applied[i], errs[i] = clickhouse.Migrate(ctx, c, cfg)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	all, _ := migrations.All()
	if n := len(applied[0]) + len(applied[1]); n != len(all)-2 || (len(applied[0]) != 0 && len(applied[1]) != 0) {
		t.Errorf("the two migrators applied %d and %d migrations; want one of them all %d, the other none", len(applied[0]), len(applied[1]), len(all)-2)
	}
	var rows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&rows); err != nil || int(rows) != len(all) {
		t.Errorf("schema_migrations holds %d rows (%v), want %d", rows, err, len(all))
	}
	sameMaps(t, "device_hourly after two migrators", readHourly(t, conn), hourly(before))
	var locks uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = 'racing' AND name = 'schema_migration_lock'").Scan(&locks); err != nil || locks != 0 {
		t.Errorf("the migration lock was left behind (%d, %v)", locks, err)
	}
	role, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("a role on the migrated schema: %v", err)
	}
	role.Close()
}
