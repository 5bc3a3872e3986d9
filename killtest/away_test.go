package killtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// outageLength is how long each dependency stays away: 3 minutes, as the
// outage a deployment must ride out; KILLTEST_OUTAGE shortens it for a run
// by hand (KILLTEST_OUTAGE=30s).
func outageLength(t *testing.T) time.Duration {
	if v := os.Getenv("KILLTEST_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("KILLTEST_OUTAGE: %v", err)
		}
		return d
	}
	return 3 * time.Minute
}

// TestOutages runs the production topology (roles as processes; Kafka as
// three brokers; ClickHouse; anvil) under a steady stream of readings,
// and takes each dependency away in turn: ClickHouse frozen (SIGSTOP, as a
// stuck disk or a paused VM freezes it) for 3 minutes, then the chain's RPC
// frozen for 3 minutes, then one of the three brokers stopped for 3
// minutes. No role process exits; ingest answers every batch sent during
// the ClickHouse and chain outages 2xx (neither is on its path); the roles
// that need the missing dependency say so on /readyz, and log it once each
// way; every reading answered 2xx is stored exactly once; every epoch
// closes and settles with the root its readings call for; and the backlog
// drains after each outage (the times are logged).
func TestOutages(t *testing.T) {
	if testing.Short() {
		t.Skip("takes three dependencies away for 3 minutes each")
	}
	// Parallel, as every test here: go test runs GOMAXPROCS of them at
	// once, in source order, and this one (in the first file) is the
	// longest, so the others run beside it.
	t.Parallel()
	length := outageLength(t)
	// Between outages, after the catch-up, and before the first: the
	// catch-ups take seconds (the closing note of issue 29 has them).
	const gap = 15 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 3*length+4*gap+8*time.Minute)
	defer cancel()
	rpc, _, anvil := testenv.AnvilProcess(t, "--block-time", "1")
	p := newPipelineOn(t, ctx, &production{rpc: rpc, timelock: 3 * time.Second, brokers: 3})
	broker, clickhouse := p.procs[0], p.procs[1]
	// A step a second, in event time and in real time, through the outages
	// and a gap after the last.
	p.steps = int((3*length+4*gap)/time.Second) / 10 * 10
	p.pace = 0
	o := &outages{p: p, length: length, metrics: map[string]string{}}
	roles := o.startRoles()
	p.register()
	p.onRetry = o.retried
	conn, err := ch.Open(&ch.Options{Addr: []string{fmt.Sprintf("127.0.0.1:%d", p.chTCP)}, Auth: ch.Auth{Database: "killtest"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	o.conn = conn

	started := time.Now()
	schedule := make(chan struct{})
	go func() {
		defer close(schedule)
		time.Sleep(gap)
		server := onlyChild(t, clickhouse)
		o.away("clickhouse", func() error { return syscall.Kill(server, syscall.SIGSTOP) }, func() error { return syscall.Kill(server, syscall.SIGCONT) },
			func() { o.notReady("aggregate-1", "aggregate/clickhouse"); o.notReady("settle", "settle/clickhouse") }, o.drained)
		time.Sleep(gap)
		o.away("chain RPC", func() error { return anvil.Signal(syscall.SIGSTOP) }, func() error { return anvil.Signal(syscall.SIGCONT) },
			func() { o.notReady("settle", "settle/rpc"); o.notReady("api", "api/rpc") }, o.proposed)
		time.Sleep(gap)
		o.away("one of three Kafka brokers", func() error { return broker.Signal(syscall.SIGUSR1) }, func() error { return broker.Signal(syscall.SIGUSR2) },
			func() {}, o.drained)
	}()
	p.stream(func(step int) {
		o.mu.Lock()
		o.acked = step * devices // every earlier step was answered 2xx
		o.mu.Unlock()
		time.Sleep(time.Until(started.Add(time.Duration(step) * time.Second)))
	})
	<-schedule
	p.verify()

	for _, r := range append(roles, broker, clickhouse) {
		if n := r.Exits(); n != 0 {
			p.fail("%s exited %d times during the outages", r.Name(), n)
		}
	}
	o.checkRetries()
	o.checkLogged()
	for _, a := range o.list {
		t.Logf("%s away %s: caught up %s after (%s)", a.name, a.end.Sub(a.start).Round(time.Second), a.caughtUp.Round(100*time.Millisecond), a.what)
	}
}

// outages is TestOutages' state: the roles' metrics addresses, the batches
// retried, the readings acknowledged, and each dependency's outage.
type outages struct {
	p       *pipeline
	conn    ch.Conn
	length  time.Duration
	metrics map[string]string // role: its metrics (and /readyz) URL

	mu      sync.Mutex
	acked   int // readings answered 2xx so far
	retries []retry
	list    []*away
}

type retry struct {
	at  time.Time
	err error
}

// away is one dependency's outage as the test ran it.
type away struct {
	name       string
	start, end time.Time
	caughtUp   time.Duration // from the end to the pipeline having caught up
	what       string        // what caught up
}

// startRoles starts one ingest, two validators, two aggregators, the
// settler and the API, each serving its metrics and /readyz.
func (o *outages) startRoles() []*proc {
	role := func(name, cmd string, env ...string) *proc {
		addr := fmt.Sprintf("127.0.0.1:%d", port(o.p.t))
		o.metrics[name] = "http://" + addr
		return o.p.startEnv(name, append(env, "FIELDMINT_TELEMETRY_METRICSLISTEN="+addr), cmd)
	}
	return []*proc{
		role("ingest", "ingest"),
		role("validate-1", "validate", "FIELDMINT_VALIDATE_INSTANCEID=v1"),
		role("validate-2", "validate", "FIELDMINT_VALIDATE_INSTANCEID=v2"),
		role("aggregate-1", "aggregate"),
		role("aggregate-2", "aggregate"),
		role("settle", "settle"),
		role("api", "api"),
	}
}

func (o *outages) retried(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, retry{time.Now(), err})
}

// away takes a dependency away for the outage's length (stop), checks what
// should hold meanwhile (during), brings it back (resume) and waits for
// the pipeline to catch up (caughtUp).
func (o *outages) away(name string, stop, resume func() error, during func(), caughtUp func(*away)) {
	a := &away{name: name, start: time.Now()}
	o.mu.Lock()
	o.list = append(o.list, a)
	o.mu.Unlock()
	if err := stop(); err != nil {
		o.p.fail("%s: %v", name, err)
	}
	o.p.t.Logf("%s: %s away for %s", a.start.Format("15:04:05"), name, o.length)
	during()
	time.Sleep(time.Until(a.start.Add(o.length)))
	if err := resume(); err != nil {
		o.p.fail("%s: %v", name, err)
	}
	a.end = time.Now()
	caughtUp(a)
	o.p.t.Logf("%s: %s back; caught up in %s (%s)", a.end.Format("15:04:05"), name, a.caughtUp.Round(100*time.Millisecond), a.what)
}

// poll counts for the loops that wait for a catch-up: an error (the
// embedded ClickHouse may be restarting after a freeze, see
// chserver.Options.Restart) is a zero, asked again.
func (o *outages) poll(q string, args ...any) (n uint64) {
	if err := o.conn.QueryRow(o.p.ctx, q, args...).Scan(&n); err != nil {
		return 0
	}
	return n
}

// wait polls until cond holds, failing with what when the test's time is up.
func (o *outages) wait(what string, cond func() bool) {
	testenv.WaitFor(o.p.t, time.Until(deadlineOf(o.p.ctx)), what, cond)
}

// drained waits until ClickHouse holds every reading acknowledged by the
// end of the outage.
func (o *outages) drained(a *away) {
	o.mu.Lock()
	want := uint64(o.acked)
	o.mu.Unlock()
	o.wait(fmt.Sprintf("after the %s outage ClickHouse holds the %d readings acknowledged", a.name, want), func() bool {
		return o.poll("SELECT count() FROM (SELECT DISTINCT device_id, seq FROM readings)") >= want
	})
	a.caughtUp, a.what = time.Since(a.end), fmt.Sprintf("the %d readings acknowledged by its end stored", want)
}

// proposed waits until a root is proposed for an epoch scored while the
// chain was away.
func (o *outages) proposed(a *away) {
	var scored uint64
	o.wait("an epoch scored", func() bool { scored = o.poll("SELECT max(epoch) FROM scored_epochs"); return scored > 0 })
	o.wait(fmt.Sprintf("after the chain outage epoch %d proposed", scored), func() bool {
		eps, err := tables.EpochsIn(o.p.ctx, o.conn, tables.StateSet{tables.Proposed, tables.Active, tables.Final}, scored)
		return err == nil && len(eps) > 0
	})
	a.caughtUp, a.what = time.Since(a.end), fmt.Sprintf("a root proposed for epoch %d, scored while the chain was away", scored)
}

// notReady waits (during an outage) for role to report the check failing
// on /readyz, and checks that ingest stays ready.
func (o *outages) notReady(role, check string) {
	readyz := func(role string) (int, string) {
		resp, err := http.Get(o.metrics[role] + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	testenv.Eventually(o.p.t, 30*time.Second, time.Second, func() error {
		if code, body := readyz(role); code != http.StatusServiceUnavailable || !strings.Contains(body, check) {
			return fmt.Errorf("%s /readyz: %d %s, want 503 naming %s", role, code, body, check)
		}
		return nil
	})
	if code, body := readyz("ingest"); code != http.StatusOK {
		o.p.fail("ingest /readyz during the %s outage: %d %s", check, code, body)
	}
}

// checkRetries: no batch was retried during the ClickHouse or the chain
// outage (ingest needs neither).
func (o *outages) checkRetries() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.retries {
		for _, a := range o.list[:2] {
			if !r.at.Before(a.start) && !r.at.After(a.end) {
				o.p.fail("a batch was retried during the %s outage (ingest must answer 2xx): %v", a.name, r.err)
			}
		}
	}
	o.p.t.Logf("%d batches retried in all, none during the ClickHouse and chain outages", len(o.retries))
}

// checkLogged: each outage logged once by the role waiting for it, not per
// retry: one line away, one back. (The embedded ClickHouse can die once it
// is thawed, see chserver.Options.Restart: a restart is one more short
// outage, logged as one when a probe falls in it.)
func (o *outages) checkLogged() {
	restarts := strings.Count(readLog(o.p, "clickhouse"), "starting it again")
	for _, c := range []struct {
		role, dep string
		most      int
	}{{"aggregate-1", "clickhouse", 1 + restarts}, {"settle", "rpc", 1}} {
		went, back := 0, 0
		for _, line := range strings.Split(readLog(o.p, c.role), "\n") {
			if strings.Contains(line, "outage: "+c.dep+" ") {
				went += strings.Count(line, " is away;")
				back += strings.Count(line, " is back\"")
			}
		}
		if went != back || went < 1 || went > c.most {
			o.p.fail("%s logged %s going away %d times and coming back %d, want once each per outage (1 to %d)", c.role, c.dep, went, back, c.most)
		}
	}
}

func readLog(p *pipeline, name string) string {
	raw, err := os.ReadFile(filepath.Join(p.dir, name+".log"))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(raw)
}
