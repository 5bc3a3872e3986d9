package devstack

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

const cookbookPath = "../docs/analysts.md"

var regenURL = flag.String("cookbook.url", "", "ClickHouse HTTP URL (with ?database=) to rewrite docs/analysts.md's outputs from")

// recipe is one question of the cookbook: its SQL and the output shown.
type recipe struct {
	title, sql, output string
	outStart, outEnd   int // byte range of output in the document
}

var recipeRE = regexp.MustCompile("(?s)## ([0-9]+[.] [^\n]+)\n.*?```sql\n(.*?)\n```\n\n```text\n(.*?)```")

func readCookbook(t *testing.T) (string, []recipe) {
	t.Helper()
	raw, err := os.ReadFile(cookbookPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	var rs []recipe
	for _, m := range recipeRE.FindAllStringSubmatchIndex(doc, -1) {
		rs = append(rs, recipe{title: doc[m[2]:m[3]], sql: doc[m[4]:m[5]], output: doc[m[6]:m[7]], outStart: m[6], outEnd: m[7]})
	}
	if len(rs) < 10 {
		t.Fatalf("the cookbook has %d recipes, want at least 10", len(rs))
	}
	return doc, rs
}

// checkCookbook runs every cookbook query against conn (a database the
// pipeline filled): each must succeed, its columns must be the ones the
// document shows, and most must find something.
func checkCookbook(t *testing.T, ctx context.Context, conn driver.Conn) {
	_, rs := readCookbook(t)
	nonEmpty := 0
	for _, r := range rs {
		rows, err := conn.Query(ctx, r.sql)
		if err != nil {
			t.Errorf("%s: %v", r.title, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", r.title, err)
		}
		for _, col := range rows.Columns() {
			if !strings.Contains(r.output, col) {
				t.Errorf("%s: column %q is not in the documented output", r.title, col)
			}
		}
		rows.Close()
		if n > 0 {
			nonEmpty++
		}
		t.Logf("%s: %d rows", r.title, n)
	}
	if nonEmpty < len(rs)-3 {
		t.Errorf("only %d of %d cookbook queries found rows in the pipeline's data", nonEmpty, len(rs))
	}
}

// TestCookbookRegenerate rewrites the cookbook's outputs from a running stack
// (make dev): go test ./devstack -run TestCookbookRegenerate -args
// -cookbook.url='http://127.0.0.1:8123/?database=fieldmint'
func TestCookbookRegenerate(t *testing.T) {
	if *regenURL == "" {
		t.Skip("a tool, not a test: set -cookbook.url to rewrite docs/analysts.md from a running stack")
	}
	doc, rs := readCookbook(t)
	var b strings.Builder
	last := 0
	for _, r := range rs {
		resp, err := http.Post(*regenURL, "text/plain", strings.NewReader(r.sql+"\nFORMAT PrettyCompactMonoBlock SETTINGS output_format_pretty_row_numbers = 0, output_format_pretty_single_large_number_tip_threshold = 0"))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", r.title, out)
		}
		if len(out) == 0 {
			out = []byte("(no rows)\n")
		}
		b.WriteString(doc[last:r.outStart])
		b.Write(out)
		last = r.outEnd
	}
	b.WriteString(doc[last:])
	if err := os.WriteFile(cookbookPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Println("rewrote", cookbookPath)
}
