// Command fieldmint runs one role of the pipeline, the whole pipeline on an
// embedded stack (dev), or one of the tools (tree, claim).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/config"
	"github.com/fieldmint/fieldmint/internal/gctune"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/roles"
	"github.com/fieldmint/fieldmint/settler/claim"
)

type command struct {
	summary string
	args    string // positional arguments it takes after the options, for usage; empty: none
	// run parses the command's options from args on fs, then runs it.
	run func(ctx context.Context, name string, fs *flag.FlagSet, args []string, out io.Writer) error
}

// toolSections are the configuration sections of the commands that are not
// roles (the roles' are in roles.Table).
var toolSections = map[string][]string{
	"replay":       {"log", "kafka", "clickhouse", "aggregate", "settle"},
	"verify-epoch": {"log", "kafka", "clickhouse", "aggregate", "settle"},
	"export":       {"log", "kafka", "clickhouse", "aggregate"},
	"migrate":      {"log", "clickhouse"},
	"simulate":     {"log", "clickhouse", "aggregate", "simulate"},
}

// sectionsOf returns the configuration sections command name reads: a
// role's from roles.Table; dev's every role's and its own.
func sectionsOf(name string) []string {
	if r, ok := roles.Lookup(name); ok {
		return r.Sections
	}
	if name != "dev" {
		return toolSections[name]
	}
	out := []string{}
	for _, r := range roles.Table {
		for _, s := range r.Sections {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return append(out, "dev")
}

// devCommands are the commands of the dev stack and the simulator
// (devcommands.go); a production build (-tags nodev) has none.
var devCommands = map[string]command{}

// serveChild runs a ClickHouse server when this process is one the dev
// stack started (chserver.ServeIfChild); a production build starts none.
var serveChild = func() {}

// configured is a command whose options are the configuration sections it
// reads (sectionsOf) of a configuration C (the roles', or the dev stack's
// that embeds it: base finds the roles' in it), read from a file, the
// environment and flags; --check-config validates them and exits. flags,
// when not nil, adds the command's own flags.
func configured[C any](summary, args string, defaults func() C, base func(*C) *roles.Config, flags func(*flag.FlagSet), run func(context.Context, C, []string, io.Writer, *slog.Logger) error) command {
	return command{summary: summary, args: args, run: func(ctx context.Context, name string, fs *flag.FlagSet, rest []string, out io.Writer) error {
		sections := sectionsOf(name)
		cfg := defaults()
		var positional []string
		if args != "" {
			// Positional arguments may come first (fieldmint verify-epoch 7 --flag):
			// the flag package stops at the first one, so set them aside.
			for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
				positional, rest = append(positional, rest[0]), rest[1:]
			}
		}
		check := fs.Bool("check-config", false, "validate the configuration (file, environment, flags), print ok or what to fix, and exit")
		if flags != nil {
			flags(fs)
		}
		if err := config.Load(fs, &cfg, sections, rest); err != nil {
			return err
		}
		if fs.NArg() > 0 && args == "" {
			return fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		rc := base(&cfg)
		if *check {
			err := rc.Check(sections)
			if r, ok := roles.Lookup(name); ok {
				err = r.CheckConfig(*rc)
			}
			if err != nil {
				return fmt.Errorf("%s: configuration: %w", name, err)
			}
			fmt.Fprintf(out, "%s: configuration ok\n", name)
			return nil
		}
		log, err := rc.Log.Logger()
		if err != nil {
			return err
		}
		if slices.Contains(sections, "telemetry") {
			stopTelemetry, err := telemetry.Start(ctx, rc.Telemetry, "fieldmint-"+name)
			if err != nil {
				return err
			}
			defer func() {
				flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				stopTelemetry(flush)
			}()
		}
		return run(ctx, cfg, append(positional, fs.Args()...), out, log)
	}}
}

// tool is a command that parses its own flags.
func tool(summary string, run func(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error) command {
	return command{summary: summary, run: func(ctx context.Context, _ string, fs *flag.FlagSet, args []string, out io.Writer) error {
		return run(ctx, fs, args, out)
	}}
}

// self is base for a command of the roles' configuration.
func self(c *roles.Config) *roles.Config { return c }

var (
	migrateOpts roles.MigrateOptions // `fieldmint migrate`'s flags
	verifyOpts  roles.VerifyOptions  // verify-epoch's
	exportOpts  roles.ExportOptions  // export's
)

func commands() map[string]command {
	cmds := map[string]command{
		"replay": configured("rebuild a fresh ClickHouse database from the Kafka log: readings, epochs, rewards and roots (nothing posted)", "", roles.Defaults, self, nil,
			func(ctx context.Context, c roles.Config, _ []string, out io.Writer, l *slog.Logger) error {
				return roles.RunReplay(ctx, c, out, l)
			}),
		"verify-epoch": configured("recompute an epoch's rewards and root from ClickHouse's readings, or from an export (--from), and compare them with the stored tree and the chain", "EPOCH", roles.Defaults, self, verifyOpts.Flags,
			func(ctx context.Context, c roles.Config, args []string, out io.Writer, l *slog.Logger) error {
				return roles.RunVerifyEpochWith(ctx, c, verifyOpts, args, out, l)
			}),
		"export": configured("write a settled epoch's public dataset (Parquet readings with their signatures, decisions, scores, cut, devices, policy, trees) and a manifest of hashes", "", roles.Defaults, self, exportOpts.Flags,
			func(ctx context.Context, c roles.Config, _ []string, out io.Writer, l *slog.Logger) error {
				return roles.RunExport(ctx, c, exportOpts, out, l)
			}),
		"migrate": configured("apply the ClickHouse schema migrations, the readings TTL, the workloads and the least-privilege roles, under a lock (run before the roles start; they refuse another schema)", "", roles.Defaults, self,
			migrateOpts.Flags,
			func(ctx context.Context, c roles.Config, _ []string, out io.Writer, l *slog.Logger) error {
				return roles.RunMigrate(ctx, c, migrateOpts, out, l)
			}),
		"verify-votes":     tool("show where the signers' votes for an epoch differ, leaf by leaf and device by device, from every operator's proof API", roles.RunVerifyVotes),
		"tree":             tool("build an OpenZeppelin standard-v1 Merkle tree dump from address,amount lines", runTree),
		"claim":            tool("claim an owner's rewards with the proof from the proof API", runClaim),
		"add-maker":        tool("register a maker (its ed25519 key attests its devices), signed by an admin's key", roles.RunAddMaker),
		"probe":            tool("GET a URL and succeed on 2xx: the health check of images without a shell (fieldmint probe http://127.0.0.1:9464/readyz)", runProbe),
		"deploy-contracts": tool("deploy the token (or take an existing ERC-20) and the distributor, wait for confirmations, check the code on chain; prints JSON or, with --env, the FIELDMINT_* lines", runDeployContracts),
	}
	for _, r := range roles.Table {
		var o roles.Options
		var flags func(*flag.FlagSet)
		if r.Flags != nil {
			flags = func(fs *flag.FlagSet) { r.Flags(fs, &o) }
		}
		cmds[r.Name] = configured(r.Summary, "", roles.Defaults, self, flags,
			func(ctx context.Context, c roles.Config, _ []string, _ io.Writer, log *slog.Logger) error {
				return r.Run(ctx, c, o, log)
			})
	}
	maps.Copy(cmds, devCommands)
	return cmds
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
		fmt.Fprintf(w, "  %-17s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery role reads a YAML file (--config), FIELDMINT_* environment variables and flags, in that order.\nRun 'fieldmint <command> --help' for its options.")
}

func main() {
	serveChild()
	if gc := gctune.Apply(); gc.Err != nil {
		// Not fatal: the process runs with Go's own limit (none).
		fmt.Fprintln(os.Stderr, "fieldmint: GOMEMLIMIT from the container's memory limit:", gc.Err)
	}
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
	return cmd.run(ctx, name, fs, args[1:], out)
}

func runClaim(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	api := fs.String("api", roles.EnvOr("FIELDMINT_CLAIM_API", "http://127.0.0.1:8081"), "proof API base URL (env FIELDMINT_CLAIM_API)")
	rpc := fs.String("rpc", roles.EnvOr("FIELDMINT_CLAIM_RPC", "http://127.0.0.1:8545"), "Ethereum JSON-RPC endpoint (env FIELDMINT_CLAIM_RPC)")
	keyFile := fs.String("key-file", "", "file holding the hex private key that sends the claim (else env FIELDMINT_CLAIM_KEY)")
	account := fs.String("account", "", "claim on behalf of this address (tokens go to it); empty: the key's own address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key, err := roles.ReadKey("claim", "FIELDMINT_CLAIM_KEY", *keyFile)
	if err != nil {
		return err
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
		claim.FormatUnits(res.Paid, 18), res.Account.Hex(), claim.FormatUnits(res.Cumulative, 18), res.Epoch, res.Tx.Hex(), res.Block,
		claim.FormatUnits(res.Balance, 18), res.Balance)
	return nil
}
