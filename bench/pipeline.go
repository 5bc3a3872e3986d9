package bench

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	chconn "github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/roles"
)

// PipelineOptions are `fieldmint bench pipeline`'s.
type PipelineOptions struct {
	Duration   time.Duration // how long to send (with Rate, or as fast as acknowledged)
	Count      int           // send this many readings instead of for Duration
	Rate       float64       // offered readings/s (0: as fast as ingest acknowledges)
	Devices    int           // each reading once a second of event time
	Batch      int
	Clients    int
	Validators int
	// Ingests is how many ingest processes (replicas of one deployment)
	// take the clients' requests, in turn; Partitions is each topic's
	// partition count (0: the roles' default).
	Ingests, Partitions int
	Sample              time.Duration // how often to print progress and sample each role's RSS
	MaxRate             float64       // without Rate or Count: readings per second of Duration to prepare
	Profiles            string        // directory for CPU profiles of ingest, each validator and the aggregator ("": none)
	// AnalystLoad runs the heaviest cookbook queries as the analyst's user,
	// this many a second, during the run (0: none); EpochLength is the
	// aggregator's (0: its default), short to see epochs close in a run.
	AnalystLoad float64
	EpochLength time.Duration
	// ClickHouseSplit starts ClickHouse with its query and part logs and
	// reports where its CPU went (PipelineFigures.ClickHouse).
	ClickHouseSplit bool
}

// PipelineFigures is `fieldmint bench pipeline --json`'s object.
type PipelineFigures struct {
	// ReadingsPerSec: readings acknowledged and stored, over the time from
	// the first request to the last of them visible in ClickHouse.
	ReadingsPerSec float64 `json:"readingsPerSec"`
	AckedPerSec    float64 `json:"ackedPerSec"` // acknowledged by ingest, over the sending time
	// Latency from ingest's acknowledgement to the row visible in
	// ClickHouse: the n-th reading acknowledged against the moment the
	// table held n rows (rows are stored about in the order acknowledged).
	LatencyP50Ms float64           `json:"latencyP50Ms"`
	LatencyP99Ms float64           `json:"latencyP99Ms"`
	Acked        int64             `json:"acked"`   // readings ingest answered 2xx
	Stored       int64             `json:"stored"`  // rows in ClickHouse's readings table (valid and rejected)
	Lost         int64             `json:"lost"`    // acked but not stored
	Doubled      int64             `json:"doubled"` // stored more than once
	Valid        int64             `json:"valid"`
	Rejected     int64             `json:"rejected"`                   // stored as rejected by a validator
	Reasons      map[string]uint64 `json:"rejectedBy"`                 // the validators' reasons, with their counts
	Refused      int64             `json:"refusedAtIngest"`            // readings ingest refused (broken signatures)
	StoredPerCPU float64           `json:"storedPerPipelineCPUSecond"` // rows stored per CPU-second of validators plus aggregator
	// CPU-seconds of ingest, validators, aggregator, broker and ClickHouse
	// together per reading acknowledged (the roles' microsPerReading split it).
	CPUPerReading float64                 `json:"pipelineCPUSecondsPerReading"`
	HTTPP99Ms     float64                 `json:"httpP99Ms"`
	Seconds       float64                 `json:"seconds"`
	Devices       int                     `json:"devices"`
	Batch         int                     `json:"batch"`
	Rate          float64                 `json:"rate"` // offered readings/s; 0: as fast as acknowledged
	Roles         map[string]*RoleFigures `json:"roles"`
	// Analysts is the analyst load's figures, Epochs the epochs scored.
	Analysts *AnalystFigures `json:"analysts,omitempty"`
	Epochs   *EpochFigures   `json:"epochs,omitempty"`
	// ClickHouse is where the server's CPU went (--clickhouse-split).
	ClickHouse *ClickHouseSplit `json:"clickhouseSplit,omitempty"`
	// Machine is the rest of the machine's CPU while the load was sent.
	Machine *MachineFigures `json:"machine"`
}

// MachineFigures are the machine's CPU beyond the roles', over the time the
// load was sent: what is left on it, and what the load generator took.
type MachineFigures struct {
	Cores int `json:"cores"`
	// IdleShare: the share of the CPU time of every core that no process
	// used (idle, or waiting for I/O).
	IdleShare float64 `json:"idleShare"`
	// The bench's own process: the load generator's clients, and the
	// bench's polls of ClickHouse (10 a second); per reading acknowledged.
	LoadGeneratorCPUSeconds       float64 `json:"loadGeneratorCPUSeconds"`
	LoadGeneratorMicrosPerReading float64 `json:"loadGeneratorMicrosPerReading"`
}

// machineSince is the machine's figures since total0, idle0 and self0
// (MachineCPU and selfCPU), for readings acknowledged.
func machineSince(total0, idle0, self0 time.Duration, readings int64) *MachineFigures {
	total, idle := MachineCPU()
	m := &MachineFigures{Cores: runtime.NumCPU(), LoadGeneratorCPUSeconds: (selfCPU() - self0).Seconds()}
	if total > total0 {
		m.IdleShare = float64(idle-idle0) / float64(total-total0)
	}
	if readings > 0 {
		m.LoadGeneratorMicrosPerReading = m.LoadGeneratorCPUSeconds / float64(readings) * 1e6
	}
	return m
}

// RoleFigures are one process's costs.
type RoleFigures struct {
	PID        int     `json:"-"`
	CPUSeconds float64 `json:"cpuSeconds"`
	// MicrosPerReading: CPU-µs of this process per reading acknowledged.
	MicrosPerReading float64 `json:"microsPerReading"`
	PeakRSSBytes     int64   `json:"peakRSSBytes"`
	// Acknowledged: the readings an ingest process acknowledged (ingest's
	// roles only).
	Acknowledged int64      `json:"acknowledged,omitempty"`
	RSSCurve     []RSSPoint `json:"rssCurve"` // resident set sampled through the run
	cpu0         time.Duration
}

// RSSPoint is a resident set sampled at a second of the run.
type RSSPoint struct {
	Second int   `json:"s"`
	Bytes  int64 `json:"bytes"`
}

// readings is how many readings to prepare.
func (o PipelineOptions) readings() (int, error) {
	n := o.Count
	switch {
	case n > 0:
	case o.Rate > 0:
		n = int(o.Rate * o.Duration.Seconds())
	default:
		n = int(o.MaxRate * o.Duration.Seconds())
	}
	if n <= 0 || o.Devices < 10 || o.Batch < 1 || o.Clients < 1 || o.Ingests < 1 || o.Validators < 1 || o.Sample <= 0 || o.Partitions < 0 {
		return 0, errors.New("bench pipeline: the duration or count, devices (at least 10), batch, clients, ingests, validators and sample must be positive, and partitions not negative")
	}
	if o.Clients < o.Ingests {
		return 0, fmt.Errorf("bench pipeline: %d clients cannot keep %d ingests busy: use at least one client an ingest", o.Clients, o.Ingests)
	}
	return n, nil
}

// pipeline is the running stack of a pipeline bench.
type pipeline struct {
	*stack
	o           PipelineOptions
	ch          *chserver.Server
	chCfg       chconn.Config // the database's, as its default user, with the stages' users
	conn        driver.Conn
	urls        []string // every ingest's, in order (registrations go to the first)
	ingestRoles []string // their roles' names, in the same order
	admin       *ecdsa.PrivateKey
	roles       map[string]*RoleFigures
	metrics     map[string]string // each role's telemetry address
	// cpuRead is when the roles' CPU was read: the end of what the
	// figures (and ClickHouse's split) charge to the pipeline.
	cpuRead time.Time
}

// Pipeline sends fresh signed readings from a fleet through ingest, the
// validators and the aggregator into ClickHouse, each in a process of its
// own as deployed, on the embedded stack, and measures what is stored and
// when.
func Pipeline(ctx context.Context, e Env, o PipelineOptions) (*PipelineFigures, error) {
	readings, err := o.readings()
	if err != nil {
		return nil, err
	}
	p, err := startPipeline(ctx, e, o)
	if err != nil {
		return nil, err
	}
	defer p.close()
	f, err := p.run(ctx, readings)
	if err != nil && ctx.Err() == nil { // not when stopped (Ctrl-C): no wait then
		p.clickhouseDied()
	}
	return f, err
}

// clickhouseDied shows the end of ClickHouse's output when a failed run
// finds it down (or going down) within a few seconds, before its directory
// goes with the rest.
func (p *pipeline) clickhouseDied() {
	if p.ch == nil {
		return
	}
	select {
	case <-p.ch.Done():
		p.logf("bench pipeline: ClickHouse exited by itself; the end of its output:\n%s", p.ch.LogTail(40))
	case <-time.After(5 * time.Second):
	}
}

// startPipeline starts the broker, ClickHouse (migrated), ingest, the
// validators and the aggregator, and waits until every role answers.
func startPipeline(ctx context.Context, e Env, o PipelineOptions) (*pipeline, error) {
	s, err := e.newStack()
	if err != nil {
		return nil, err
	}
	p := &pipeline{stack: s, o: o, metrics: map[string]string{}}
	if err := p.startAll(ctx); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *pipeline) startAll(ctx context.Context) error {
	brokers, broker, err := p.broker(ctx)
	if err != nil {
		return err
	}
	ports := [2]int{}
	for i := range ports {
		if ports[i], err = freeport.Port("127.0.0.1"); err != nil {
			return err
		}
	}
	p.logf("bench pipeline: starting ClickHouse ...")
	// As deployed: the aggregator connects as its own user, in the
	// pipeline's workload, and the analyst load as the analyst.
	chCfg := roles.Defaults().ClickHouse
	chCfg.Users = benchUsers()
	if p.ch, err = chserver.Start(ctx, chserver.Options{Path: filepath.Join(p.dir, "clickhouse"), TCPPort: ports[0], HTTPPort: ports[1],
		Users: chconn.AccessXML(map[string]chconn.Users{chCfg.Database: chCfg.Users}, chCfg.Analyst), QueryLogs: p.o.ClickHouseSplit}); err != nil {
		return fmt.Errorf("bench pipeline: clickhouse: %w", err)
	}
	chCfg.Addr = p.ch.TCPAddr
	p.chCfg = chCfg
	if p.conn, err = chconn.OpenMigrated(ctx, chCfg); err != nil { // what `fieldmint migrate` does
		return fmt.Errorf("bench pipeline: migrate: %w", err)
	}
	if p.admin, err = crypto.GenerateKey(); err != nil {
		return err
	}
	p.roles = map[string]*RoleFigures{"broker": {PID: broker.PID()}, "clickhouse": {PID: p.ch.PID()}}
	var partitions []string
	if p.o.Partitions > 0 {
		partitions = []string{"--kafka.partitions", strconv.Itoa(p.o.Partitions)}
	}
	for i := range p.o.Ingests {
		name := "ingest" // one ingest keeps the name scripts read
		if p.o.Ingests > 1 {
			name += "-" + strconv.Itoa(i+1)
		}
		url, ing, err := p.ingest(ctx, brokers, chain.Address(p.admin).Hex(), append(p.telemetry(name), partitions...)...)
		if err != nil {
			return err
		}
		p.urls, p.ingestRoles = append(p.urls, url), append(p.ingestRoles, name)
		p.roles[name] = &RoleFigures{PID: ing.PID()}
	}
	common := append([]string{"--log.level", "warn", "--kafka.brokers", brokers, "--kafka.topicPrefix", "bench."}, partitions...)
	for i := range p.o.Validators {
		name := "validate-" + strconv.Itoa(i+1)
		v, err := p.start("validate", nil, append(append([]string{"validate", "--validate.instanceId", "bench-v" + strconv.Itoa(i)}, p.telemetry(name)...), common...)...)
		if err != nil {
			return err
		}
		p.roles[name] = &RoleFigures{PID: v.PID()}
	}
	aggArgs := []string{"aggregate", "--clickhouse.addr", p.ch.TCPAddr}
	if p.o.EpochLength > 0 {
		// Late readings wait one epoch, not the default minute, and the
		// information checks look two epochs ahead, not eight minutes: a
		// run's event time (a reading a second per device) is short.
		scoring := filepath.Join(p.dir, "scoring.yaml")
		ahead := 2 * p.o.EpochLength
		if err := os.WriteFile(scoring, []byte(fmt.Sprintf("information: {back: 2m, ahead: %s}\n", ahead)), 0o644); err != nil {
			return err
		}
		aggArgs = append(aggArgs, "--aggregate.epochLength", p.o.EpochLength.String(), "--aggregate.allowedLateness", p.o.EpochLength.String(),
			"--aggregate.scoringFile", scoring)
	}
	agg, err := p.start("aggregate", []string{"FIELDMINT_CLICKHOUSE_USERS_AGGREGATE_USERNAME=" + chCfg.Users.Aggregate.Username,
		"FIELDMINT_CLICKHOUSE_USERS_AGGREGATE_PASSWORD=" + chCfg.Users.Aggregate.Password}, append(append(aggArgs, p.telemetry("aggregate")...), common...)...)
	if err != nil {
		return err
	}
	p.roles["aggregate"] = &RoleFigures{PID: agg.PID()}
	for role, addr := range p.metrics {
		if err := p.waitHealthy(ctx, role, addr); err != nil {
			return err
		}
	}
	return nil
}

// telemetry is a role's telemetry flags: its metrics (and health) on a port
// of its own, pprof with profiles asked for.
func (p *pipeline) telemetry(role string) []string {
	p.metrics[role] = freeport.Addr()
	return []string{"--telemetry.metricsListen=" + p.metrics[role], "--telemetry.pprof=" + strconv.FormatBool(p.o.Profiles != "")}
}

func (p *pipeline) close() {
	p.stop()
	if p.conn != nil {
		p.conn.Close()
	}
	if p.ch != nil {
		p.ch.Stop()
	}
}

// String is the figures as text.
func (f *PipelineFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sustained  %.0f readings/s stored in ClickHouse (%.0f/s acknowledged by ingest)\n", f.ReadingsPerSec, f.AckedPerSec)
	fmt.Fprintf(&b, "latency    acknowledgement to row: p50 %.0f ms, p99 %.0f ms (HTTP p99 %.1f ms)\n", f.LatencyP50Ms, f.LatencyP99Ms, f.HTTPP99Ms)
	fmt.Fprintf(&b, "counted    %d acknowledged, %d stored (%d valid, %d rejected by validators), %d lost, %d doubled; %d refused by ingest\n",
		f.Acked, f.Stored, f.Valid, f.Rejected, f.Lost, f.Doubled, f.Refused)
	fmt.Fprintf(&b, "rejected   by reason: %v\n", f.Reasons)
	fmt.Fprintf(&b, "pipeline   %.0f rows stored per CPU-second of validators plus aggregator; %.1f CPU-µs per reading over every process\n",
		f.StoredPerCPU, f.CPUPerReading*1e6)
	if m := f.Machine; m != nil {
		fmt.Fprintf(&b, "machine    %d cores, %.1f%% idle while sending; the load generator %.1f CPU-seconds (%.1f µs a reading)\n",
			m.Cores, m.IdleShare*100, m.LoadGeneratorCPUSeconds, m.LoadGeneratorMicrosPerReading)
	}
	if a := f.Analysts; a != nil {
		fmt.Fprintf(&b, "analysts   %d heavy cookbook queries (%.1f a second offered, %d skipped, %d failed), p50 %.0f ms, p99 %.0f ms\n",
			a.Queries, a.PerSec, a.Skipped, a.Errors, a.P50Ms, a.P99Ms)
		if a.First != "" {
			fmt.Fprintf(&b, "           first failure: %s\n", a.First)
		}
	}
	if e := f.Epochs; e != nil {
		fmt.Fprintf(&b, "epochs     %d closed, %d scored, %.0f ms each on average (the cut, the information checks, the scores)\n", e.Closed, e.Scored, e.MeanScoringMs)
	}
	for _, name := range slices.Sorted(maps.Keys(f.Roles)) {
		r := f.Roles[name]
		fmt.Fprintf(&b, "%-11s %6.1f CPU-seconds (%5.1f µs a reading), peak RSS %4d MB", name, r.CPUSeconds, r.MicrosPerReading, r.PeakRSSBytes>>20)
		if r.Acknowledged > 0 {
			fmt.Fprintf(&b, ", %d readings acknowledged", r.Acknowledged)
		}
		b.WriteByte('\n')
	}
	if f.ClickHouse != nil {
		b.WriteString(f.ClickHouse.text(f.Acked))
	}
	return b.String()
}
