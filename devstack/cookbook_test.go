package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/fieldmint/fieldmint/docs"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
)

const cookbookPath = "../docs/analysts.md"

// readCookbook reads the analysts' cookbook's recipes (rewritten from a
// running stack by go run ./tools/cookbook).
func readCookbook(t *testing.T) []docs.Recipe {
	t.Helper()
	raw, err := os.ReadFile(cookbookPath)
	if err != nil {
		t.Fatal(err)
	}
	rs := docs.Recipes(string(raw))
	if len(rs) < 10 {
		t.Fatalf("the cookbook has %d recipes, want at least 10", len(rs))
	}
	return rs
}

// checkCookbook runs every cookbook query against conn (a database the
// pipeline filled): each must succeed, its columns must be the ones the
// document shows, and most must find something.
func checkCookbook(t *testing.T, ctx context.Context, conn driver.Conn) {
	rs := readCookbook(t)
	nonEmpty := 0
	for _, r := range rs {
		n, cols, err := countRows(ctx, conn, r.SQL)
		if err != nil {
			t.Errorf("%s: %v", r.Title, err)
			continue
		}
		for _, col := range cols {
			if !strings.Contains(r.Output, col) {
				t.Errorf("%s: column %q is not in the documented output", r.Title, col)
			}
		}
		if n > 0 {
			nonEmpty++
		}
		t.Logf("%s: %d rows", r.Title, n)
	}
	if nonEmpty < len(rs)-3 {
		t.Errorf("only %d of %d cookbook queries found rows in the pipeline's data", nonEmpty, len(rs))
	}
}

// countRows runs sql and returns how many rows it gave, and its columns.
func countRows(ctx context.Context, conn driver.Conn, sql string) (int, []string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Columns(), rows.Err()
}

// checkAnalyst runs the cookbook as the analyst's own user, and holds that
// user to its grants and limits: refused, with ClickHouse's error, an
// INSERT, an ALTER, a read of a table outside its grants and a query past
// its limits. (That each stage works as its own user alone, startPipeline
// holds.)
func checkAnalyst(t *testing.T, ctx context.Context, cfg clickhouse.Config) {
	// clickhouse-go turns a context's deadline into max_execution_time,
	// which the analyst may not raise above its limit (60 s): the test's
	// minutes are refused.
	ctx = context.WithoutCancel(ctx)
	analyst, err := clickhouse.Dial(ctx, cfg.As("analyst"))
	if err != nil {
		t.Fatal(err)
	}
	defer analyst.Close()
	checkCookbook(t, ctx, analyst)
	checkNetworkDashboard(t, ctx, analyst)
	for sql, want := range map[string]int32{
		"INSERT INTO readings (device_id) VALUES ('x')":       497, // ACCESS_DENIED
		"ALTER TABLE device_scores DELETE WHERE 1":            497,
		"SELECT count() FROM insert_intents":                  497,
		"SELECT count() FROM settlement_votes":                497,
		"SELECT number FROM numbers(10000000)":                396, // TOO_MANY_ROWS_OR_BYTES
		"SELECT 1 FROM readings SETTINGS max_result_rows = 0": 452, // SETTING_CONSTRAINT_VIOLATION
	} {
		err := analyst.Exec(ctx, sql)
		var ex *proto.Exception
		if !errors.As(err, &ex) || ex.Code != want {
			t.Errorf("the analyst ran %s: %v, want ClickHouse's code %d", sql, err, want)
		}
	}
}

// checkNetworkDashboard runs every panel of the analysts' Grafana dashboard
// (deploy/monitoring/grafana/network) on conn, its time macro standing for
// the last day, as Grafana's ClickHouse data source would send it.
func checkNetworkDashboard(t *testing.T, ctx context.Context, conn driver.Conn) {
	raw, err := os.ReadFile("../deploy/monitoring/grafana/network/network.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct {
				RawSQL string `json:"rawSql"`
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	timeFilter := regexp.MustCompile(`\$__timeFilter\((\w+)\)`)
	withRows := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			sql := timeFilter.ReplaceAllString(tg.RawSQL, "$1 >= now() - INTERVAL 1 DAY")
			if strings.Contains(sql, "$__") {
				t.Errorf("panel %q uses a macro the test does not know: %s", p.Title, sql)
				continue
			}
			n, _, err := countRows(ctx, conn, sql)
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
				continue
			}
			if n > 0 {
				withRows++
			}
			t.Logf("dashboard panel %q: %d rows", p.Title, n)
		}
	}
	if withRows < len(dash.Panels)-1 {
		t.Errorf("only %d of %d dashboard panels found rows in the pipeline's data", withRows, len(dash.Panels))
	}
}
