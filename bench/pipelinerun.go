package bench

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fieldmint/fieldmint/ingest/client"
	chconn "github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/stats"
	"github.com/fieldmint/fieldmint/simulate/loadgen"
)

// pollEvery is how often the bench counts ClickHouse's rows: the latency
// figures' resolution. Each count is a query, which costs ClickHouse CPU
// the roles are charged nothing for.
const pollEvery = 100 * time.Millisecond

// storedAt is a count of stored rows, at a time since the first request.
type storedAt struct {
	at time.Duration
	n  int64
}

// run prepares the fleet's readings, sends them, waits until ClickHouse
// holds them, and returns the figures.
func (p *pipeline) run(ctx context.Context, readings int) (*PipelineFigures, error) {
	_, makerKey, _ := ed25519.GenerateKey(nil)
	opts := loadgen.Options{URL: p.urls[0], Endpoints: p.urls, Devices: p.o.Devices, Batch: p.o.Batch, Clients: p.o.Clients, Admin: p.admin,
		Maker: client.Maker{ID: "bench-maker", Key: makerKey}, Rate: p.o.Rate}
	p.logf("bench pipeline: registering %d devices, then signing %d readings ...", p.o.Devices, readings)
	prepStart := time.Now()
	load, err := loadgen.PrepareFleet(ctx, opts, readings, func(n int) {
		p.logf("  signed %d of %d readings (%.0f s)", n, readings, time.Since(prepStart).Seconds())
	})
	if err != nil {
		return nil, err
	}
	p.logf("bench pipeline: prepared in %.0f s", time.Since(prepStart).Seconds())
	for i, url := range p.urls[1:] { // registered through the first
		p.logf("bench pipeline: waiting for %s to know the fleet ...", p.ingestRoles[i+1])
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := load.WaitRegistered(wctx, url)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	// The registrations went through the same topics: count from here.
	var stored0 uint64
	if err := p.conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&stored0); err != nil {
		return nil, err
	}
	for _, r := range p.roles {
		r.cpu0 = CPU(r.PID)
	}
	runStart := time.Now()
	rate := ", as fast as acknowledged"
	if p.o.Rate > 0 {
		rate = fmt.Sprintf(", %.0f a second", p.o.Rate)
	}
	p.logf("bench pipeline: %d clients send %d fresh readings in batches of %d%s", p.o.Clients, load.Readings(), p.o.Batch, rate)
	stopAnalysts := func() *AnalystFigures { return nil }
	if p.o.AnalystLoad > 0 {
		p.logf("bench pipeline: the analyst runs %.1f heavy cookbook queries a second meanwhile", p.o.AnalystLoad)
		if stopAnalysts, err = p.analystLoad(ctx, p.o.AnalystLoad); err != nil {
			return nil, err
		}
	}
	poll := p.poll(ctx, stored0)
	fail := func(err error) (*PipelineFigures, error) {
		poll.stop()
		stopAnalysts()
		return nil, err
	}
	total0, idle0 := MachineCPU()
	self0 := selfCPU()
	res, sent, err := p.send(ctx, load)
	if err != nil {
		return fail(err)
	}
	machine := machineSince(total0, idle0, self0, res.Readings)
	p.logf("bench pipeline: %d readings acknowledged in %.1f s; waiting for ClickHouse to hold them ...", res.Readings, sent.Seconds())
	if err := p.drain(ctx, stored0, res.Readings); err != nil {
		return fail(err)
	}
	var epochs *EpochFigures
	if p.o.EpochLength > 0 {
		p.logf("bench pipeline: waiting for the aggregator to score the epochs ...")
		if epochs, err = p.waitScoring(ctx); err != nil {
			return fail(err)
		}
	}
	analysts := stopAnalysts()
	time.Sleep(2 * time.Second) // anything doubled would land now
	fig, err := p.figures(ctx, res, sent, poll.stop())
	if err != nil {
		return nil, err
	}
	fig.Analysts, fig.Epochs, fig.Machine = analysts, epochs, machine
	if p.o.ClickHouseSplit {
		if fig.ClickHouse, err = p.clickhouseSplit(ctx, runStart, p.cpuRead); err != nil {
			return nil, err
		}
	}
	return fig, nil
}

// send sends the prepared readings (all of them, with a count or a rate;
// else as many as ingest takes in the duration), profiling the roles when
// asked, and ends early if a role dies.
func (p *pipeline) send(ctx context.Context, load *loadgen.Load) (loadgen.Result, time.Duration, error) {
	var profiled sync.WaitGroup
	defer profiled.Wait()
	if p.o.Profiles != "" {
		if err := os.MkdirAll(p.o.Profiles, 0o755); err != nil {
			return loadgen.Result{}, 0, err
		}
		for role, addr := range p.metrics {
			profiled.Go(func() {
				time.Sleep(5 * time.Second)
				if err := saveProfile(ctx, "http://"+addr+"/debug/pprof/profile?seconds=10", filepath.Join(p.o.Profiles, role+".pprof")); err != nil {
					p.logf("bench pipeline: profile of %s: %v", role, err)
				}
			})
		}
	}
	runCtx := ctx
	if p.o.Count == 0 && p.o.Rate == 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, p.o.Duration)
		defer cancel()
	}
	// A role that dies ends the run: its figures would be a broken pipeline's.
	runCtx, stopRun := context.WithCancel(runCtx)
	defer stopRun()
	go func() {
		for runCtx.Err() == nil && p.alive() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		stopRun()
	}()
	start := time.Now()
	res, err := load.Run(runCtx, 0, nil)
	if err := p.alive(); err != nil {
		return res, 0, err
	}
	if err != nil && ctx.Err() == nil {
		return res, 0, err
	}
	return res, time.Since(start), nil
}

// drain waits until the table holds every acknowledged reading (for up to
// two minutes), failing if a role dies meanwhile.
func (p *pipeline) drain(ctx context.Context, stored0 uint64, acked int64) error {
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var n uint64
		if err := p.conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&n); err != nil {
			return err
		}
		if int64(n-stored0) >= acked || time.Now().After(deadline) || ctx.Err() != nil {
			return nil
		}
		if err := p.alive(); err != nil {
			return err
		}
	}
}

// poller counts stored rows every pollEvery and samples each role's RSS
// every Sample, until stopped.
type poller struct {
	cancel context.CancelFunc
	done   chan struct{}
	stored []storedAt
}

// stop stops polling and returns the counts.
func (pl *poller) stop() []storedAt {
	pl.cancel()
	<-pl.done
	return pl.stored
}

func (p *pipeline) poll(ctx context.Context, stored0 uint64) *poller {
	ctx, cancel := context.WithCancel(ctx)
	pl := &poller{cancel: cancel, done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(pl.done)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		lastSample := time.Duration(0)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var n uint64
			if err := p.conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&n); err != nil {
				continue
			}
			el := time.Since(start)
			pl.stored = append(pl.stored, storedAt{el, int64(n - stored0)})
			if el-lastSample >= p.o.Sample {
				lastSample = el
				line := fmt.Sprintf("  [%4.0fs] stored %9d", el.Seconds(), n-stored0)
				for _, name := range slices.Sorted(maps.Keys(p.roles)) {
					r := p.roles[name]
					rss := RSS(r.PID)
					r.RSSCurve = append(r.RSSCurve, RSSPoint{int(el.Seconds()), rss})
					line += fmt.Sprintf("  %s %d MB", name, rss>>20)
				}
				p.logf("%s", line)
			}
		}
	}()
	return pl
}

// figures counts what the fleet's readings became in ClickHouse and what
// each role spent.
func (p *pipeline) figures(ctx context.Context, res loadgen.Result, sent time.Duration, stored []storedAt) (*PipelineFigures, error) {
	// The roles' CPU first: the checks below (a uniqExact over every row)
	// are the bench's, not the pipeline's, and cost ClickHouse about a
	// µs a reading.
	pipelineCPU, allCPU := 0.0, 0.0
	p.cpuRead = time.Now()
	for name, r := range p.roles {
		r.CPUSeconds = (CPU(r.PID) - r.cpu0).Seconds()
		r.PeakRSSBytes = PeakRSS(r.PID)
		allCPU += r.CPUSeconds
		if !strings.HasPrefix(name, "ingest") && name != "broker" && name != "clickhouse" { // validators and aggregator
			pipelineCPU += r.CPUSeconds
		}
	}
	var valid, rejected, distinct uint64
	if err := p.conn.QueryRow(ctx, `SELECT countIf(status = 'valid'), countIf(status = 'rejected'), uniqExact(device_id, seq)
		FROM readings WHERE startsWith(device_id, 'fleet-')`).Scan(&valid, &rejected, &distinct); err != nil {
		return nil, err
	}
	reasons, err := chconn.Counts(ctx, p.conn, "SELECT reason, count() FROM readings WHERE status = 'rejected' AND startsWith(device_id, 'fleet-') GROUP BY reason")
	if err != nil {
		return nil, err
	}
	for i, name := range p.ingestRoles {
		if i < len(res.PerEndpoint) {
			p.roles[name].Acknowledged = res.PerEndpoint[i]
		}
	}
	storedN := int64(valid + rejected)
	fig := &PipelineFigures{Acked: res.Readings, Stored: storedN, Valid: int64(valid), Rejected: int64(rejected),
		Reasons: reasons, Refused: res.Sent - res.Readings, Seconds: sent.Seconds(), Devices: p.o.Devices, Batch: p.o.Batch, Rate: p.o.Rate, Roles: p.roles,
		HTTPP99Ms: stats.Ms(res.P99), Lost: max(res.Readings-int64(distinct), 0), Doubled: storedN - int64(distinct)}
	if len(stored) > 0 {
		last := stored[len(stored)-1].at
		for i := len(stored) - 1; i >= 0 && stored[i].n >= res.Readings; i-- {
			last = stored[i].at // the first poll that saw everything
		}
		fig.ReadingsPerSec = float64(min(res.Readings, int64(distinct))) / last.Seconds()
	}
	fig.AckedPerSec = float64(res.Readings) / sent.Seconds()
	fig.LatencyP50Ms, fig.LatencyP99Ms = ackToStored(res.Acks, stored)
	if pipelineCPU > 0 {
		fig.StoredPerCPU = float64(storedN) / pipelineCPU
	}
	if res.Readings > 0 {
		// Per reading acknowledged: every process of the pipeline (the
		// load generator is not one), so machines compare by this figure.
		fig.CPUPerReading = allCPU / float64(res.Readings)
		for _, r := range p.roles {
			r.MicrosPerReading = r.CPUSeconds / float64(res.Readings) * 1e6
		}
	}
	return fig, nil
}

// ackToStored pairs the n-th reading acknowledged with the first poll that
// saw n rows, and returns the p50 and p99 of the differences in ms.
func ackToStored(acks []loadgen.Ack, stored []storedAt) (float64, float64) {
	sort.Slice(acks, func(i, j int) bool { return acks[i].At < acks[j].At })
	var lat []time.Duration
	var n int64
	j := 0
	for _, a := range acks {
		n += int64(a.Readings)
		for j < len(stored) && stored[j].n < n {
			j++
		}
		if j == len(stored) {
			break // never all stored: counted as lost instead
		}
		for range a.Readings {
			lat = append(lat, max(stored[j].at-a.At, 0))
		}
	}
	return stats.Ms(stats.Percentile(lat, 50)), stats.Ms(stats.Percentile(lat, 99))
}
