//go:build !nodev

package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	chconn "github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/roles"
	"github.com/fieldmint/fieldmint/simulate/loadgen"
)

// pipelineFigures is `fieldmint bench pipeline --json`'s object.
type pipelineFigures struct {
	// ReadingsPerSec: readings acknowledged and stored, over the time from
	// the first request to the last of them visible in ClickHouse.
	ReadingsPerSec float64 `json:"readingsPerSec"`
	AckedPerSec    float64 `json:"ackedPerSec"` // acknowledged by ingest, over the sending time
	// Latency from ingest's acknowledgement to the row visible in
	// ClickHouse: the n-th reading acknowledged against the moment the
	// table held n rows (rows are stored about in the order acknowledged).
	LatencyP50Ms float64                 `json:"latencyP50Ms"`
	LatencyP99Ms float64                 `json:"latencyP99Ms"`
	Acked        int64                   `json:"acked"`   // readings ingest answered 2xx
	Stored       int64                   `json:"stored"`  // rows in ClickHouse's readings table (valid and rejected)
	Lost         int64                   `json:"lost"`    // acked but not stored
	Doubled      int64                   `json:"doubled"` // stored more than once
	Valid        int64                   `json:"valid"`
	Rejected     int64                   `json:"rejected"`                   // stored as rejected by a validator
	Reasons      map[string]uint64       `json:"rejectedBy"`                 // the validators' reasons, with their counts
	Refused      int64                   `json:"refusedAtIngest"`            // readings ingest refused (broken signatures)
	StoredPerCPU float64                 `json:"storedPerPipelineCPUSecond"` // rows stored per CPU-second of validators plus aggregator
	HTTPP99Ms    float64                 `json:"httpP99Ms"`
	Seconds      float64                 `json:"seconds"`
	Devices      int                     `json:"devices"`
	Batch        int                     `json:"batch"`
	Rate         float64                 `json:"rate"` // offered readings/s; 0: as fast as acknowledged
	Roles        map[string]*roleFigures `json:"roles"`
}

// roleFigures are one process's costs.
type roleFigures struct {
	PID          int        `json:"-"`
	CPUSeconds   float64    `json:"cpuSeconds"`
	PeakRSSBytes int64      `json:"peakRSSBytes"`
	RSSCurve     []rssPoint `json:"rssCurve"` // resident set sampled through the run
	cpu0         time.Duration
}

type rssPoint struct {
	Second int   `json:"s"`
	Bytes  int64 `json:"bytes"`
}

// benchPipeline is `fieldmint bench pipeline`: fresh signed readings from a
// fleet through ingest, the validators and the aggregator into ClickHouse,
// each in a process of its own as deployed, on the embedded stack.
func benchPipeline(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	duration := fs.Duration("duration", 60*time.Second, "how long to send (with --rate, or as fast as acknowledged)")
	count := fs.Int("count", 0, "send this many readings instead of for --duration")
	rate := fs.Float64("rate", 0, "offer this many readings per second (0: as fast as ingest acknowledges)")
	devices := fs.Int("devices", 10_000, "devices in the fleet, each reading once a second of event time (at most 30 minutes of event time each)")
	batch := fs.Int("batch", 100, "readings per request")
	clients := fs.Int("clients", 16, "concurrent HTTP clients")
	validators := fs.Int("validators", 1, "validator processes")
	sample := fs.Duration("sample", 5*time.Second, "how often to print progress and sample each role's RSS")
	maxRate := fs.Float64("max-rate", 60_000, "without --rate or --count: readings per second of --duration to prepare (more than the pipeline can take)")
	asJSON := fs.Bool("json", false, "print one JSON object (readingsPerSec, latencyP50Ms, latencyP99Ms, lost, roles, ...) instead of text; progress goes to stderr")
	profiles := fs.String("profile", "", "directory to save a CPU profile of ingest, each validator and the aggregator in (ROLE.pprof, 10 s from the 5th second; go tool pprof FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench pipeline: unexpected arguments %q", fs.Args())
	}
	result := out
	if *asJSON {
		out = fs.Output()
	}
	readings := *count
	switch {
	case readings > 0:
	case *rate > 0:
		readings = int(*rate * duration.Seconds())
	default:
		readings = int(*maxRate * duration.Seconds())
	}
	if readings <= 0 || *devices < 10 || *batch < 1 || *clients < 1 || *validators < 1 {
		return errors.New("bench pipeline: --duration or --count, --devices (at least 10), --batch, --clients and --validators must be positive")
	}

	// The stack: broker, ClickHouse, the schema, then the roles.
	procs, err := newBenchProcs(out)
	if err != nil {
		return err
	}
	defer procs.stop()
	// Without fsync per write, as Kafka itself acknowledges (acks=all is
	// replication, not fsync): kfake's fsync per batch would make the
	// registrations' transactions crawl.
	brokers, err := procs.broker(ctx, false)
	if err != nil {
		return err
	}
	chTCP, err := freeport.Port("127.0.0.1")
	if err != nil {
		return err
	}
	chHTTP, err := freeport.Port("127.0.0.1")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bench pipeline: starting ClickHouse ...\n")
	ch, err := chserver.Start(ctx, chserver.Options{Path: filepath.Join(procs.dir, "clickhouse"), TCPPort: chTCP, HTTPPort: chHTTP})
	if err != nil {
		return fmt.Errorf("bench pipeline: clickhouse: %w", err)
	}
	defer ch.Stop()
	chCfg := roles.Defaults().ClickHouse
	chCfg.Addr = ch.TCPAddr
	conn, err := chconn.OpenMigrated(ctx, chCfg) // what `fieldmint migrate` does
	if err != nil {
		return fmt.Errorf("bench pipeline: migrate: %w", err)
	}
	defer conn.Close()
	admin, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	metricsAddrs := map[string]string{}
	metrics := func(role string) []string {
		metricsAddrs[role] = freeport.Addr()
		return []string{"--telemetry.metricsListen=" + metricsAddrs[role], "--telemetry.pprof=" + strconv.FormatBool(*profiles != "")}
	}
	url, ing, err := procs.ingest(ctx, brokers, chain.Address(admin).Hex(), metrics("ingest")...)
	if err != nil {
		return err
	}
	procFigs := map[string]*roleFigures{"ingest": {PID: ing.Process.Pid}, "broker": {PID: procs.procs[0].Process.Pid}, "clickhouse": {PID: ch.PID()}}
	common := []string{"--log.level", "warn", "--kafka.brokers", brokers, "--kafka.topicPrefix", "bench."}
	for i := range *validators {
		name := "validate-" + strconv.Itoa(i+1)
		v, err := procs.start("validate", append(append([]string{"validate", "--validate.instanceId", "bench-v" + strconv.Itoa(i)}, metrics(name)...), common...)...)
		if err != nil {
			return err
		}
		procFigs[name] = &roleFigures{PID: v.Process.Pid}
	}
	agg, err := procs.start("aggregate", append(append([]string{"aggregate", "--clickhouse.addr", ch.TCPAddr}, metrics("aggregate")...), common...)...)
	if err != nil {
		return err
	}
	procFigs["aggregate"] = &roleFigures{PID: agg.Process.Pid}
	for role, addr := range metricsAddrs {
		if err := procs.waitHealthy(ctx, role, addr); err != nil {
			return err
		}
	}

	// The fleet: registered, then every reading signed before the clock starts.
	_, makerKey, _ := ed25519.GenerateKey(nil)
	opts := loadgen.Options{URL: url, Devices: *devices, Batch: *batch, Clients: *clients, Admin: admin, Maker: client.Maker{ID: "bench-maker", Key: makerKey}, Rate: *rate}
	fmt.Fprintf(out, "bench pipeline: registering %d devices, then signing %d readings ...\n", *devices, readings)
	prepStart := time.Now()
	load, err := loadgen.PrepareFleet(ctx, opts, readings, func(n int) {
		fmt.Fprintf(out, "  signed %d of %d readings (%.0f s)\n", n, readings, time.Since(prepStart).Seconds())
	})
	if err != nil {
		return err
	}
	expected := load.Readings()
	fmt.Fprintf(out, "bench pipeline: prepared in %.0f s\n", time.Since(prepStart).Seconds())
	// The registrations went through the same topics: count from here.
	var stored0 uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&stored0); err != nil {
		return err
	}
	for _, r := range procFigs {
		r.cpu0 = procCPU(r.PID)
	}

	// Prepared readings are all sent, except without --count or --rate:
	// then as many as ingest takes in --duration.
	sendFor := time.Duration(0)
	if *count == 0 && *rate == 0 {
		sendFor = *duration
	}
	fmt.Fprintf(out, "bench pipeline: %d clients send %d fresh readings in batches of %d%s\n", *clients, expected, *batch, rateText(*rate))

	// Stored rows over time, and each role's RSS, sampled while it runs.
	var (
		mu      sync.Mutex
		storedT []storedAt
	)
	start := time.Now()
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		lastSample := time.Duration(0)
		for {
			select {
			case <-pollCtx.Done():
				return
			case <-tick.C:
			}
			var n uint64
			if err := conn.QueryRow(pollCtx, "SELECT count() FROM readings").Scan(&n); err != nil {
				continue
			}
			el := time.Since(start)
			mu.Lock()
			storedT = append(storedT, storedAt{el, int64(n - stored0)})
			mu.Unlock()
			if el-lastSample >= *sample {
				lastSample = el
				line := fmt.Sprintf("  [%4.0fs] stored %9d", el.Seconds(), n-stored0)
				for _, name := range slices.Sorted(maps.Keys(procFigs)) {
					r := procFigs[name]
					rss := procRSS(r.PID)
					r.RSSCurve = append(r.RSSCurve, rssPoint{int(el.Seconds()), rss})
					line += fmt.Sprintf("  %s %d MB", name, rss>>20)
				}
				fmt.Fprintln(out, line)
			}
		}
	}()

	var profiled sync.WaitGroup
	if *profiles != "" {
		if err := os.MkdirAll(*profiles, 0o755); err != nil {
			return err
		}
		for role, addr := range metricsAddrs {
			profiled.Go(func() {
				time.Sleep(5 * time.Second)
				if err := saveProfile(ctx, "http://"+addr+"/debug/pprof/profile?seconds=10", filepath.Join(*profiles, role+".pprof")); err != nil {
					fmt.Fprintf(out, "bench pipeline: profile of %s: %v\n", role, err)
				}
			})
		}
	}
	defer profiled.Wait()
	runCtx := ctx
	if sendFor > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, sendFor)
		defer cancel()
	}
	// A role that dies ends the run: its figures would be a broken pipeline's.
	runCtx, stopRun := context.WithCancel(runCtx)
	defer stopRun()
	go func() {
		for runCtx.Err() == nil && procs.alive() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		stopRun()
	}()
	res, err := load.Run(runCtx, 0, nil)
	if err := procs.alive(); err != nil {
		return err
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	sent := time.Since(start)
	fmt.Fprintf(out, "bench pipeline: %d readings acknowledged in %.1f s; waiting for ClickHouse to hold them ...\n", res.Readings, sent.Seconds())

	// Drain: until the table holds every acknowledged reading, and stays
	// there (a doubled reading would show as more).
	var storedN int64
	drainDeadline := time.Now().Add(2 * time.Minute)
	for {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&n); err != nil {
			return err
		}
		storedN = int64(n - stored0)
		if storedN >= res.Readings || time.Now().After(drainDeadline) || ctx.Err() != nil {
			break
		}
		if err := procs.alive(); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // anything doubled would land now
	stopPoll()
	<-polled
	var valid, rejected uint64
	if err := conn.QueryRow(ctx, "SELECT countIf(status = 'valid'), countIf(status = 'rejected') FROM readings WHERE startsWith(device_id, 'fleet-')").Scan(&valid, &rejected); err != nil {
		return err
	}
	reasons, err := chconn.Counts(ctx, conn, "SELECT reason, count() FROM readings WHERE status = 'rejected' AND startsWith(device_id, 'fleet-') GROUP BY reason")
	if err != nil {
		return err
	}
	var distinct uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(device_id, seq) FROM readings WHERE startsWith(device_id, 'fleet-')").Scan(&distinct); err != nil {
		return err
	}
	storedN = int64(valid + rejected)

	mu.Lock()
	defer mu.Unlock()
	last := storedT[len(storedT)-1].at
	for i := len(storedT) - 1; i >= 0 && storedT[i].n >= res.Readings; i-- {
		last = storedT[i].at // the first poll that saw everything
	}
	fig := pipelineFigures{Acked: res.Readings, Stored: storedN, Valid: int64(valid), Rejected: int64(rejected),
		Reasons: reasons, Refused: res.Sent - res.Readings, Seconds: sent.Seconds(), Devices: *devices, Batch: *batch, Rate: *rate, Roles: procFigs,
		HTTPP99Ms: float64(res.P99.Microseconds()) / 1000}
	if int64(distinct) < res.Readings {
		fig.Lost = res.Readings - int64(distinct)
	}
	fig.Doubled = storedN - int64(distinct)
	fig.ReadingsPerSec = float64(min(res.Readings, int64(distinct))) / last.Seconds()
	fig.AckedPerSec = float64(res.Readings) / sent.Seconds()
	fig.LatencyP50Ms, fig.LatencyP99Ms = ackToStored(res.Acks, storedT)
	pipelineCPU := 0.0
	for name, r := range procFigs {
		r.CPUSeconds = (procCPU(r.PID) - r.cpu0).Seconds()
		r.PeakRSSBytes = procPeakRSS(r.PID)
		if name != "ingest" && name != "broker" && name != "clickhouse" { // validators and aggregator
			pipelineCPU += r.CPUSeconds
		}
	}
	if pipelineCPU > 0 {
		fig.StoredPerCPU = float64(storedN) / pipelineCPU
	}
	if *asJSON {
		return json.NewEncoder(result).Encode(fig)
	}
	fmt.Fprintf(out, "sustained  %.0f readings/s stored in ClickHouse (%.0f/s acknowledged by ingest)\n", fig.ReadingsPerSec, fig.AckedPerSec)
	fmt.Fprintf(out, "latency    acknowledgement to row: p50 %.0f ms, p99 %.0f ms (HTTP p99 %.1f ms)\n", fig.LatencyP50Ms, fig.LatencyP99Ms, fig.HTTPP99Ms)
	fmt.Fprintf(out, "counted    %d acknowledged, %d stored (%d valid, %d rejected by validators), %d lost, %d doubled; %d refused by ingest\n",
		fig.Acked, fig.Stored, fig.Valid, fig.Rejected, fig.Lost, fig.Doubled, fig.Refused)
	fmt.Fprintf(out, "rejected   by reason: %v\n", fig.Reasons)
	fmt.Fprintf(out, "pipeline   %.0f rows stored per CPU-second of validators plus aggregator\n", fig.StoredPerCPU)
	for _, name := range slices.Sorted(maps.Keys(procFigs)) {
		r := procFigs[name]
		fmt.Fprintf(out, "%-11s %6.1f CPU-seconds, peak RSS %4d MB\n", name, r.CPUSeconds, r.PeakRSSBytes>>20)
	}
	return nil
}

// saveProfile saves what url serves to path.
func saveProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// procRSS is a process's resident set (VmRSS) in bytes, from /proc (0: unknown).
func procRSS(pid int) int64 { return procStatusKB(pid, "VmRSS:") }

type storedAt struct {
	at time.Duration
	n  int64
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
	if len(lat) == 0 {
		return 0, 0
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100])
}

func rateText(rate float64) string {
	if rate == 0 {
		return ", as fast as acknowledged"
	}
	return fmt.Sprintf(", %.0f a second", rate)
}

// pollEvery is how often the bench counts ClickHouse's rows: the latency
// figures' resolution. Each count is a query, which costs ClickHouse CPU
// the roles are charged nothing for.
var pollEvery = 100 * time.Millisecond
