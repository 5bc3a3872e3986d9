package killtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fieldmint/fieldmint/internal/procs"
)

// proc is one OS process of the pipeline under a supervisor that restarts it
// whenever it exits, as systemd or Kubernetes would, until it is stopped
// (internal/procs, shared with the benches).
type proc = procs.Proc

func startProc(t *testing.T, dir, name, bin string, env []string, args ...string) *proc {
	return startProcGroup(t, dir, name, bin, false, env, args...)
}

func startProcGroup(t *testing.T, dir, name, bin string, group bool, env []string, args ...string) *proc {
	log := filepath.Join(dir, name+".log")
	p, err := procs.Start(procs.Options{Name: name, Bin: bin, Args: args, Env: env, Log: log, Restart: true, Group: group})
	if err != nil {
		t.Fatal(err)
	}
	// The log goes with the test's directory: a failed test shows its end
	// (after the process stopped), so that a failure seen once, in CI,
	// can be read afterwards.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the last lines of %s's log:\n%s", name, tail(log, logTailLines))
		}
	})
	t.Cleanup(p.Stop)
	return p
}

// logTailLines is how much of a process's log a failed test shows.
const logTailLines = 150

// tail is the last n lines of the file at path.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.SplitAfter(string(raw), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// reread runs read again while ClickHouse cannot answer, for up to a
// minute: the embedded server is started again when it dies (which chDB
// does when a killed client's connection resets under it; see
// chserver.Options.Restart), and a check must not fail on those seconds.
// An answer from ClickHouse, an error of a query included, ends it.
func reread(ctx context.Context, read func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := read()
		var ex *ch.Exception
		if err == nil || (errors.As(err, &ex) && ex.Code != 236 /* ABORTED: shutting down */) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
