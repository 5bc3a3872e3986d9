package roles

import (
	"context"
	"errors"
	"flag"
	"log/slog"

	"github.com/fieldmint/fieldmint/api"
	"github.com/fieldmint/fieldmint/settler"
)

// Role is one long-running process of a deployment: what `fieldmint
// <name>` runs, what the dev stack starts, and what the chart deploys (its
// values carry the same name). Adding a role is one entry in Table, its
// runner, and its chart values.
type Role struct {
	Name    string
	Summary string
	// Sections are the configuration sections it reads (their flags and
	// environment variables are its options).
	Sections []string
	// Check validates its configuration as it will when it starts, without
	// connecting to anything (--check-config); nil: Config.Check(Sections).
	Check func(c Config) error
	// Flags adds options of its own beside the configuration's.
	Flags func(fs *flag.FlagSet, o *Options)
	Run   func(ctx context.Context, c Config, o Options, log *slog.Logger) error
}

// Options are what a role may take beyond its configuration.
type Options struct {
	// ResumeFrom (settle): after a revoked or parked epoch, recompute epochs
	// from this one on (0: no resume).
	ResumeFrom uint64
	// OnSettled (settle), if set, hears each state an epoch's settlement
	// enters (the dev stack prints them).
	OnSettled func(settler.Settled)
}

// Table lists every role, in the order the dev stack starts them.
var Table = []Role{
	{Name: "ingest", Summary: "serve POST /v1/readings and /v1/devices, writing to Kafka",
		Sections: []string{"log", "telemetry", "kafka", "ingest"},
		Run:      func(ctx context.Context, c Config, _ Options, log *slog.Logger) error { return RunIngest(ctx, c, log) }},
	{Name: "validate", Summary: "run a validator instance (consumer group member, transactional)",
		Sections: []string{"log", "telemetry", "kafka", "validate"},
		Run: func(ctx context.Context, c Config, _ Options, log *slog.Logger) error {
			return RunValidate(ctx, c, log)
		}},
	{Name: "aggregate", Summary: "write decided readings to ClickHouse and close epochs",
		Sections: []string{"log", "telemetry", "kafka", "clickhouse", "aggregate"},
		Run: func(ctx context.Context, c Config, _ Options, log *slog.Logger) error {
			return RunAggregate(ctx, c, log)
		}},
	{Name: "settle", Summary: "settle closed epochs on chain: sign this operator's vote for each root, exchange votes with the other signers on Kafka, submit once k agree, follow the distributor's events (one per signer key)",
		Sections: []string{"log", "telemetry", "kafka", "clickhouse", "aggregate", "settle"}, // aggregate: the cut is taken at an epoch's end plus its allowedLateness
		Flags: func(fs *flag.FlagSet, o *Options) {
			fs.Uint64Var(&o.ResumeFrom, "resume-from", 0, "after a revoked or parked epoch: recompute epochs from this one on, building on the active root, then settle as usual (see settler/README.md)")
		},
		Run: RunSettle},
	{Name: "api", Summary: "serve the proof API, the claim page and the explorer (/explorer): proofs for the distributor's active root, devices, owners and epochs (read-only, no key; run any number)",
		// settle: its rpc and distributor stand in for api's when those are
		// empty, and its deprecated apiListen is still honoured.
		Sections: []string{"log", "telemetry", "clickhouse", "api", "settle"},
		Check: func(c Config) error {
			return errors.Join(c.Check([]string{"log", "telemetry", "clickhouse"}), c.ProofAPI().Validate())
		},
		Run: func(ctx context.Context, c Config, _ Options, log *slog.Logger) error { return RunAPI(ctx, c, log) }},
}

// Lookup returns the role named name.
func Lookup(name string) (Role, bool) {
	for _, r := range Table {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// CheckConfig validates c as role r does when it starts.
func (r Role) CheckConfig(c Config) error {
	if r.Check != nil {
		return r.Check(c)
	}
	return c.Check(r.Sections)
}

// ProofAPI is the api section, its rpc and distributor taken from the
// settle section when empty (one chain, one distributor), and the
// deprecated settle.apiListen honoured when set.
func (c Config) ProofAPI() api.Config {
	a := c.API
	if a.RPC == "" {
		a.RPC = c.Settle.RPC
	}
	if a.Distributor == "" {
		a.Distributor = c.Settle.Distributor
	}
	if a.FromBlock == 0 {
		a.FromBlock = c.Settle.FromBlock
	}
	if c.Settle.APIListen != "" {
		a.Listen = c.Settle.APIListen
	}
	return a
}
