// Package dev composes the roles: the configuration of every role, a runner
// per role, and the embedded stack behind `fieldmint dev` (kfake, a
// ClickHouse server process, a dev chain with the contracts, a simulated
// fleet) that the end-to-end tests run on too.
package dev

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/simulate"
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
	Dev        Options           `yaml:"dev"`
	Simulate   simulate.Config   `yaml:"simulate"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level" help:"log level: debug, info, warn, error"`
	Format string `yaml:"format" help:"log format: text or json"`
}

// Options of the embedded dev stack.
type Options struct {
	DataDir      string        `yaml:"dataDir" help:"where the dev stack keeps its state (Kafka log, ClickHouse, chain)"`
	KafkaPort    int           `yaml:"kafkaPort" help:"port of the embedded Kafka broker"`
	CHTCPPort    int           `yaml:"clickhouseTCPPort" help:"ClickHouse native protocol port"`
	CHHTTPPort   int           `yaml:"clickhouseHTTPPort" help:"ClickHouse HTTP port"`
	RPCPort      int           `yaml:"rpcPort" help:"dev chain JSON-RPC port"`
	Devices      int           `yaml:"devices" help:"simulated devices (0: no fleet)"`
	Owners       int           `yaml:"owners" help:"simulated owners the devices belong to"`
	FraudPercent int           `yaml:"fraudPercent" help:"share of simulated devices that cheat, 0-100"`
	Interval     time.Duration `yaml:"interval" help:"time between a simulated device's readings"`
	Timelock     time.Duration `yaml:"timelock" help:"how long a proposed root waits before it can be activated (the guardian may revoke it meanwhile); fixed when the contracts are first deployed"`
	// ResumeFrom is the --resume-from flag: the settler first recomputes
	// from this epoch on (after a revoked or parked epoch).
	ResumeFrom uint64 `yaml:"-"`
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
		Simulate:   simulate.DefaultConfig(),
		Dev: Options{DataDir: ".fieldmint", KafkaPort: 9092, CHTCPPort: 9000, CHHTTPPort: 8123, RPCPort: 8545,
			Devices: 300, Owners: 8, FraudPercent: 10, Interval: 5 * time.Second, Timelock: 20 * time.Second},
	}
}

// DevDefaults are Defaults with short epochs, so that a newcomer sees roots
// posted within two minutes.
func DevDefaults() Config {
	c := Defaults()
	c.Log.Level = "warn"
	c.Aggregate.EpochLength = 30 * time.Second
	c.Aggregate.AllowedLateness = 5 * time.Second
	c.Aggregate.IdleTimeout = 30 * time.Second
	c.Aggregate.FlushInterval = 500 * time.Millisecond
	c.Telemetry.MetricsListen = "127.0.0.1:9464"
	return c
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

// RunIngest runs the ingest role until ctx ends.
func RunIngest(ctx context.Context, c Config, log *slog.Logger) error {
	if err := prepareKafka(ctx, c.Kafka); err != nil {
		return err
	}
	s, err := ingest.New(c.Ingest, c.Kafka, log)
	if err != nil {
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
	return s.Run(ctx)
}

// RunSimulate is `fieldmint simulate`: a labelled fleet against the stack at
// c.Simulate.URL and c.ClickHouse, then the detection report.
func RunSimulate(ctx context.Context, c Config, out io.Writer, log *slog.Logger) error {
	conn, err := clickhouse.Dial(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	if c.Simulate.Maker, err = LoadMaker(c.Simulate.MakerFile); err != nil {
		return err
	}
	if c.Simulate.Scoring, err = aggregator.LoadScoring(c.Aggregate.ScoringFile); err != nil {
		return err
	}
	_, err = simulate.Run(ctx, c.Simulate, conn, c.Aggregate.EpochLength, out, log)
	return err
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
	client, err := ethclient.DialContext(ctx, c.Settle.RPC)
	if err != nil {
		return fmt.Errorf("api: dial %s: %w", c.Settle.RPC, err)
	}
	defer client.Close()
	api, err := settler.NewAPI(ctx, conn, client, common.HexToAddress(c.Settle.Distributor))
	if err != nil {
		return err
	}
	log.Info("api: serving proofs", "listen", c.Settle.APIListen, "distributor", c.Settle.Distributor)
	return api.Serve(ctx, c.Settle.APIListen)
}
