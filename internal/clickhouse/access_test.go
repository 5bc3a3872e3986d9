package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
)

// accessServer starts a server whose users file holds database db's roles
// and one user per stage, and migrates db as the default user.
func accessServer(t *testing.T, db string, limits clickhouse.AnalystLimits) (clickhouse.Config, driver.Conn) {
	t.Helper()
	users := clickhouse.Users{
		Aggregate: clickhouse.Account{Username: db + "_aggregate_user", Password: "agg-pw"},
		Settle:    clickhouse.Account{Username: db + "_settle_user", Password: "settle-pw"},
		API:       clickhouse.Account{Username: db + "_api_user", Password: "api-pw"},
		Analyst:   clickhouse.Account{Username: db + "_analyst_user", Password: "it's \"quoted\""},
	}
	s, err := chserver.Start(context.Background(), chserver.Options{Path: t.TempDir(),
		Users: clickhouse.AccessXML(map[string]clickhouse.Users{db: users}, limits)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	cfg := clickhouse.Config{Addr: s.TCPAddr, Database: db, Username: "default", Users: users, Analyst: limits}
	admin, err := clickhouse.OpenMigrated(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return cfg, admin
}

// code is the ClickHouse exception code of err (0: none).
func code(err error) int32 {
	var ex *proto.Exception
	if errors.As(err, &ex) {
		return ex.Code
	}
	return 0
}

const (
	accessDenied        = 497 // ACCESS_DENIED
	readonlyMode        = 164 // READONLY: readonly may not be changed
	tooManyRows         = 396 // TOO_MANY_ROWS_OR_BYTES
	constraintViolation = 452 // SETTING_CONSTRAINT_VIOLATION
	timeoutExceeded     = 159 // TIMEOUT_EXCEEDED
	quotaExceeded       = 201 // QUOTA_EXCEEDED
)

// TestStagesHoldOnlyTheirGrants: each stage's user does its own work and is
// refused the others'; the analyst reads the analyst tables and is refused
// every write, every other table and a query past its limits, with
// ClickHouse's own error.
func TestStagesHoldOnlyTheirGrants(t *testing.T) {
	ctx := context.Background()
	limits := clickhouse.AnalystLimits{MaxExecutionTime: 10 * time.Second, MaxResultRows: 1000, MaxThreads: 1, MaxCPUs: 0.5, QueriesPerMinute: 40}
	cfg, _ := accessServer(t, "acc", limits)
	as := func(stage string) driver.Conn {
		t.Helper()
		open := clickhouse.Open // a stage checks the schema: it reads schema_migrations
		if stage == "analyst" {
			open = clickhouse.Dial
		}
		conn, err := open(ctx, cfg.As(stage))
		if err != nil {
			t.Fatalf("%s's user: %v", stage, err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	type check struct {
		stage, sql string
		want       int32 // 0: succeeds
	}
	checks := []check{
		{"aggregate", "INSERT INTO epochs VALUES (1, now64(3), now64(3), now64(3))", 0},
		{"aggregate", "SELECT count() FROM kafka_progress", 0},
		{"aggregate", "INSERT INTO settlement_states (epoch) VALUES (1)", accessDenied},
		{"aggregate", "DROP TABLE readings", accessDenied},
		{"settle", "SELECT count() FROM device_scores FINAL", 0},
		{"settle", "DELETE FROM reward_leaves WHERE epoch >= 100", 0},
		{"settle", "INSERT INTO epochs VALUES (2, now64(3), now64(3), now64(3))", accessDenied},
		{"api", "SELECT count() FROM settlements_latest", 0},
		{"api", "INSERT INTO chain_cursor (block) VALUES (1)", accessDenied},
		{"analyst", "SELECT count() FROM readings", 0},
		{"analyst", "SELECT count() FROM claims", 0},
		{"analyst", "SELECT count() FROM devices_current", 0},
		{"analyst", "SELECT count() FROM insert_intents", accessDenied},
		{"analyst", "SELECT count() FROM settlement_votes", accessDenied},
		{"analyst", "INSERT INTO epochs VALUES (3, now64(3), now64(3), now64(3))", accessDenied},
		{"analyst", "ALTER TABLE readings DELETE WHERE 1", accessDenied},
		{"analyst", "DROP TABLE epochs", accessDenied},
		{"analyst", "SELECT number FROM numbers(100000)", tooManyRows},
		{"analyst", "SELECT number FROM numbers(100000) SETTINGS max_result_rows = 0", constraintViolation},
		{"analyst", "SELECT count() FROM numbers(10) SETTINGS max_execution_time = 0", constraintViolation},
		{"analyst", "SELECT count() FROM numbers(10) SETTINGS max_memory_usage = 0", constraintViolation},
		{"analyst", "SELECT count() FROM numbers(10) SETTINGS max_execution_time = 5", 0},
		{"analyst", "SELECT count() FROM numbers(1000000000000) SETTINGS max_execution_time = 1", timeoutExceeded},
		{"analyst", "SELECT 1 SETTINGS workload = 'acc_pipeline'", constraintViolation},
		{"analyst", "SET readonly = 0", readonlyMode},
		{"analyst", "CREATE TABLE acc.mine (x UInt8) ENGINE = Memory", accessDenied},
	}
	for _, c := range checks {
		err := as(c.stage).Exec(ctx, c.sql)
		if got := code(err); got != c.want {
			t.Errorf("%s: %s: got code %d (%v), want %d", c.stage, c.sql, got, err, c.want)
		}
	}
	// The analyst's queries run in the analysts' workload, the stages' in
	// the pipeline's.
	for stage, want := range map[string]string{"analyst": "acc_analysts", "aggregate": "acc_pipeline", "api": "acc_pipeline"} {
		var got string
		if err := as(stage).QueryRow(ctx, "SELECT toString(getSetting('workload'))").Scan(&got); err != nil || got != want {
			t.Errorf("%s runs in workload %q (%v), want %q", stage, got, err, want)
		}
	}
	// The analysts' workload comes after the pipeline's, capped.
	admin, err := clickhouse.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var pipeline, analysts string
	if err := admin.QueryRow(ctx, "SELECT anyIf(create_query, name = 'acc_pipeline'), anyIf(create_query, name = 'acc_analysts') FROM system.workloads").Scan(&pipeline, &analysts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pipeline, "priority = 0") || !strings.Contains(analysts, "priority = 1") ||
		!strings.Contains(analysts, "max_concurrent_threads = 1") || !strings.Contains(analysts, "max_cpus = 0.5") {
		t.Errorf("workloads: %q, %q", pipeline, analysts)
	}
	// The analyst's quota: 40 queries a minute (some of the queries above
	// counted already).
	analyst := as("analyst")
	for i := 0; i < 100 && code(err) != quotaExceeded; i++ {
		var n uint64
		err = analyst.QueryRow(ctx, "SELECT count() FROM epochs").Scan(&n)
	}
	if code(err) != quotaExceeded {
		t.Errorf("100 queries within a minute under a quota of 40: %v, want QUOTA_EXCEEDED", err)
	}
	// A wrong password is refused.
	bad := cfg.As("analyst")
	bad.Password = "wrong"
	if _, err := clickhouse.Dial(ctx, bad); err == nil || !strings.Contains(err.Error(), "Authentication failed") {
		t.Errorf("a wrong password: %v", err)
	}
}

// TestAccessSQLParses holds the SQL rendering (for servers that manage
// users by SQL, which clickhouse-local cannot) to the server's own parser,
// and to the grants the file rendering gives.
func TestAccessSQLParses(t *testing.T) {
	_, admin := accessServer(t, "sqlacc", clickhouse.DefaultAnalystLimits())
	ctx := context.Background()
	users := clickhouse.Users{Analyst: clickhouse.Account{Username: "ana", Password: `p'w\`}}
	stmts := clickhouse.AccessSQL("sqlacc", users, clickhouse.DefaultAnalystLimits())
	grants := 0
	for _, s := range stmts {
		var formatted string
		if err := admin.QueryRow(ctx, "SELECT formatQuery(?)", s).Scan(&formatted); err != nil {
			t.Errorf("%q does not parse: %v", s, err)
		}
		if strings.HasPrefix(s, "GRANT ") && strings.Contains(s, " ON ") {
			grants++
		}
	}
	want := 0
	for _, stage := range clickhouse.Stages {
		want += len(clickhouse.Grants("sqlacc", stage))
	}
	if grants != want {
		t.Errorf("the SQL grants %d privileges, the model %d", grants, want)
	}
	xml := string(clickhouse.AccessXML(map[string]clickhouse.Users{"sqlacc": users}, clickhouse.DefaultAnalystLimits()))
	if strings.Contains(xml, `p'w`) {
		t.Error("the users file holds a password in clear")
	}
}

// TestWorkloadsAfterRestart: migrating again after the server restarted
// (a power cut of the dev stack, a replay into another database) makes the
// workloads again.
func TestWorkloadsAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i := range 2 {
		s, err := chserver.Start(ctx, chserver.Options{Path: dir})
		if err != nil {
			t.Fatal(err)
		}
		db := fmt.Sprintf("restart_%d", i)
		conn, err := clickhouse.OpenMigrated(ctx, clickhouse.Config{Addr: s.TCPAddr, Database: db, Username: "default"})
		if err != nil {
			s.Kill()
			t.Fatalf("start %d: %v", i+1, err)
		}
		var n uint64
		err = conn.QueryRow(ctx, "SELECT count() FROM system.workloads WHERE name IN ('all', ?, ?)", db+"_pipeline", db+"_analysts").Scan(&n)
		conn.Close()
		s.Kill()
		if err != nil || n != 3 {
			t.Fatalf("start %d: %d of the 3 workloads (%v)", i+1, n, err)
		}
	}
}
