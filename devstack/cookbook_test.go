package devstack

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/docs"
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
		rows, err := conn.Query(ctx, r.SQL)
		if err != nil {
			t.Errorf("%s: %v", r.Title, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", r.Title, err)
		}
		for _, col := range rows.Columns() {
			if !strings.Contains(r.Output, col) {
				t.Errorf("%s: column %q is not in the documented output", r.Title, col)
			}
		}
		rows.Close()
		if n > 0 {
			nonEmpty++
		}
		t.Logf("%s: %d rows", r.Title, n)
	}
	if nonEmpty < len(rs)-3 {
		t.Errorf("only %d of %d cookbook queries found rows in the pipeline's data", nonEmpty, len(rs))
	}
}
