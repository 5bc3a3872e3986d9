// Package devstack is `fieldmint dev`: the whole pipeline in one process on
// an embedded stack (a kfake broker, a ClickHouse server process, a dev chain
// with the contracts) with a simulated fleet, which the end-to-end tests run
// on too. It composes the roles from above (package roles); no production
// role imports it.
package devstack

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/roles"
	"github.com/fieldmint/fieldmint/simulate"
)

// Config is the roles' configuration and the sections of the dev stack and
// the simulator; in a file, the roles' sections sit beside dev and simulate.
type Config struct {
	roles.Config `yaml:",inline"`
	Dev          Options         `yaml:"dev"`
	Simulate     simulate.Config `yaml:"simulate"`
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
	Protocol     string        `yaml:"protocol" help:"how the simulated devices send: http, mqtt (to ingest.mqttListen), grpc (one stream, as a gateway), or mixed (a third of the devices each way)"`
	Timelock     time.Duration `yaml:"timelock" help:"how long a proposed root waits before it can be activated (the guardian may revoke it meanwhile); fixed when the contracts are first deployed"`
	Settlers     int           `yaml:"settlers" help:"independent settlers, each with its own key, ClickHouse database, validators, aggregator and proof API, reading the shared raw topic (1: one settler posting alone); fixed when the contracts are first deployed"`
	Threshold    int           `yaml:"threshold" help:"how many of the settlers sign each root: more than half, at most all (0: the smallest majority, 2 of the default 3)"`
	// ResumeFrom is the --resume-from flag: the settler first recomputes
	// from this epoch on (after a revoked or parked epoch).
	ResumeFrom uint64 `yaml:"-"`
}

// Defaults are the roles' defaults (a single machine deployment) with the
// dev stack's and the simulator's.
func Defaults() Config {
	return Config{
		Config:   roles.Defaults(),
		Simulate: simulate.DefaultConfig(),
		Dev: Options{DataDir: ".fieldmint", KafkaPort: 9092, CHTCPPort: 9000, CHHTTPPort: 8123, RPCPort: 8545,
			Devices: 300, Owners: 8, FraudPercent: 10, Interval: 5 * time.Second, Protocol: "mixed", Timelock: 20 * time.Second, Settlers: 3},
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
	// One validator per operator, restarted on the same data: a stable
	// transactional id lets the restarted one fence the transaction its
	// crash left open at once, rather than leave the broker to time it out
	// (a read_committed aggregator waits behind an open transaction).
	c.Validate.InstanceID = "dev"
	c.Telemetry.MetricsListen = "127.0.0.1:9464"
	c.Ingest.MQTTListen = "127.0.0.1:1883" // the fleet mixes HTTP, MQTT and gRPC devices
	// A LoRaWAN network server (ChirpStack) may post uplinks: dev.json has its token.
	c.Ingest.NetworkServers = []string{DevNetworkServer + "=" + DevNetworkServerToken}
	return c
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
