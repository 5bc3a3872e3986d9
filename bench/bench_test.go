package bench

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// binary is the fieldmint command the benches run their roles with, built
// once for the package.
var binary string

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	dir, err := os.MkdirTemp("", "bench-test-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "fieldmint")
	if out, err := exec.Command("go", "build", "-o", binary, "github.com/fieldmint/fieldmint/cmd/fieldmint").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(testenv.LeakOptions()...); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// keys are the JSON object's keys of v: what `fieldmint bench NAME --json`
// prints, which scripts read.
func keys(t *testing.T, v any) []string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(m))
}

func env(t *testing.T) Env { return Env{Binary: binary, Progress: testWriter{t}} }

// testWriter logs progress lines with the test.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// TestPipeline runs the pipeline bench small: it stored every reading it
// acknowledged, once, and its figures add up.
func TestPipeline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, err := Pipeline(ctx, env(t), PipelineOptions{Count: 4000, Devices: 1000, Batch: 50, Clients: 4, Ingests: 1, Validators: 1, Sample: time.Second, ClickHouseSplit: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Acked == 0 || f.Stored != f.Acked || f.Lost != 0 || f.Doubled != 0 || f.Valid+f.Rejected != f.Stored {
		t.Errorf("counted %d acked, %d stored (%d valid, %d rejected), %d lost, %d doubled", f.Acked, f.Stored, f.Valid, f.Rejected, f.Lost, f.Doubled)
	}
	// The fleet breaks 1 signature in 200 (ingest refuses them) and sends
	// 1 reading in 200 out of range (the validators reject them).
	if f.Acked+f.Refused != 4000 || f.Refused == 0 || f.Rejected == 0 || f.Reasons["OUT_OF_RANGE"] != uint64(f.Rejected) {
		t.Errorf("%d acked and %d refused of 4000 sent; rejected by reason %v", f.Acked, f.Refused, f.Reasons)
	}
	if f.ReadingsPerSec <= 0 || f.LatencyP50Ms <= 0 || f.LatencyP99Ms < f.LatencyP50Ms || f.StoredPerCPU <= 0 || f.CPUPerReading <= 0 {
		t.Errorf("figures: %+v", f)
	}
	var split float64 // the roles' shares add up to the whole
	for _, role := range []string{"ingest", "validate-1", "aggregate", "broker", "clickhouse"} {
		r, ok := f.Roles[role]
		if !ok || r.CPUSeconds <= 0 || r.PeakRSSBytes < 1<<20 || len(r.RSSCurve) == 0 || r.MicrosPerReading <= 0 {
			t.Errorf("role %s: %+v", role, r)
		}
	}
	for _, r := range f.Roles {
		split += r.MicrosPerReading
	}
	if d := split - f.CPUPerReading*1e6; d > 0.01 || d < -0.01 {
		t.Errorf("the roles' µs per reading add up to %.3f, the pipeline's is %.3f", split, f.CPUPerReading*1e6)
	}
	// ClickHouse's split names the readings' INSERT (with every row the
	// aggregator stored, readings and intents) and each view it fed.
	var inserted uint64
	if f.ClickHouse != nil {
		for _, q := range f.ClickHouse.Queries {
			if strings.HasPrefix(q.Name, "INSERT INTO readings") {
				inserted += q.Rows
			}
		}
	}
	if f.ClickHouse == nil || inserted < uint64(f.Stored) {
		t.Errorf("clickhouse split %+v: the readings' INSERTs wrote %d rows, want at least %d", f.ClickHouse, inserted, f.Stored)
	} else {
		views := map[string]bool{}
		for _, v := range f.ClickHouse.Views {
			views[strings.TrimPrefix(v.Name, "fieldmint.")] = v.CPUSeconds > 0 && v.Count > 0
		}
		for _, v := range []string{"device_hourly_mv", "cell_hourly_mv", "outcomes_hourly_mv", "epoch_rejections_mv"} {
			if !views[v] {
				t.Errorf("clickhouse split: view %s missing or without CPU: %+v", v, f.ClickHouse.Views)
			}
		}
	}
	// The machine: the bench's own CPU (the load generator) and what no
	// process used, which the roles' CPU and this fit within.
	if m := f.Machine; m == nil || m.Cores != runtime.NumCPU() || m.IdleShare < 0 || m.IdleShare >= 1 || m.LoadGeneratorCPUSeconds <= 0 ||
		m.LoadGeneratorMicrosPerReading <= 0 || m.LoadGeneratorCPUSeconds > f.Seconds*float64(m.Cores) {
		t.Errorf("machine: %+v over %.1f s of sending", f.Machine, f.Seconds)
	}
	want := []string{"acked", "ackedPerSec", "batch", "clickhouseSplit", "devices", "doubled", "httpP99Ms", "latencyP50Ms", "latencyP99Ms", "lost", "machine", "pipelineCPUSecondsPerReading", "rate", "readingsPerSec",
		"refusedAtIngest", "rejected", "rejectedBy", "roles", "seconds", "stored", "storedPerPipelineCPUSecond", "valid"}
	if got := keys(t, f); !slices.Equal(got, want) {
		t.Errorf("JSON keys %v, want %v", got, want)
	}
}

// TestPipelineReplicas runs the pipeline as the capacity model's slice: two
// ingest replicas (the second learns the fleet's registrations from Kafka)
// and two validators sharing the partitions. Every acknowledged reading is
// stored once, and each replica acknowledged its clients' share.
func TestPipelineReplicas(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const sent = 3000
	f, err := Pipeline(ctx, env(t), PipelineOptions{Count: sent, Devices: 1000, Batch: 50, Clients: 4, Ingests: 2, Validators: 2, Partitions: 6, Sample: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Only the fleet's broken signatures (1 in 200) are refused: none for
	// a device the second replica did not know yet.
	if f.Acked == 0 || f.Stored != f.Acked || f.Lost != 0 || f.Doubled != 0 || f.Acked+f.Refused != sent || f.Refused > sent/100 {
		t.Errorf("counted %d acked, %d refused of %d sent, %d stored, %d lost, %d doubled", f.Acked, f.Refused, sent, f.Stored, f.Lost, f.Doubled)
	}
	var acked int64
	for _, role := range []string{"ingest-1", "ingest-2", "validate-1", "validate-2", "aggregate", "broker", "clickhouse"} {
		if r, ok := f.Roles[role]; !ok || r.CPUSeconds <= 0 || r.MicrosPerReading <= 0 {
			t.Errorf("role %s: %+v", role, r)
		}
	}
	for _, role := range []string{"ingest-1", "ingest-2"} {
		if r := f.Roles[role]; r != nil {
			if r.Acknowledged < f.Acked/4 {
				t.Errorf("%s acknowledged %d of %d readings; its two clients' share is half", role, r.Acknowledged, f.Acked)
			}
			acked += r.Acknowledged
		}
	}
	if _, ok := f.Roles["ingest"]; ok || acked != f.Acked {
		t.Errorf("the replicas acknowledged %d readings together, the load %d; roles %v", acked, f.Acked, slices.Sorted(maps.Keys(f.Roles)))
	}
}

// TestAPI settles a small epoch and requests proofs: every answer a proof,
// the settlement's moments in order.
func TestAPI(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	f, err := API(ctx, env(t), APIOptions{Accounts: 2000, Devices: 5000, Duration: 2 * time.Second, Warmup: time.Second, Clients: 4})
	if err != nil {
		t.Fatal(err)
	}
	if f.Proofs == 0 || f.Errors != 0 || f.ProofsPerSec <= 0 || f.LatencyP99Ms < f.LatencyP50Ms || f.LatencyP50Ms <= 0 {
		t.Errorf("proofs: %+v", f)
	}
	if f.ComputedSeconds <= 0 || f.ProposedSeconds < f.ComputedSeconds || f.ActiveSeconds < f.ProposedSeconds || f.APICPUSeconds <= 0 {
		t.Errorf("settlement and costs: %+v", f)
	}
	if got := len(keys(t, f)); got != 15 {
		t.Errorf("%d JSON keys, want 15: %v", got, keys(t, f))
	}
}

// TestExplorer seeds a small network and loads every page.
func TestExplorer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var served string
	f, err := Explorer(ctx, env(t), ExplorerOptions{Devices: 3000, Accounts: 500, Epochs: 2, Loads: 5, Serve: func(url string, _ *ExplorerFigures) { served = url }})
	if err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, p := range f.Pages {
		pages = append(pages, p.Page)
		if p.Loads != 5 || len(p.Requests) == 0 || p.ColdMs <= 0 || p.P50Ms <= 0 || p.P99Ms < p.P50Ms || p.MaxMs < p.P99Ms {
			t.Errorf("page %s: %+v", p.Page, p)
		}
	}
	if want := []string{"map", "map cell", "device", "device rejections", "owner", "epoch", "epochs"}; !slices.Equal(pages, want) ||
		f.Devices != 3000 || f.Epochs != 2 || f.Rejected != 90 || served == "" {
		t.Errorf("figures: %+v, pages %v, want %v; served at %q", f, pages, want, served)
	}
}

// TestIngest loads ingest alone.
func TestIngest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile := filepath.Join(t.TempDir(), "ingest.pprof")
	f, err := Ingest(ctx, env(t), IngestOptions{Duration: 2 * time.Second, Warmup: time.Second, Devices: 100, Batch: 100, Clients: 4, Network: "fieldmint", Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	if f.Readings == 0 || f.ReadingsPerSec <= 0 || f.PerIngestCPUSecond <= 0 || f.PeakRSSBytes < 1<<20 || f.Batch != 100 {
		t.Errorf("figures: %+v", f)
	}
	if b, err := os.ReadFile(profile); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("--profile wrote no gzipped pprof profile (%d bytes, %v)", len(b), err)
	}
}

// TestIngestMQTT loads ingest over MQTT, then holds idle connections.
func TestIngestMQTT(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := Ingest(ctx, env(t), IngestOptions{Protocol: "mqtt", Duration: 2 * time.Second, Warmup: time.Second, Devices: 100, Batch: 10, Clients: 4, Network: "fieldmint", Idle: 200})
	if err != nil {
		t.Fatal(err)
	}
	if f.Readings == 0 || f.Readings%10 != 0 || f.PerIngestCPUSecond <= 0 || f.Protocol != "mqtt" || f.IdleConnections != 200 || f.RSSWithIdleBytes <= 0 || f.RSSBeforeIdleBytes <= 0 {
		t.Errorf("figures: %+v", f)
	}
}

func TestIngestGRPC(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := Ingest(ctx, env(t), IngestOptions{Protocol: "grpc", Duration: 2 * time.Second, Warmup: time.Second, Devices: 100, Batch: 10, Clients: 12, Network: "fieldmint"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Readings == 0 || f.Readings%10 != 0 || f.PerIngestCPUSecond <= 0 || f.Protocol != "grpc" || f.Requests*10 != f.Readings {
		t.Errorf("figures: %+v", f)
	}
}

// TestOptionsRefused: options that cannot run say so before anything starts.
func TestOptionsRefused(t *testing.T) {
	ctx := context.Background()
	if _, err := Pipeline(ctx, env(t), PipelineOptions{Count: 10, Devices: 5, Batch: 1, Clients: 1, Ingests: 1, Validators: 1, Sample: time.Second}); err == nil {
		t.Error("a pipeline of 5 devices ran")
	}
	if _, err := Pipeline(ctx, env(t), PipelineOptions{Count: 10, Devices: 100, Batch: 1, Clients: 2, Ingests: 3, Validators: 1, Sample: time.Second}); err == nil {
		t.Error("a pipeline of 3 ingests and 2 clients ran")
	}
	if _, err := Pipeline(ctx, env(t), PipelineOptions{Count: 10, Devices: 100, Batch: 1, Clients: 2, Validators: 1, Sample: time.Second}); err == nil {
		t.Error("a pipeline without an ingest ran")
	}
	if _, err := API(ctx, env(t), APIOptions{Accounts: 10, Devices: 5, Clients: 1, Duration: time.Second}); err == nil {
		t.Error("an API bench with fewer devices than accounts ran")
	}
	if _, err := Explorer(ctx, env(t), ExplorerOptions{Accounts: 0, Devices: 5, Epochs: 1, Loads: 1}); err == nil {
		t.Error("an explorer bench without accounts ran")
	}
	if _, err := Ingest(ctx, Env{}, IngestOptions{Devices: 1, Batch: 1, Clients: 1}); err == nil {
		t.Error("an ingest bench without a binary ran")
	}
	if _, err := Ingest(ctx, env(t), IngestOptions{Protocol: "carrier-pigeon", Devices: 10, Batch: 1, Clients: 1}); err == nil {
		t.Error("an ingest bench over an unknown protocol ran")
	}
	if _, err := Ingest(ctx, env(t), IngestOptions{URL: "http://127.0.0.1:1", Profile: "x.pprof", Devices: 10, Batch: 1, Clients: 1}); err == nil || !strings.Contains(err.Error(), "--profile") {
		t.Errorf("an ingest bench profiling an ingest it did not start: %v", err)
	}
}
