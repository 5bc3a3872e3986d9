package chserver

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	ServeIfChild()
	os.Exit(m.Run())
}

func TestServerAnswersAndPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	query := func(s *Server, q string) string {
		t.Helper()
		resp, err := http.Post("http://"+s.HTTPAddr+"/", "text/plain", strings.NewReader(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, b)
		}
		return strings.TrimSpace(string(b))
	}
	s, err := Start(ctx, Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if v := query(s, "SELECT version()"); !strings.HasPrefix(v, "26.") {
		t.Fatalf("version %q, want 26.x", v)
	}
	query(s, "CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x")
	query(s, "INSERT INTO t SELECT number FROM numbers(10)")
	s.Kill()

	s2, err := Start(ctx, Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s2.Stop)
	if got := query(s2, "SELECT sum(x) FROM t"); got != "45" {
		t.Fatalf("after restart sum = %q, want 45", got)
	}
}
