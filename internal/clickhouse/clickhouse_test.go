package clickhouse_test

import (
	"context"
	"os"
	"testing"

	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/migrations"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	os.Exit(m.Run())
}

func TestMigrationsApplyOnceAndAgain(t *testing.T) {
	conn, cfg := testenv.ClickHouseConn(t)
	ctx := context.Background()
	// A second Open (a restart) must find everything applied and change nothing.
	conn2, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	// A migration interrupted half way is applied again from its first
	// statement: on a database of its own, each file's statements run twice
	// in a row, over the schema the files before it made.
	all, _ := migrations.All()
	again, err := clickhouse.Dial(ctx, clickhouse.Config{Addr: cfg.Addr, Database: "again", Username: cfg.Username})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, m := range all {
		for range 2 {
			for _, s := range m.Statements {
				if err := again.Exec(ctx, s); err != nil {
					t.Fatalf("%s is not idempotent: %v", m.Name, err)
				}
			}
		}
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM schema_migrations FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != len(all) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(all))
	}
	for _, table := range []string{"readings", "rejections", "epoch_scores", "kafka_progress", "epochs", "reward_leaves", "settlements", "device_hourly", "cell_hourly", "owner_daily", "outcomes_hourly", "devices", "devices_current", "settlements_latest", "rewards", "rejections_by_reason"} {
		if err := conn.Exec(ctx, "SELECT count() FROM "+table); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []clickhouse.Config{{}, {Addr: "x:1", Database: "bad-name"}, {Addr: "x:1", Database: "a;DROP"}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (clickhouse.Config{Addr: "x:1", Database: "fieldmint"}).Validate(); err != nil {
		t.Error(err)
	}
}
