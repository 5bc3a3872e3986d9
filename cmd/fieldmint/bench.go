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
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/simulate/loadgen"
)

// runBench is `fieldmint bench ingest|pipeline|api`.
func runBench(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	benches := map[string]func(context.Context, *flag.FlagSet, []string, io.Writer) error{
		"ingest": benchIngest, "pipeline": benchPipeline, "api": benchAPI, "explorer": benchExplorer,
	}
	if len(args) > 0 {
		if run, ok := benches[args[0]]; ok {
			fs.Init("bench "+args[0], flag.ContinueOnError)
			return run(ctx, fs, args[1:], out)
		}
	}
	fmt.Fprint(fs.Output(), `usage: fieldmint bench ingest|pipeline|api|explorer [options]   (fieldmint bench NAME --help for its options)

  ingest     signed batches over loopback HTTP into ingest and a broker: accepted readings/s,
             latency, ingest's CPU-seconds and peak RSS
  pipeline   fresh signed readings from a fleet through ingest, validators and the aggregator
             into ClickHouse, each role in its own process: sustained readings/s stored,
             end-to-end latency, lost readings, CPU and RSS per role
  api        proofs served by the proof API for a settled epoch of many accounts: proofs/s and
             latency
  explorer   the explorer's pages (their JSON) for a network of many devices and owners over
             settled epochs: each page's latency, cold and over random devices, owners, cells
`)
	if len(args) == 0 {
		return errors.New("bench: name what to measure: fieldmint bench ingest|pipeline|api|explorer [options]")
	}
	return fmt.Errorf("bench: %q is not a bench: ingest, pipeline, api or explorer", args[0])
}

// benchIngest is `fieldmint bench ingest`: signed batches from many
// simulated devices over loopback HTTP into ingest and the broker, each
// started here in a process of its own (or an endpoint given by --url),
// printing the accepted readings per second, latency and ingest's CPU and
// peak memory.
func benchIngest(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	url := fs.String("url", "", "ingest endpoint to load (its devices get registered); empty: start a broker and ingest here, in processes of their own")
	devices := fs.Int("devices", 1000, "simulated devices")
	batch := fs.Int("batch", 100, "readings per request (from 10 devices each)")
	clients := fs.Int("clients", 16, "concurrent HTTP clients")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	warmup := fs.Duration("warmup", 3*time.Second, "load sent first and left out of the figures")
	network := fs.String("network", "fieldmint", "the endpoint's ingest.network (owners sign registrations for it)")
	asJSON := fs.Bool("json", false, "print one JSON object (readingsPerSec, perIngestCPUSecond, peakRSSBytes, ...) instead of text; progress goes to stderr")
	wire := fs.String("wire", "v2", "wire format of the readings: v2 (the SDK's) or v1 (old firmware's)")
	makerFile := fs.String("maker-file", "", "with --url: JSON file with the maker registered there that attests the devices ({id, privateKey}, or dev.json); empty: the dev stack's maker")
	if err := fs.Parse(args); err != nil {
		return err
	}
	result := out
	if *asJSON {
		out = fs.Output() // progress; stdout is the JSON object alone
	}
	if *wire != "v1" && *wire != "v2" {
		return fmt.Errorf("bench: --wire must be v1 or v2, got %q", *wire)
	}
	opts := loadgen.Options{URL: *url, Network: *network, Devices: *devices, Batch: *batch, Clients: *clients, V1: *wire == "v1"}
	ingestPID := 0
	if opts.URL == "" {
		// A stack of its own, with an admin and a maker made up for the run.
		admin, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		_, makerKey, _ := ed25519.GenerateKey(nil)
		opts.Admin, opts.Maker = admin, client.Maker{ID: "bench-maker", Key: makerKey}
		var stop func()
		opts.URL, ingestPID, stop, err = startBenchStack(ctx, out, chain.Address(admin).Hex())
		if err != nil {
			return err
		}
		defer stop()
	} else {
		var err error
		if opts.Maker, err = devstack.LoadMaker(*makerFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "bench ingest: registering %d devices at %s ...\n", *devices, opts.URL)
	load, err := loadgen.Prepare(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bench ingest: %d clients send batches of %d signed readings; %s warm-up, then %s measured\n", *clients, *batch, *warmup, *duration)
	wctx, cancel := context.WithTimeout(ctx, *warmup)
	_, err = load.Run(wctx, 0, nil)
	cancel()
	if err != nil && ctx.Err() == nil {
		return err
	}
	cpu0 := procCPU(ingestPID)
	mctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	var last int64
	started := time.Now()
	res, err := load.Run(mctx, 0, func(n int64) {
		fmt.Fprintf(out, "  [%2.0fs] %8.0f readings/s\n", time.Since(started).Seconds(), float64(n-last))
		last = n
	})
	if err != nil && ctx.Err() == nil {
		return err
	}
	fig := benchFigures{ReadingsPerSec: res.PerSecond(), Readings: res.Readings, Requests: res.Requests, Refused: res.Refused, Batch: *batch, Clients: *clients,
		LatencyP50Ms: float64(res.P50.Microseconds()) / 1000, LatencyP99Ms: float64(res.P99.Microseconds()) / 1000, Seconds: res.Elapsed.Seconds()}
	if ingestPID != 0 {
		cpu := procCPU(ingestPID) - cpu0
		fig.IngestCPUSeconds, fig.PeakRSSBytes = cpu.Seconds(), procPeakRSS(ingestPID)
		if cpu > 0 {
			fig.PerIngestCPUSecond = float64(res.Readings) / cpu.Seconds()
		}
	}
	if *asJSON {
		return json.NewEncoder(result).Encode(fig)
	}
	fmt.Fprintf(out, "accepted   %d readings in %d requests (%d refused with 429/503)\nthroughput %.0f readings/s\nlatency    p50 %s, p99 %s\n",
		res.Readings, res.Requests, res.Refused, res.PerSecond(), res.P50.Round(100*time.Microsecond), res.P99.Round(100*time.Microsecond))
	if ingestPID != 0 {
		fmt.Fprintf(out, "ingest     %.2f CPU-seconds: %.0f readings per CPU-second; peak RSS %d MB\n", fig.IngestCPUSeconds, fig.PerIngestCPUSecond, fig.PeakRSSBytes>>20)
	}
	return nil
}

// benchFigures is `fieldmint bench ingest --json`'s object. The ingest
// figures are 0 against --url (its process is not ours to measure).
type benchFigures struct {
	ReadingsPerSec     float64 `json:"readingsPerSec"`     // accepted, over the measured window
	PerIngestCPUSecond float64 `json:"perIngestCPUSecond"` // accepted readings per CPU-second of the ingest process
	PeakRSSBytes       int64   `json:"peakRSSBytes"`       // the ingest process's peak resident set (VmHWM)
	IngestCPUSeconds   float64 `json:"ingestCPUSeconds"`
	LatencyP50Ms       float64 `json:"latencyP50Ms"`
	LatencyP99Ms       float64 `json:"latencyP99Ms"`
	Readings           int64   `json:"readings"`
	Requests           int64   `json:"requests"`
	Refused            int64   `json:"refused"` // requests answered 429/503
	Batch              int     `json:"batch"`
	Clients            int     `json:"clients"`
	Seconds            float64 `json:"seconds"`
}

// startBenchStack starts `fieldmint broker` and `fieldmint ingest` (this
// binary) on free loopback ports, rate limits off.
func startBenchStack(ctx context.Context, out io.Writer, admin string) (string, int, func(), error) {
	st, err := newBenchProcs(out)
	if err != nil {
		return "", 0, nil, err
	}
	brokers, err := st.broker(ctx, false)
	if err != nil {
		st.stop()
		return "", 0, nil, err
	}
	url, ing, err := st.ingest(ctx, brokers, admin)
	if err != nil {
		st.stop()
		return "", 0, nil, err
	}
	return url, ing.Process.Pid, st.stop, nil
}

// benchProcs are the processes a bench starts, each this binary running a
// role, stopped (SIGTERM, then waited for) in reverse order by stop. One
// that exits before stop is reported on died: a bench must not measure a
// pipeline with a role missing.
type benchProcs struct {
	out      io.Writer
	self     string
	dir      string
	procs    []*exec.Cmd
	names    []string
	exited   []chan struct{}
	stopping atomic.Bool
	died     chan string // the name and exit of a process that stopped by itself
}

func newBenchProcs(out io.Writer) (*benchProcs, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fieldmint-bench-")
	if err != nil {
		return nil, err
	}
	return &benchProcs{out: out, self: self, dir: dir, died: make(chan string, 16)}, nil
}

// start starts this binary with args, its stderr on ours.
func (b *benchProcs) start(name string, args ...string) (*exec.Cmd, error) {
	return b.startEnv(name, nil, args...)
}

// startEnv is start with env added to our environment.
func (b *benchProcs) startEnv(name string, env []string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(b.self, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		close(exited)
		if !b.stopping.Load() {
			b.died <- fmt.Sprintf("%s (pid %d) exited: %v", name, cmd.Process.Pid, err)
		}
	}()
	b.procs, b.names, b.exited = append(b.procs, cmd), append(b.names, name), append(b.exited, exited)
	return cmd, nil
}

// alive returns an error naming a process that exited by itself, if one did.
func (b *benchProcs) alive() error {
	select {
	case d := <-b.died:
		b.died <- d // for the next caller
		return fmt.Errorf("bench: %s; its stderr is above", d)
	default:
		return nil
	}
}

// waitHealthy waits until the /healthz at addr answers, failing when a
// process exits or 30 s pass.
func (b *benchProcs) waitHealthy(ctx context.Context, name, addr string) error {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := b.alive(); err != nil {
			return err
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench: %s did not answer on %s within 30 s", name, addr)
		}
	}
}

func (b *benchProcs) stop() {
	b.stopping.Store(true)
	for i := len(b.procs) - 1; i >= 0; i-- {
		b.procs[i].Process.Signal(syscall.SIGTERM)
		<-b.exited[i]
	}
	os.RemoveAll(b.dir)
}

// broker starts `fieldmint broker` and returns its address once it listens
// (the roles give up at once if it does not answer yet).
func (b *benchProcs) broker(ctx context.Context, syncWrites bool) (string, error) {
	kport, err := freeport.Port("127.0.0.1")
	if err != nil {
		return "", err
	}
	args := []string{"broker", "--data-dir", filepath.Join(b.dir, "kafka"), "--port", strconv.Itoa(kport)}
	if syncWrites {
		args = append(args, "--sync-writes")
	}
	if _, err := b.start("broker", args...); err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(kport)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", errors.New("bench: the broker did not listen within 30 s")
		}
	}
}

// ingest starts `fieldmint ingest` with rate limits off and returns its URL
// once it answers.
func (b *benchProcs) ingest(ctx context.Context, brokers, admin string, extra ...string) (string, *exec.Cmd, error) {
	listen := freeport.Addr()
	ing, err := b.start("ingest", append([]string{"ingest", "--log.level", "warn", "--kafka.brokers", brokers, "--kafka.topicPrefix", "bench.",
		"--ingest.listen", listen, "--ingest.clientRate", "0", "--ingest.deviceRate", "0", "--ingest.admins", admin}, extra...)...)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(b.out, "bench: broker (pid %d) and ingest (pid %d) starting ...\n", b.procs[0].Process.Pid, ing.Process.Pid)
	if err := b.waitHealthy(ctx, "ingest", listen); err != nil {
		return "", nil, err
	}
	return "http://" + listen, ing, nil
}

// procCPU is a process's user plus system CPU time, from /proc.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// procPeakRSS is a process's peak resident set (VmHWM) in bytes, from /proc
// (0: unknown).
func procPeakRSS(pid int) int64 { return procStatusKB(pid, "VmHWM:") }

// procStatusKB reads a "kB" line of /proc/PID/status, in bytes (0: unknown).
func procStatusKB(pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
