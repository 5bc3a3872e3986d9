package bench

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/stats"
	"github.com/fieldmint/fieldmint/simulate/loadgen"
)

// IngestOptions are `fieldmint bench ingest`'s.
type IngestOptions struct {
	// URL is an ingest endpoint to load (its devices get registered, with
	// Maker); empty: a broker and ingest started here.
	URL      string
	Maker    client.Maker
	Network  string // the endpoint's ingest.network
	Devices  int
	Batch    int
	Clients  int
	Duration time.Duration
	Warmup   time.Duration
	V1       bool // the v1 wire format (old firmware's)
	// Protocol is "http", "mqtt" (each client one device connection,
	// publishing at QoS 1) or "grpc" (the Stream call, every 8 clients
	// sharing one stream). With URL, MQTT is ingest's MQTT address.
	Protocol string
	MQTT     string
	// Idle, when above 0, opens that many more MQTT connections of devices
	// that send nothing, after the measured run, and reports ingest's RSS
	// before and with them.
	Idle int
	// Profile is a file to save a CPU profile of ingest in (10 s of the
	// measured window; "": none). Only for the ingest started here.
	Profile string
}

// IngestFigures is `fieldmint bench ingest --json`'s object. The ingest
// figures are 0 against a URL (its process is not ours to measure).
type IngestFigures struct {
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
	Protocol           string  `json:"protocol"`
	// With --idle: ingest's RSS before the idle connections and with them.
	IdleConnections    int   `json:"idleConnections,omitempty"`
	RSSBeforeIdleBytes int64 `json:"rssBeforeIdleBytes,omitempty"`
	RSSWithIdleBytes   int64 `json:"rssWithIdleBytes,omitempty"`
}

// Ingest sends signed batches from many simulated devices over loopback
// HTTP into ingest and the broker (each started here in a process of its
// own, or the endpoint o.URL) and measures what ingest accepts.
func Ingest(ctx context.Context, e Env, o IngestOptions) (*IngestFigures, error) {
	o.Protocol = cmp.Or(o.Protocol, "http")
	if o.Protocol != "http" && o.Protocol != "mqtt" && o.Protocol != "grpc" {
		return nil, fmt.Errorf("bench: --protocol must be http, mqtt or grpc, got %q", o.Protocol)
	}
	opts := loadgen.Options{URL: o.URL, Network: o.Network, Devices: max(o.Devices, o.Clients+o.Idle), Batch: o.Batch, Clients: o.Clients, V1: o.V1, Maker: o.Maker,
		GRPC: o.Protocol == "grpc"}
	if o.Protocol == "mqtt" {
		opts.MQTT = o.MQTT
	}
	if o.Profile != "" && o.URL != "" {
		return nil, errors.New("bench: --profile profiles the ingest started here, not one at --url")
	}
	ingestPID, metricsAddr := 0, ""
	if opts.URL == "" {
		// A stack of its own, with an admin and a maker made up for the run.
		admin, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		_, makerKey, _ := ed25519.GenerateKey(nil)
		opts.Admin, opts.Maker = admin, client.Maker{ID: "bench-maker", Key: makerKey}
		s, err := e.newStack()
		if err != nil {
			return nil, err
		}
		defer s.stop()
		brokers, _, err := s.broker(ctx)
		if err != nil {
			return nil, err
		}
		mqttAddr := freeport.Addr()
		metricsAddr = freeport.Addr()
		url, ing, err := s.ingest(ctx, brokers, chain.Address(admin).Hex(), "--ingest.mqttListen", mqttAddr, "--ingest.mqttMaxConnections", strconv.Itoa(o.Idle+o.Clients+16),
			"--telemetry.metricsListen", metricsAddr, "--telemetry.pprof="+strconv.FormatBool(o.Profile != ""))
		if err != nil {
			return nil, err
		}
		opts.URL, ingestPID = url, ing.PID()
		if o.Protocol == "mqtt" || o.Idle > 0 {
			opts.MQTT = "tcp://" + mqttAddr
		}
	}
	e.logf("bench ingest: registering %d devices at %s ...", opts.Devices, opts.URL)
	load, err := loadgen.Prepare(ctx, opts)
	if err != nil {
		return nil, err
	}
	e.logf("bench ingest: %d %s clients send batches of %d signed readings; %s warm-up, then %s measured", o.Clients, o.Protocol, o.Batch, o.Warmup, o.Duration)
	wctx, cancel := context.WithTimeout(ctx, o.Warmup)
	_, err = load.Run(wctx, 0, nil)
	cancel()
	if err != nil && ctx.Err() == nil {
		return nil, err
	}
	cpu0 := CPU(ingestPID)
	profiled := profileWindow(ctx, metricsAddr, o.Duration, o.Profile)
	mctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var last int64
	started := time.Now()
	res, err := load.Run(mctx, 0, func(n int64) {
		e.logf("  [%2.0fs] %8.0f readings/s", time.Since(started).Seconds(), float64(n-last))
		last = n
	})
	if err != nil && ctx.Err() == nil {
		return nil, err
	}
	if err := <-profiled; err != nil {
		return nil, fmt.Errorf("bench ingest: profile: %w", err)
	}
	fig := &IngestFigures{ReadingsPerSec: res.PerSecond(), Readings: res.Readings, Requests: res.Requests, Refused: res.Refused, Batch: o.Batch, Clients: o.Clients, Protocol: o.Protocol,
		LatencyP50Ms: stats.Ms(res.P50), LatencyP99Ms: stats.Ms(res.P99), Seconds: res.Elapsed.Seconds()}
	if ingestPID != 0 {
		cpu := CPU(ingestPID) - cpu0
		fig.IngestCPUSeconds, fig.PeakRSSBytes = cpu.Seconds(), PeakRSS(ingestPID)
		if cpu > 0 {
			fig.PerIngestCPUSecond = float64(res.Readings) / cpu.Seconds()
		}
	}
	if o.Idle > 0 {
		if ingestPID == 0 {
			return nil, errors.New("bench: --idle measures the ingest started here: leave out --url")
		}
		fig.IdleConnections, fig.RSSBeforeIdleBytes = o.Idle, RSS(ingestPID)
		e.logf("bench ingest: opening %d idle MQTT connections ...", o.Idle)
		idle, err := load.Idle(ctx, o.Clients, o.Idle, func(n int) { e.logf("  %d connected", n) })
		if err != nil {
			return nil, err
		}
		defer idle()
		time.Sleep(2 * time.Second) // let the broker settle, then read
		fig.RSSWithIdleBytes = RSS(ingestPID)
	}
	return fig, nil
}

// String is the figures as text.
func (f *IngestFigures) String() string {
	s := fmt.Sprintf("accepted   %d readings in %d requests (%d refused with 429/503)\nthroughput %.0f readings/s\nlatency    p50 %.1f ms, p99 %.1f ms\n",
		f.Readings, f.Requests, f.Refused, f.ReadingsPerSec, f.LatencyP50Ms, f.LatencyP99Ms)
	if f.IngestCPUSeconds > 0 {
		s += fmt.Sprintf("ingest     %.2f CPU-seconds: %.0f readings per CPU-second; peak RSS %d MB\n", f.IngestCPUSeconds, f.PerIngestCPUSecond, f.PeakRSSBytes>>20)
	}
	if f.IdleConnections > 0 {
		s += fmt.Sprintf("idle       %d MQTT connections: ingest RSS %d MB before, %d MB with them (%.1f KB a connection)\n", f.IdleConnections,
			f.RSSBeforeIdleBytes>>20, f.RSSWithIdleBytes>>20, float64(f.RSSWithIdleBytes-f.RSSBeforeIdleBytes)/float64(f.IdleConnections)/1024)
	}
	return s
}
