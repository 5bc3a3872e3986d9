package procs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// until waits for cond, failing with what it waited for.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: still waiting for %s", what)
		}
	}
}

// TestRestartedAfterKill: a supervised process killed comes back, its log
// says so, and Stop ends it for good.
func TestRestartedAfterKill(t *testing.T) {
	log := filepath.Join(t.TempDir(), "sleep.log")
	p, err := Start(Options{Name: "sleep", Bin: "sleep", Args: []string{"60"}, Log: log, Restart: true})
	if err != nil {
		t.Fatal(err)
	}
	first := p.PID()
	p.Kill()
	until(t, "a second run", func() bool { return p.Starts() == 2 })
	if p.PID() == first || p.Kills() != 1 || p.Exits() != 1 {
		t.Fatalf("after a kill: pid %d (was %d), kills %d, exits %d", p.PID(), first, p.Kills(), p.Exits())
	}
	p.Stop()
	if p.Exited() != nil || p.Exits() != 2 {
		t.Fatalf("after Stop: %v, %d exits", p.Exited(), p.Exits())
	}
	if n := strings.Count(p.Tail(), "=== start"); n != 2 {
		t.Fatalf("log holds %d starts, want 2:\n%s", n, p.Tail())
	}
}

// TestSetReportsADeath: a process of a set that exits by itself is named by
// Alive; Stop stops the rest.
func TestSetReportsADeath(t *testing.T) {
	var s Set
	defer s.Stop()
	if _, err := s.Start(Options{Name: "long", Bin: "sleep", Args: []string{"60"}}); err != nil {
		t.Fatal(err)
	}
	short, err := s.Start(Options{Name: "short", Bin: "sh", Args: []string{"-c", "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	until(t, "the short process to exit", func() bool { return short.Exited() != nil })
	if err := s.Alive(); err == nil || !strings.Contains(err.Error(), "short") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Alive: %v", err)
	}
	if _, err := Start(Options{Name: "none", Bin: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Fatal("a missing binary started")
	}
}

// TestGroupSignal: SIGSTOP freezes a process group, SIGCONT thaws it.
func TestGroupSignal(t *testing.T) {
	p, err := Start(Options{Name: "sleep", Bin: "sleep", Args: []string{"60"}, Group: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	state := func() string {
		raw, _ := os.ReadFile("/proc/" + strconv.Itoa(p.PID()) + "/stat")
		f := strings.Fields(string(raw))
		if len(f) < 3 {
			return ""
		}
		return f[2]
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	until(t, "the process stopped (T)", func() bool { return state() == "T" })
	if err := p.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	until(t, "the process running again", func() bool { return state() == "S" || state() == "R" })
}
