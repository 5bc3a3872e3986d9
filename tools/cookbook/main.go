// Command cookbook rewrites the outputs shown in docs/analysts.md from a
// running stack's ClickHouse (make dev), each recipe's SQL run as written:
//
//	go run ./tools/cookbook -url 'http://127.0.0.1:8123/?database=fieldmint'
//
// The devstack's end-to-end test runs the same recipes against the data the
// pipeline stored, and checks their columns against these outputs.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/fieldmint/fieldmint/docs"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8123/?database=fieldmint", "ClickHouse HTTP URL, with ?database=")
	path := flag.String("doc", "docs/analysts.md", "the cookbook to rewrite")
	flag.Parse()
	if err := rewrite(*url, *path); err != nil {
		fmt.Fprintln(os.Stderr, "cookbook:", err)
		os.Exit(1)
	}
}

func rewrite(url, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := string(raw)
	var b strings.Builder
	last := 0
	for _, r := range docs.Recipes(doc) {
		resp, err := http.Post(url, "text/plain", strings.NewReader(r.SQL+"\nFORMAT PrettyCompactMonoBlock SETTINGS output_format_pretty_row_numbers = 0, output_format_pretty_single_large_number_tip_threshold = 0"))
		if err != nil {
			return err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", r.Title, out)
		}
		if len(out) == 0 {
			out = []byte("(no rows)\n")
		}
		b.WriteString(doc[last:r.OutStart])
		b.Write(out)
		last = r.OutEnd
	}
	b.WriteString(doc[last:])
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Println("rewrote", path)
	return nil
}
