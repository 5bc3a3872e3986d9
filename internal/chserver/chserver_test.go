package chserver

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
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

// With Restart, a server that dies by itself (here kill -9 of its process,
// as chDB's own terminate ends it) is started again on the same data, and
// Stop still ends it for good.
func TestRestartAfterTheServerDies(t *testing.T) {
	s, err := Start(context.Background(), Options{Path: t.TempDir(), Restart: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	post := func(q string) (string, error) {
		resp, err := http.Post("http://"+s.HTTPAddr+"/", "text/plain", strings.NewReader(q))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(b)), nil
	}
	if _, err := post("CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if _, err := post("INSERT INTO t SELECT number FROM numbers(10)"); err != nil {
		t.Fatal(err)
	}
	first := s.PID()
	if err := syscall.Kill(-first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := post("SELECT sum(x) FROM t")
		if err == nil && got == "45" && s.PID() != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never came back with its data: %q %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-s.Done():
		t.Fatal("Done closed although the server was started again")
	default:
	}
	// What a failed run shows: the death, noted in the server's output.
	if tail := s.LogTail(5); !strings.Contains(tail, "chserver: the server exited") {
		t.Errorf("the output's tail does not say the server exited: %q", tail)
	}
	s.Stop()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done never closed after Stop")
	}
}
