package outage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

func init() {
	Interval, Timeout, MinBackoff, MaxBackoff = 5*time.Millisecond, 50*time.Millisecond, time.Millisecond, 10*time.Millisecond
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// switchable is a dependency whose probe fails while down is set.
type switchable struct {
	down   atomic.Bool
	opened atomic.Int32
	closed atomic.Int32
}

func (s *switchable) open() (func(context.Context) error, func(), error) {
	s.opened.Add(1)
	return func(context.Context) error {
		if s.down.Load() {
			return errors.New("connection refused")
		}
		return nil
	}, func() { s.closed.Add(1) }, nil
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.WaitFor(t, 5*time.Second, what, cond)
}

func TestWatchReportsEachChangeOnce(t *testing.T) {
	var mu sync.Mutex
	var changes []Change
	defer OnChange(func(c Change) {
		if c.Dependency == "clickhouse test:1" {
			mu.Lock()
			changes = append(changes, c)
			mu.Unlock()
		}
	})()
	dep := &switchable{}
	d, release, err := Watch("clickhouse test:1", dep.open, quiet)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	t.Cleanup(func() {
		if !released {
			release()
		}
	})
	// A second user of the same dependency shares the watch.
	d2, release2, err := Watch("clickhouse test:1", dep.open, quiet)
	if err == nil {
		t.Cleanup(func() {
			if !released {
				release2()
			}
		})
	}
	if err != nil || d2 != d || dep.opened.Load() != 1 {
		t.Fatalf("a second watch of the same dependency: %v, same %v, opened %d", err, d2 == d, dep.opened.Load())
	}
	if err := d.Check(context.Background()); err != nil {
		t.Fatalf("up at first: %v", err)
	}
	dep.down.Store(true)
	eventually(t, "away", func() bool { return d.Check(context.Background()) != nil })
	if err := d.Check(context.Background()); !strings.Contains(err.Error(), "clickhouse test:1 away for") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("check while away: %v", err)
	}
	select {
	case <-d.Up():
		t.Fatal("Up closed while away")
	default:
	}
	time.Sleep(20 * Interval) // many failed probes: still one change
	dep.down.Store(false)
	select {
	case <-d.Up():
	case <-time.After(5 * time.Second):
		t.Fatal("Up never closed after the dependency came back")
	}
	eventually(t, "the change back reported", func() bool { mu.Lock(); defer mu.Unlock(); return len(changes) >= 2 })
	mu.Lock()
	if len(changes) != 2 || changes[0].Up || changes[0].Err == nil || !changes[1].Up || changes[1].Away < 20*Interval {
		t.Fatalf("changes %+v, want one away and one back after at least %s", changes, 20*Interval)
	}
	mu.Unlock()
	release()
	if dep.closed.Load() != 0 {
		t.Fatal("the probe closed while a user remains")
	}
	release2()
	released = true
	eventually(t, "the probe closed after the last user", func() bool { return dep.closed.Load() == 1 })
}

func TestSuperviseRunsAgainOnceTheDependencyAnswers(t *testing.T) {
	dep := &switchable{}
	d, release, err := Watch("kafka test:2", dep.open, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	running := make(chan int32, 10)
	done := make(chan error, 1)
	go func() {
		done <- Supervise(ctx, Role{Name: "aggregate", Deps: []*Dependency{d}, Run: func(ctx context.Context) error {
			n := runs.Add(1)
			running <- n
			if n == 1 {
				dep.down.Store(true) // the dependency goes away under the first run
				return errors.New("insert: i/o timeout")
			}
			<-ctx.Done()
			return nil
		}}, quiet)
	}()
	<-running
	eventually(t, "the dependency seen away", func() bool { return d.Check(context.Background()) != nil })
	time.Sleep(20 * Interval)
	if n := runs.Load(); n != 1 {
		t.Fatalf("run %d times while its dependency was away, want once", n)
	}
	dep.down.Store(false)
	select {
	case <-running:
	case <-time.After(5 * time.Second):
		t.Fatal("never ran again after the dependency came back")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Supervise after ctx ended: %v", err)
	}
}

func TestSuperviseReturnsPermanentErrors(t *testing.T) {
	errSchema := errors.New("schema from a newer build")
	for name, run := range map[string]func(context.Context) error{
		"marked":     func(context.Context) error { return Permanent(errors.New("bad scoring file")) },
		"classified": func(context.Context) error { return errSchema },
	} {
		err := Supervise(context.Background(), Role{Name: "aggregate", Run: run, Permanent: func(err error) bool { return errors.Is(err, errSchema) }}, quiet)
		if err == nil || !strings.Contains(err.Error(), "no waiting can fix this") {
			t.Errorf("%s: Supervise returned %v, want the permanent error", name, err)
		}
	}
}
