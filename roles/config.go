// Package roles composes the stages into the roles a deployment runs: the
// configuration of every role and a runner per role (ingest, validate,
// aggregate, settle, api), and the tools that read a deployment's state
// (replay, verify-epoch). It imports the stages and internal plumbing, and
// never the dev stack or the simulator (TestLayout holds it).
package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/validators"
)

// Config is the whole configuration; each command uses some sections.
type Config struct {
	Log        LogConfig         `yaml:"log"`
	Telemetry  telemetry.Config  `yaml:"telemetry"`
	Kafka      kafka.Config      `yaml:"kafka"`
	ClickHouse clickhouse.Config `yaml:"clickhouse"`
	Ingest     ingest.Config     `yaml:"ingest"`
	Validate   validators.Config `yaml:"validate"`
	Aggregate  aggregator.Config `yaml:"aggregate"`
	Settle     settler.Config    `yaml:"settle"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level" help:"log level: debug, info, warn, error"`
	Format string `yaml:"format" help:"log format: text or json"`
}

// Defaults returns the configuration of a single machine deployment.
func Defaults() Config {
	return Config{
		Log:        LogConfig{Level: "info", Format: "text"},
		Telemetry:  telemetry.DefaultConfig(),
		Kafka:      kafka.Config{Brokers: []string{"127.0.0.1:9092"}, TopicPrefix: "fieldmint.", Partitions: 4},
		ClickHouse: clickhouse.Config{Addr: "127.0.0.1:9000", Database: "fieldmint", Username: "default"},
		Ingest:     ingest.DefaultConfig(),
		Validate:   validators.DefaultConfig(),
		Aggregate:  aggregator.DefaultConfig(),
		Settle:     settler.DefaultConfig(),
	}
}

// Logger builds the logger the configuration asks for.
func (c LogConfig) Logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.Format) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log.format must be text or json, got %q", c.Format)
}

// prepareKafka checks the Kafka settings and creates missing topics: any role
// may be the first to start.
func prepareKafka(ctx context.Context, k kafka.Config) error {
	if err := k.Validate(); err != nil {
		return err
	}
	return kafka.EnsureTopics(ctx, k)
}

// lagInterval is how often the consumer roles measure their group's lag.
const lagInterval = 15 * time.Second

// ready registers a role's readiness check (served at /readyz) until ctx
// ends.
func ready(ctx context.Context, name string, c telemetry.Check) {
	context.AfterFunc(ctx, telemetry.AddCheck(name, c))
}

// pingClickHouse is the readiness check of a role that reads or writes
// ClickHouse.
func pingClickHouse(conn driver.Conn) telemetry.Check { return conn.Ping }

// RunIngest runs the ingest role until ctx ends.
func RunIngest(ctx context.Context, c Config, log *slog.Logger) error {
	if err := prepareKafka(ctx, c.Kafka); err != nil {
		return err
	}
	s, err := ingest.New(c.Ingest, c.Kafka, log)
	if err != nil {
		return err
	}
	if err := kafka.Watch(ctx, c.Kafka, "ingest", "", 0); err != nil {
		return err
	}
	return s.Run(ctx)
}

// RunValidate runs a validator instance until ctx ends.
func RunValidate(ctx context.Context, c Config, log *slog.Logger) error {
	if err := prepareKafka(ctx, c.Kafka); err != nil {
		return err
	}
	s, err := validators.New(c.Validate, c.Kafka, log)
	if err != nil {
		return err
	}
	if err := kafka.Watch(ctx, c.Kafka, "validate", c.Validate.Group, lagInterval); err != nil {
		return err
	}
	return s.Run(ctx)
}

// RunAggregate runs the aggregator until ctx ends.
func RunAggregate(ctx context.Context, c Config, log *slog.Logger) error {
	if err := prepareKafka(ctx, c.Kafka); err != nil {
		return err
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	s, err := aggregator.New(c.Aggregate, c.Kafka, conn, log)
	if err != nil {
		return err
	}
	if err := kafka.Watch(ctx, c.Kafka, "aggregate", c.Aggregate.Group, lagInterval); err != nil {
		return err
	}
	ready(ctx, "aggregate/clickhouse", pingClickHouse(conn))
	return s.Run(ctx)
}

// RunSettle runs the settler until ctx ends: the one process with the
// poster key. resumeFrom, when not 0, first recomputes epochs from there on
// (the operator's answer to a revoked or parked epoch).
func RunSettle(ctx context.Context, c Config, resumeFrom uint64, log *slog.Logger, onSettled func(settler.Settled)) error {
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	s, err := settler.New(ctx, c.Settle, conn, log)
	if err != nil {
		return err
	}
	defer s.Close()
	s.OnSettled = onSettled
	ready(ctx, "settle/clickhouse", pingClickHouse(conn))
	ready(ctx, "settle/rpc", s.RPCReachable)
	if resumeFrom != 0 {
		if err := s.Resume(ctx, resumeFrom); err != nil {
			return err
		}
	}
	return s.Run(ctx)
}

// RunAPI serves the proof API and the claim page until ctx ends. It holds
// no key; run as many as the traffic needs.
func RunAPI(ctx context.Context, c Config, log *slog.Logger) error {
	if err := c.Settle.ValidateAPI(); err != nil {
		return err
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	client, err := chain.Dial(ctx, c.Settle.RPC)
	if err != nil {
		return fmt.Errorf("api: dial %s: %w", c.Settle.RPC, err)
	}
	defer client.Close()
	api, err := settler.NewAPI(ctx, conn, client, common.HexToAddress(c.Settle.Distributor))
	if err != nil {
		return err
	}
	ready(ctx, "api/clickhouse", pingClickHouse(conn))
	ready(ctx, "api/rpc", func(ctx context.Context) error { _, err := client.BlockNumber(ctx); return err })
	log.Info("api: serving proofs and the explorer", "explorer", "http://"+c.Settle.APIListen+"/explorer", "listen", c.Settle.APIListen, "distributor", c.Settle.Distributor)
	return api.Serve(ctx, c.Settle.APIListen)
}

// Roles returns c: commands handle every configuration that embeds the
// roles' (the dev stack's) alike.
func (c *Config) Roles() *Config { return c }

// Check validates the named sections as the roles do when they start,
// without connecting to anything: what `--check-config` runs.
func (c Config) Check(sections []string) error {
	var errs []error
	for _, s := range sections {
		var err error
		switch s {
		case "log":
			_, err = c.Log.Logger()
		case "telemetry":
			err = c.Telemetry.Validate()
		case "kafka":
			err = c.Kafka.Validate()
		case "clickhouse":
			err = c.ClickHouse.Validate()
		case "ingest":
			err = c.Ingest.Validate()
		case "validate":
			err = c.Validate.Validate()
		case "aggregate":
			if err = c.Aggregate.Validate(); err == nil {
				_, err = aggregator.LoadScoring(c.Aggregate.ScoringFile)
			}
		case "settle":
			err = c.Settle.Validate()
		case "api":
			err = c.Settle.ValidateAPI()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunMigrate is `fieldmint migrate`: the schema migrations this build has,
// applied under the migration lock (a second migrator waits, then finds
// nothing to do), and the readings TTL set. Roles refuse to start on
// another schema.
func RunMigrate(ctx context.Context, c Config, out io.Writer, log *slog.Logger) error {
	conn, err := clickhouse.Dial(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	applied, err := clickhouse.Migrate(ctx, conn, c.ClickHouse)
	for _, name := range applied {
		fmt.Fprintf(out, "applied %s\n", name)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(out, "%s is up to date\n", c.ClickHouse.Database)
	} else {
		fmt.Fprintf(out, "%s migrated: %d migration(s) applied\n", c.ClickHouse.Database, len(applied))
	}
	log.Info("migrate: done", "database", c.ClickHouse.Database, "applied", len(applied))
	return nil
}
