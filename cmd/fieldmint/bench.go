//go:build !nodev

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fieldmint/fieldmint/bench"
	"github.com/fieldmint/fieldmint/devstack"
)

// benches are `fieldmint bench NAME`'s: each parses its flags into the
// bench's options and returns the run.
var benches = map[string]func(fs *flag.FlagSet, args []string) (func(context.Context, bench.Env) (fmt.Stringer, error), error){
	"ingest": benchIngest, "pipeline": benchPipeline, "api": benchAPI, "explorer": benchExplorer,
}

const benchUsage = `usage: fieldmint bench ingest|pipeline|api|explorer [options]   (fieldmint bench NAME --help for its options)

  ingest     signed batches over loopback HTTP into ingest and a broker: accepted readings/s,
             latency, ingest's CPU-seconds and peak RSS
  pipeline   fresh signed readings from a fleet through ingest, validators and the aggregator
             into ClickHouse, each role in its own process: sustained readings/s stored,
             end-to-end latency, lost readings, CPU and RSS per role
  api        proofs served by the proof API for a settled epoch of many accounts: proofs/s and
             latency
  explorer   the explorer's pages (their JSON) for a network of many devices and owners over
             settled epochs: each page's latency, cold and over random devices, owners, cells
`

// runBench is `fieldmint bench NAME`: the bench's figures as text, or as
// one JSON object with --json (progress on stderr either way).
func runBench(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	if len(args) == 0 || benches[args[0]] == nil {
		fmt.Fprint(fs.Output(), benchUsage)
		if len(args) == 0 {
			return errors.New("bench: name what to measure: fieldmint bench ingest|pipeline|api|explorer [options]")
		}
		return fmt.Errorf("bench: %q is not a bench: ingest, pipeline, api or explorer", args[0])
	}
	fs.Init("bench "+args[0], flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object of the figures instead of text; progress goes to stderr")
	run, err := benches[args[0]](fs, args[1:])
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench %s: unexpected arguments %q", args[0], fs.Args())
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fig, err := run(ctx, bench.Env{Binary: self, Progress: fs.Output()})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(fig)
	}
	_, err = fmt.Fprint(out, fig)
	return err
}

func benchIngest(fs *flag.FlagSet, args []string) (func(context.Context, bench.Env) (fmt.Stringer, error), error) {
	var o bench.IngestOptions
	fs.StringVar(&o.URL, "url", "", "ingest endpoint to load (its devices get registered); empty: start a broker and ingest here, in processes of their own")
	fs.IntVar(&o.Devices, "devices", 1000, "simulated devices")
	fs.IntVar(&o.Batch, "batch", 100, "readings per request (from 10 devices each)")
	fs.IntVar(&o.Clients, "clients", 16, "concurrent HTTP clients, MQTT connections (one device each), or gRPC senders (8 to a stream)")
	fs.StringVar(&o.Protocol, "protocol", "http", "how the devices send: http (POST /v2/readings), mqtt (a QoS 1 publish to their topic) or grpc (IngestService.Stream, acknowledged in order)")
	fs.StringVar(&o.MQTT, "mqtt", "", "with --url and --protocol mqtt: ingest's MQTT address, tcp://HOST:PORT")
	fs.IntVar(&o.Idle, "idle", 0, "after the run, open this many MQTT connections that send nothing and report ingest's RSS with them (the registered devices grow to match)")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to send")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "load sent first and left out of the figures")
	fs.StringVar(&o.Network, "network", "fieldmint", "the endpoint's ingest.network (owners sign registrations for it)")
	fs.StringVar(&o.Profile, "profile", "", "file to save a CPU profile of the ingest started here in (10 s of the measured window); go tool pprof FILE")
	wire := fs.String("wire", "v2", "wire format of the readings: v2 (the SDK's) or v1 (old firmware's)")
	makerFile := fs.String("maker-file", "", "with --url: JSON file with the maker registered there that attests the devices ({id, privateKey}, or dev.json); empty: the dev stack's maker")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *wire != "v1" && *wire != "v2" {
		return nil, fmt.Errorf("bench: --wire must be v1 or v2, got %q", *wire)
	}
	o.V1 = *wire == "v1"
	if o.URL != "" {
		var err error
		if o.Maker, err = devstack.LoadMaker(*makerFile); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, e bench.Env) (fmt.Stringer, error) { return bench.Ingest(ctx, e, o) }, nil
}

func benchPipeline(fs *flag.FlagSet, args []string) (func(context.Context, bench.Env) (fmt.Stringer, error), error) {
	var o bench.PipelineOptions
	fs.DurationVar(&o.Duration, "duration", 60*time.Second, "how long to send (with --rate, or as fast as acknowledged)")
	fs.IntVar(&o.Count, "count", 0, "send this many readings instead of for --duration")
	fs.Float64Var(&o.Rate, "rate", 0, "offer this many readings per second (0: as fast as ingest acknowledges)")
	fs.IntVar(&o.Devices, "devices", 10_000, "devices in the fleet, each reading once a second of event time (at most 30 minutes of event time each)")
	fs.IntVar(&o.Batch, "batch", 100, "readings per request")
	fs.IntVar(&o.Clients, "clients", 16, "concurrent HTTP clients")
	fs.IntVar(&o.Validators, "validators", 1, "validator processes")
	fs.IntVar(&o.Ingests, "ingests", 1, "ingest processes (replicas behind one address in a deployment): client c sends to ingest c mod N; with more than one the roles are ingest-1, ingest-2, ...")
	fs.IntVar(&o.Partitions, "partitions", 0, "partitions of each topic (0: the roles' default, kafka.partitions); a validator with no partition to take idles")
	fs.DurationVar(&o.Sample, "sample", 5*time.Second, "how often to print progress and sample each role's RSS")
	fs.Float64Var(&o.MaxRate, "max-rate", 60_000, "without --rate or --count: readings per second of --duration to prepare (more than the pipeline can take)")
	fs.StringVar(&o.Profiles, "profile", "", "directory to save a CPU profile of ingest, each validator and the aggregator in (ROLE.pprof, 10 s from the 5th second; go tool pprof FILE)")
	fs.BoolVar(&o.ClickHouseSplit, "clickhouse-split", false, "start ClickHouse with its query and part logs and print where its CPU went: each kind of query, each materialized view, each table's merges (the logs cost it a little CPU of their own)")
	fs.Float64Var(&o.AnalystLoad, "analyst-load", 0, "meanwhile run the heaviest cookbook queries (over the raw readings) this many times a second as the analyst's user (at most 4 at once)")
	fs.DurationVar(&o.EpochLength, "epoch-length", 0, "the aggregator's epoch length and allowed lateness (0: its defaults), e.g. 5s to see epochs scored in the run; waits for them and prints how long scoring one took")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context, e bench.Env) (fmt.Stringer, error) { return bench.Pipeline(ctx, e, o) }, nil
}

func benchAPI(fs *flag.FlagSet, args []string) (func(context.Context, bench.Env) (fmt.Stringer, error), error) {
	var o bench.APIOptions
	fs.IntVar(&o.Accounts, "accounts", 250_000, "accounts paid in the settled epoch")
	fs.IntVar(&o.Devices, "devices", 1_000_000, "devices whose scores make the epoch, spread over the accounts")
	fs.IntVar(&o.Clients, "clients", 32, "concurrent HTTP clients")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long to request proofs")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "requests sent first and left out of the figures")
	fs.StringVar(&o.Profile, "profile", "", "file to save a CPU profile of the API in (10 s of the measured window), and of the settler in FILE.settle (its first 20 s); go tool pprof FILE")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context, e bench.Env) (fmt.Stringer, error) { return bench.API(ctx, e, o) }, nil
}

func benchExplorer(fs *flag.FlagSet, args []string) (func(context.Context, bench.Env) (fmt.Stringer, error), error) {
	var o bench.ExplorerOptions
	fs.IntVar(&o.Devices, "devices", 1_000_000, "devices in the network")
	fs.IntVar(&o.Accounts, "accounts", 250_000, "owners, each with devices/accounts devices")
	fs.IntVar(&o.Epochs, "epochs", 6, "epochs scored and settled")
	fs.IntVar(&o.Loads, "loads", 200, "loads of each page measured (random devices, owners, cells, epochs)")
	serve := fs.Bool("serve", false, "keep the stack and the API running after the figures, to look at the explorer on the seeded network, until interrupted")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return func(ctx context.Context, e bench.Env) (fmt.Stringer, error) {
		if *serve {
			o.Serve = func(url string, fig *bench.ExplorerFigures) {
				fmt.Fprintf(e.Progress, "%sbench explorer: serving %s/explorer until interrupted\n", fig, url)
				<-ctx.Done()
			}
		}
		return bench.Explorer(ctx, e, o)
	}, nil
}
