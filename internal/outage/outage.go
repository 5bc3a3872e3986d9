// Package outage watches the dependencies a process's roles need
// (ClickHouse, Kafka, the chain's RPC) and supervises the roles through
// their outages: a dependency away costs lag, not processes.
//
// Each dependency is probed every second by one watcher per process, however
// many roles use it (the dev stack runs all of them in one process), which
// logs once when it goes away and once when it is back (with how long it was
// away), exports fieldmint_dependency_up and fieldmint_dependency_down_seconds,
// and answers the roles' readiness checks. Supervise runs a role, and when
// the role stops on an error that waiting can fix, waits for its
// dependencies and runs it again, with backoff.
package outage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
)

var (
	upGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.dependency.up",
		metric.WithDescription("1 while a dependency (clickhouse, kafka, rpc) answers this process's probes, 0 while it is away"))
	downGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.dependency.down", metric.WithUnit("s"),
		metric.WithDescription("how long a dependency has been away (0 while it answers)"))
	alertAfterGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.dependency.alert_after", metric.WithUnit("s"),
		metric.WithDescription("how long a dependency may be away before FieldmintDependencyAway fires (telemetry.outageAlertAfter)"))
)

// A Change is a dependency going away (Up false, Err why) or coming back
// (Up true, Away how long it was gone).
type Change struct {
	Dependency string
	Up         bool
	Away       time.Duration
	Err        error
}

// Settings of the probing: every Interval, each probe bounded by Timeout;
// a dependency is away after Misses probes in a row fail. Tests shorten
// them; the defaults suit production.
var (
	Interval = time.Second
	Timeout  = 2 * time.Second
	Misses   = 2
)

// AlertAfter is exported beside each dependency's state for the alert
// (telemetry.outageAlertAfter; the roles set it from their configuration).
var AlertAfter = 5 * time.Minute

var (
	mu       sync.Mutex
	watched  = map[string]*Dependency{}
	onChange []func(Change)
)

// OnChange calls f on every dependency's change of state, in this process,
// until the returned function is called (the dev stack prints them).
func OnChange(f func(Change)) (remove func()) {
	mu.Lock()
	defer mu.Unlock()
	onChange = append(onChange, f)
	i := len(onChange) - 1
	return func() {
		mu.Lock()
		defer mu.Unlock()
		onChange[i] = nil
	}
}

// A Dependency is one watched dependency of the process.
type Dependency struct {
	name  string
	probe func(context.Context) error
	log   *slog.Logger
	users int
	stop  context.CancelFunc

	mu        sync.Mutex
	up        bool
	since     time.Time // when it went away (zero while up)
	err       error
	misses    int
	firstMiss time.Time     // when the first probe of the failing run was sent
	upCh      chan struct{} // closed while up
}

// A Prober opens what probing a dependency takes (a connection of its own:
// the roles' connections come and go with their runs) and returns the probe
// and what closes it.
type Prober func() (probe func(context.Context) error, closeProbe func(), err error)

// Watch starts watching the dependency called name (its kind and address:
// "clickhouse 10.0.0.7:9000") with what open returns, or joins the watch
// already running in this process under that name. release stops it once
// its last user is done. A dependency starts as up until probes say
// otherwise.
func Watch(name string, open Prober, log *slog.Logger) (d *Dependency, release func(), err error) {
	mu.Lock()
	defer mu.Unlock()
	d = watched[name]
	if d == nil {
		probe, closeProbe, err := open()
		if err != nil {
			return nil, nil, fmt.Errorf("outage: watch %s: %w", name, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		d = &Dependency{name: name, probe: probe, log: log, stop: cancel, up: true, upCh: make(chan struct{})}
		close(d.upCh)
		watched[name] = d
		go d.run(ctx, closeProbe)
	}
	d.users++
	return d, func() {
		mu.Lock()
		defer mu.Unlock()
		if d.users--; d.users == 0 {
			d.stop()
			delete(watched, name)
		}
	}, nil
}

func (d *Dependency) run(ctx context.Context, closeProbe func()) {
	defer closeProbe()
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		d.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probe probes the dependency now and records the result.
func (d *Dependency) Probe(ctx context.Context) { d.probeNow(ctx, Misses) }

// Confirm is Probe for a role that just failed: one failed probe is enough
// to call the dependency away, as the role's failure is a second witness.
func (d *Dependency) Confirm(ctx context.Context) { d.probeNow(ctx, 1) }

func (d *Dependency) probeNow(ctx context.Context, misses int) {
	at := time.Now()
	pctx, cancel := context.WithTimeout(ctx, Timeout)
	err := d.probe(pctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	d.record(at, err, misses)
}

// record records the answer to a probe sent at `at`: the dependency is away
// from the first probe of a run that failed.
func (d *Dependency) record(at time.Time, err error, misses int) {
	now := time.Now()
	d.mu.Lock()
	var ch *Change
	switch {
	case err == nil && !d.up:
		ch = &Change{Dependency: d.name, Up: true, Away: now.Sub(d.since)}
		d.up, d.since, d.err, d.misses = true, time.Time{}, nil, 0
		close(d.upCh)
	case err == nil:
		d.misses = 0
	case d.up:
		if d.misses++; d.misses == 1 {
			d.firstMiss = at
		}
		if d.misses >= misses {
			d.up, d.since, d.err = false, d.firstMiss, err
			d.upCh = make(chan struct{})
			ch = &Change{Dependency: d.name, Err: err}
		}
	default:
		d.err = err
	}
	up, down := d.up, time.Duration(0)
	if !up {
		down = now.Sub(d.since)
	}
	d.mu.Unlock()

	attrs := metric.WithAttributes(attribute.String("dependency", d.name))
	upGauge.Record(context.Background(), map[bool]int64{true: 1}[up], attrs)
	downGauge.Record(context.Background(), down.Seconds(), attrs)
	alertAfterGauge.Record(context.Background(), AlertAfter.Seconds(), attrs)
	if ch == nil {
		return
	}
	if ch.Up {
		d.log.Info("outage: "+d.name+" is back", "away", ch.Away.Round(time.Second))
	} else {
		d.log.Warn("outage: "+d.name+" is away; work that needs it waits until it answers (one line then)", "err", err)
	}
	mu.Lock()
	hooks := append([]func(Change){}, onChange...)
	mu.Unlock()
	for _, f := range hooks {
		if f != nil {
			f(*ch)
		}
	}
}

// Check is the dependency's readiness check: nil while it is up, else how
// long it has been away and why.
func (d *Dependency) Check(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.up {
		return nil
	}
	return fmt.Errorf("%s away for %s: %v", d.name, time.Since(d.since).Round(time.Second), d.err)
}

// Up returns a channel closed while the dependency is up.
func (d *Dependency) Up() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.upCh
}
