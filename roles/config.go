// Package roles composes the stages into the roles a deployment runs: the
// configuration of every role and a runner per role (ingest, validate,
// aggregate, settle, api), and the tools that read a deployment's state
// (replay, verify-epoch). It imports the stages and internal plumbing, and
// never the dev stack or the simulator (TestLayout holds it).
package roles

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/api"
	"github.com/fieldmint/fieldmint/ingest"
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
	API        api.Config        `yaml:"api"`
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
		ClickHouse: clickhouse.Config{Addr: "127.0.0.1:9000", Database: "fieldmint", Username: "default", Analyst: clickhouse.DefaultAnalystLimits()},
		Ingest:     ingest.DefaultConfig(),
		Validate:   validators.DefaultConfig(),
		Aggregate:  aggregator.DefaultConfig(),
		Settle:     settler.DefaultConfig(),
		API:        api.DefaultConfig(),
	}
}

// MigrateOptions are `fieldmint migrate`'s flags.
type MigrateOptions struct {
	Users     bool   // create or update the users clickhouse.users names
	AccessXML string // write the roles and users as a users file there
}

// Flags registers the options as `fieldmint migrate`'s flags.
func (o *MigrateOptions) Flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.Users, "users", false, "also create or update the stages' and the analyst's users named in clickhouse.users (passwords from the environment or the file)")
	fs.StringVar(&o.AccessXML, "access-xml", "", "also write the roles, profiles, quota and users as a ClickHouse users file here, for a server configured by files")
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
			err = c.ProofAPI().Validate()
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
func RunMigrate(ctx context.Context, c Config, o MigrateOptions, out io.Writer, log *slog.Logger) error {
	if o.AccessXML != "" {
		// A file only: a server configured by files reads it at start.
		xml := clickhouse.AccessXML(map[string]clickhouse.Users{c.ClickHouse.Database: c.ClickHouse.Users}, c.ClickHouse.Analyst)
		if err := os.WriteFile(o.AccessXML, xml, 0o600); err != nil {
			return fmt.Errorf("migrate: --access-xml: %w", err)
		}
		fmt.Fprintf(out, "wrote %s: the roles, profiles, analyst quota and users of %s; put it in the server's users.d and restart it\n", o.AccessXML, c.ClickHouse.Database)
	}
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
	access, err := clickhouse.ApplyAccess(ctx, conn, c.ClickHouse, o.Users)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "workloads %s and %s\n", clickhouse.Workload(c.ClickHouse.Database, "aggregate"), clickhouse.Workload(c.ClickHouse.Database, "analyst"))
	if len(access.Roles) > 0 {
		fmt.Fprintf(out, "roles %s\n", strings.Join(access.Roles, ", "))
		if len(access.Users) > 0 {
			fmt.Fprintf(out, "users %s\n", strings.Join(access.Users, ", "))
		}
	} else {
		fmt.Fprintln(out, "roles not created: this server keeps users in configuration files only (fieldmint migrate --access-xml FILE writes them)")
	}
	log.Info("migrate: done", "database", c.ClickHouse.Database, "applied", len(applied))
	return nil
}
