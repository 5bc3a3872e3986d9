// Command fieldmint runs one role of the pipeline, the whole pipeline on an
// embedded stack (dev), or one of the tools (tree, claim).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/claim"
	"github.com/fieldmint/fieldmint/internal/config"
	"github.com/fieldmint/fieldmint/internal/dev"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

type command struct {
	summary  string
	sections []string            // configuration sections; nil: the command parses its own flags
	args     string              // positional arguments it takes after the options, for usage; empty: none
	flags    func(*flag.FlagSet) // registers the command's own flags beside the configuration's; nil: none
	defaults func() dev.Config
	run      func(ctx context.Context, cfg dev.Config, fs *flag.FlagSet, args []string, out io.Writer) error
}

var roleSections = map[string][]string{
	"ingest":       {"log", "telemetry", "kafka", "ingest"},
	"validate":     {"log", "telemetry", "kafka", "validate"},
	"aggregate":    {"log", "telemetry", "kafka", "clickhouse", "aggregate"},
	"settle":       {"log", "telemetry", "clickhouse", "settle"},
	"api":          {"log", "telemetry", "clickhouse", "settle"},
	"dev":          {"log", "telemetry", "kafka", "ingest", "validate", "aggregate", "settle", "dev"},
	"replay":       {"log", "kafka", "clickhouse", "aggregate", "settle"},
	"verify-epoch": {"log", "kafka", "clickhouse", "aggregate", "settle"},
	"simulate":     {"log", "clickhouse", "aggregate", "simulate"},
}

func commands() map[string]command {
	var resumeFrom uint64
	resumeFlag := func(fs *flag.FlagSet) {
		fs.Uint64Var(&resumeFrom, "resume-from", 0, "after a revoked or parked epoch: recompute epochs from this one on, building on the active root, then settle as usual (see settler/README.md)")
	}
	withLog := func(fn func(context.Context, dev.Config, *slog.Logger) error) func(context.Context, dev.Config, *flag.FlagSet, []string, io.Writer) error {
		return func(ctx context.Context, cfg dev.Config, _ *flag.FlagSet, _ []string, _ io.Writer) error {
			log, err := cfg.Log.Logger()
			if err != nil {
				return err
			}
			return fn(ctx, cfg, log)
		}
	}
	// withLogOut is withLog for commands that also print to out.
	withLogOut := func(fn func(context.Context, dev.Config, io.Writer, *slog.Logger) error) func(context.Context, dev.Config, *flag.FlagSet, []string, io.Writer) error {
		return func(ctx context.Context, cfg dev.Config, _ *flag.FlagSet, _ []string, out io.Writer) error {
			log, err := cfg.Log.Logger()
			if err != nil {
				return err
			}
			return fn(ctx, cfg, out, log)
		}
	}
	return map[string]command{
		"ingest":    {summary: "serve POST /v1/readings and /v1/devices, writing to Kafka", sections: roleSections["ingest"], defaults: dev.Defaults, run: withLog(dev.RunIngest)},
		"validate":  {summary: "run a validator instance (consumer group member, transactional)", sections: roleSections["validate"], defaults: dev.Defaults, run: withLog(dev.RunValidate)},
		"aggregate": {summary: "write decided readings to ClickHouse and close epochs", sections: roleSections["aggregate"], defaults: dev.Defaults, run: withLog(dev.RunAggregate)},
		"settle": {summary: "settle closed epochs on chain, following the distributor's events (the one role with the poster key; run one)", sections: roleSections["settle"], defaults: dev.Defaults,
			flags: resumeFlag,
			run: withLog(func(ctx context.Context, c dev.Config, l *slog.Logger) error {
				return dev.RunSettle(ctx, c, resumeFrom, l, nil)
			})},
		"api": {summary: "serve the proof API and the claim page for the distributor's active root (read-only, no key; run any number)", sections: roleSections["api"], defaults: dev.Defaults,
			run: withLog(dev.RunAPI)},
		"dev": {summary: "run everything on an embedded Kafka, ClickHouse and dev chain, with a simulated fleet", sections: roleSections["dev"], defaults: dev.DevDefaults,
			flags: resumeFlag,
			run: withLogOut(func(ctx context.Context, c dev.Config, out io.Writer, l *slog.Logger) error {
				c.Dev.ResumeFrom = resumeFrom
				return dev.Run(ctx, c, out, l)
			})},
		"replay": {summary: "rebuild a fresh ClickHouse database from the Kafka log: readings, epochs, rewards and roots (nothing posted)", sections: roleSections["replay"], defaults: dev.Defaults,
			run: withLogOut(dev.RunReplay)},
		"verify-epoch": {summary: "recompute an epoch's rewards and root from ClickHouse's readings and compare them with the stored tree and the chain", sections: roleSections["verify-epoch"], defaults: dev.Defaults, args: "EPOCH",
			run: func(ctx context.Context, cfg dev.Config, fs *flag.FlagSet, args []string, out io.Writer) error {
				log, err := cfg.Log.Logger()
				if err != nil {
					return err
				}
				return dev.RunVerifyEpoch(ctx, cfg, args, out, log)
			}},
		"simulate": {summary: "send a labelled fleet of honest and cheating devices to a running stack, then report how much fraud was caught and paid", sections: roleSections["simulate"], defaults: dev.Defaults,
			run: withLogOut(dev.RunSimulate)},
		"tree":       {summary: "build an OpenZeppelin standard-v1 Merkle tree dump from address,amount lines", run: runTree},
		"claim":      {summary: "claim an owner's rewards with the proof from the proof API", run: runClaim},
		"clickhouse": {summary: "run a ClickHouse server (chDB) in the foreground", run: runClickHouse},
		"broker":     {summary: "run a Kafka-protocol broker (kfake) persisted in a directory, in the foreground", run: runBroker},
		"bench":      {summary: "measure a stage under load: bench ingest (readings/s, latency, ingest's CPU and peak RSS)", run: runBench},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "fieldmint: an event-streaming backend for DePIN networks.\n\nUsage: fieldmint <command> [flags]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery role reads a YAML file (--config), FIELDMINT_* environment variables and flags, in that order.\nRun 'fieldmint <command> --help' for its options.")
}

func main() {
	chserver.ServeIfChild()
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fieldmint:", err)
		os.Exit(1)
	}
}

func run(args []string, out, errOut io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(out)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	name := args[0]
	cmd, ok := commands()[name]
	if !ok {
		usage(errOut)
		return fmt.Errorf("unknown command %q", name)
	}
	fs := flag.NewFlagSet("fieldmint "+name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "fieldmint %s: %s\n\n", name, cmd.summary)
		if cmd.args != "" {
			fmt.Fprintf(errOut, "Usage: fieldmint %s [options] %s\n\n", name, cmd.args)
		}
		fmt.Fprintln(errOut, "Options:")
		fs.PrintDefaults()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cmd.sections == nil {
		return cmd.run(ctx, dev.Config{}, fs, args[1:], out)
	}
	cfg := cmd.defaults()
	rest, positional := args[1:], []string(nil)
	if cmd.args != "" {
		// Positional arguments may come first (fieldmint verify-epoch 7 --flag):
		// the flag package stops at the first one, so set them aside.
		for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := config.Load(fs, &cfg, cmd.sections, rest); err != nil {
		return err
	}
	if fs.NArg() > 0 && cmd.args == "" {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if slices.Contains(cmd.sections, "telemetry") {
		stopTelemetry, err := telemetry.Start(ctx, cfg.Telemetry, "fieldmint-"+name)
		if err != nil {
			return err
		}
		defer func() {
			flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			stopTelemetry(flush)
		}()
	}
	return cmd.run(ctx, cfg, fs, append(positional, fs.Args()...), out)
}

func runTree(_ context.Context, _ dev.Config, fs *flag.FlagSet, args []string, out io.Writer) error {
	in := fs.String("in", "-", "CSV of address,amount lines (amounts in base units); - for standard input")
	dst := fs.String("out", "", "where to write the standard-v1 dump (JSON); empty: not written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	rewards, err := readRewards(r)
	if err != nil {
		return fmt.Errorf("tree: %s: %w", *in, err)
	}
	start := time.Now()
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		return err
	}
	built := time.Since(start)
	if *dst != "" {
		raw, _ := json.Marshal(tree)
		if err := os.WriteFile(*dst, raw, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "root %s\nleaves %d (built in %s)\n", tree.Root().Hex(), tree.Len(), built.Round(time.Millisecond))
	if *dst != "" {
		fmt.Fprintf(out, "dump %s\n", *dst)
	}
	return nil
}

func runClaim(ctx context.Context, _ dev.Config, fs *flag.FlagSet, args []string, out io.Writer) error {
	api := fs.String("api", envOr("FIELDMINT_CLAIM_API", "http://127.0.0.1:8081"), "proof API base URL (env FIELDMINT_CLAIM_API)")
	rpc := fs.String("rpc", envOr("FIELDMINT_CLAIM_RPC", "http://127.0.0.1:8545"), "Ethereum JSON-RPC endpoint (env FIELDMINT_CLAIM_RPC)")
	keyFile := fs.String("key-file", "", "file holding the hex private key that sends the claim (else env FIELDMINT_CLAIM_KEY)")
	account := fs.String("account", "", "claim on behalf of this address (tokens go to it); empty: the key's own address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	keyHex := os.Getenv("FIELDMINT_CLAIM_KEY")
	if *keyFile != "" {
		raw, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		keyHex = string(raw)
	}
	if keyHex == "" {
		return errors.New("claim: no key: set FIELDMINT_CLAIM_KEY or pass --key-file (the key pays gas; it is never printed)")
	}
	key, err := chain.ParseKey(keyHex)
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	o := claim.Options{API: strings.TrimRight(*api, "/"), RPC: *rpc, Key: key}
	if *account != "" {
		if !common.IsHexAddress(*account) {
			return fmt.Errorf("claim: --account %q is not an address", *account)
		}
		o.Account = common.HexToAddress(*account)
	}
	res, err := claim.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "claimed %s FMNT for %s (cumulative %s through epoch %d)\ntx %s in block %d\nbalance %s FMNT (%s base units)\n",
		dev.FormatUnits(res.Paid, 18), res.Account.Hex(), dev.FormatUnits(res.Cumulative, 18), res.Epoch, res.Tx.Hex(), res.Block,
		dev.FormatUnits(res.Balance, 18), res.Balance)
	return nil
}

func runClickHouse(ctx context.Context, _ dev.Config, fs *flag.FlagSet, args []string, out io.Writer) error {
	path := fs.String("path", ".fieldmint/clickhouse", "data directory")
	tcp := fs.Int("tcp-port", 9000, "native protocol port")
	httpPort := fs.Int("http-port", 8123, "HTTP port")
	lib := fs.String("library", chserver.DefaultLibrary(), "path to libchdb.so (env FIELDMINT_CHDB_LIB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := chserver.Start(ctx, chserver.Options{Library: *lib, Path: *path, TCPPort: *tcp, HTTPPort: *httpPort})
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Fprintf(out, "clickhouse: native %s, http http://%s, data %s (Ctrl-C stops)\n", s.TCPAddr, s.HTTPAddr, *path)
	select {
	case <-ctx.Done():
	case <-s.Done():
		return errors.New("clickhouse server exited")
	}
	return nil
}

func runBroker(ctx context.Context, _ dev.Config, fs *flag.FlagSet, args []string, out io.Writer) error {
	dir := fs.String("data-dir", ".fieldmint/kafka", "data directory: topics, records, groups and transactions survive a restart, or a kill")
	port := fs.Int("port", 9092, "port to listen on (127.0.0.1)")
	sync := fs.Bool("sync-writes", false, "fsync every produced batch (survives a machine crash, not just a process crash)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(*port), kfake.DataDir(*dir), kfake.AllowAutoTopicCreation()}
	if *sync {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("broker on port %d, data %s: %w", *port, *dir, err)
	}
	defer c.Close()
	fmt.Fprintf(out, "broker: %s, data %s (Ctrl-C stops)\n", strings.Join(c.ListenAddrs(), ","), *dir)
	<-ctx.Done()
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
