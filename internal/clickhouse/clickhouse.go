// Package clickhouse opens connections to ClickHouse and applies the schema
// migrations from schemas/migrations (`fieldmint migrate`, under a lock).
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/internal/config"
	"github.com/fieldmint/fieldmint/schemas/migrations"
)

// Config says where ClickHouse is.
type Config struct {
	Addr     string `yaml:"addr" help:"ClickHouse native protocol address host:port"`
	Database string `yaml:"database" help:"database holding fieldmint's tables (created if missing)"`
	Username string `yaml:"username" help:"ClickHouse user"`
	Password string `yaml:"password" help:"ClickHouse password (prefer the environment variable)" secret:"true"`
	// ClickHouse Cloud and most managed servers serve the native protocol
	// over TLS only (port 9440).
	TLS config.TLS `yaml:"tls"`
	// Cluster, when set, makes every table Replicated and every DDL statement
	// ON CLUSTER (see migrations.ForCluster).
	Cluster string `yaml:"cluster" help:"ClickHouse cluster name for ON CLUSTER DDL and replicated tables (empty: one server)"`
	// ReadingsTTL bounds how long raw readings are kept after ingest received
	// them; rollups, scores and rewards stay. It counts from received_at, not
	// event time, so a partition's newest offsets, from which the aggregator
	// resumes, are the last to go. Keep it longer than the Kafka topics'
	// retention and than any partition stays idle, or a resume would start
	// over at the log's start.
	ReadingsTTL time.Duration `yaml:"readingsTTL" help:"delete raw readings this long after ingest received them, e.g. 2160h (0: keep forever); rollups are kept. Must exceed Kafka retention"`
	// Users are the stages' own least-privilege users (access.go); Analyst
	// bounds analysts' queries.
	Users   Users         `yaml:"users"`
	Analyst AnalystLimits `yaml:"analyst"`
}

// ErrBadDatabase means the database name is not a plain identifier.
var ErrBadDatabase = errors.New("clickhouse: database must match [A-Za-z_][A-Za-z0-9_]*")

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Addr == "" {
		return errors.New("clickhouse: addr is required")
	}
	if !ident.MatchString(c.Database) {
		return ErrBadDatabase
	}
	if _, err := c.TLS.Config(); err != nil {
		return fmt.Errorf("clickhouse.%w", err)
	}
	if c.ReadingsTTL < 0 || c.ReadingsTTL%time.Second != 0 {
		return errors.New("clickhouse: readingsTTL must be 0 (keep forever) or a positive whole number of seconds, e.g. 2160h")
	}
	for _, stage := range Stages {
		if u := c.Users.account(stage).Username; u != "" && !ident.MatchString(u) {
			return fmt.Errorf("clickhouse: users.%s.username %q must match [A-Za-z_][A-Za-z0-9_]*", stage, u)
		}
	}
	if c.Analyst.MaxCPUs < 0 || c.Analyst.MaxCPUs > 10_000 {
		return errors.New("clickhouse: analyst.maxCPUs must be 0 (no cap) or a positive number of CPUs, e.g. 0.5")
	}
	if c.Analyst.MaxExecutionTime < 0 || c.Analyst.MaxExecutionTime%time.Second != 0 {
		return errors.New("clickhouse: analyst.maxExecutionTime must be a whole number of seconds, e.g. 60s (0: the default)")
	}
	if c.Cluster != "" {
		if _, err := migrations.ForCluster("CREATE TABLE IF NOT EXISTS t", c.Cluster); err != nil {
			return fmt.Errorf("clickhouse: %w", err)
		}
	}
	return nil
}

// dialTimeout bounds connecting to the server, for clickhouse-go's
// connections and the Inserter's alike.
const dialTimeout = 5 * time.Second

// Open connects to c's database (created if missing) and checks that its
// schema is this build's (CheckSchema): a role never migrates, it refuses
// to start and says to run `fieldmint migrate`.
func Open(ctx context.Context, c Config) (driver.Conn, error) {
	conn, err := Dial(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := CheckSchema(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Dial connects to c's database, creating it if needed, and migrates nothing.
func Dial(ctx context.Context, c Config) (driver.Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	boot, err := connect(ctx, c, "default")
	if err != nil {
		return nil, err
	}
	// A stage's least-privilege user may not create databases: the
	// database is created only when it is missing.
	var exists uint8
	err = boot.QueryRow(ctx, "SELECT count() > 0 FROM system.databases WHERE name = ?", c.Database).Scan(&exists)
	if err == nil && exists == 0 {
		create := "CREATE DATABASE IF NOT EXISTS " + c.Database
		if c.Cluster != "" {
			create += " ON CLUSTER '" + c.Cluster + "'"
		}
		err = boot.Exec(ctx, create)
	}
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: create database: %w", err)
	}
	return connect(ctx, c, c.Database)
}

func open(c Config, db string) (driver.Conn, error) {
	tlsCfg, err := c.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("clickhouse.%w", err)
	}
	conn, err := ch.Open(&ch.Options{
		Addr:        []string{c.Addr},
		Auth:        ch.Auth{Database: db, Username: c.Username, Password: c.Password},
		TLS:         tlsCfg,
		DialTimeout: dialTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", c.Addr, err)
	}
	return conn, nil
}

// Prober is the outage watch's probe of c's server: a ping on a connection
// of its own, which connects when first used.
func Prober(c Config) (probe func(context.Context) error, closeProbe func(), err error) {
	conn, err := open(c, c.Database)
	if err != nil {
		return nil, nil, err
	}
	return conn.Ping, func() { conn.Close() }, nil
}

func connect(ctx context.Context, c Config, db string) (driver.Conn, error) {
	conn, err := open(c, db)
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %s: %w", c.Addr, err)
	}
	return conn, nil
}

// Statements returns migration m's statements as they run: rewritten for
// cluster when it is not empty.
func Statements(m migrations.Migration, cluster string) ([]string, error) {
	if cluster == "" {
		return m.Statements, nil
	}
	out := make([]string, len(m.Statements))
	for i, s := range m.Statements {
		var err error
		if out[i], err = migrations.ForCluster(s, cluster); err != nil {
			return nil, fmt.Errorf("%s statement %d: %w", m.Name, i+1, err)
		}
	}
	return out, nil
}

// SetReadingsTTL makes raw readings expire ttl after ingest received them (0:
// never). It changes the table only when the TTL differs from what it has:
// a changed TTL is applied to existing parts too, which rewrites them.
func SetReadingsTTL(ctx context.Context, conn driver.Conn, cluster string, ttl time.Duration) error {
	var current string
	if err := conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'readings'").Scan(&current); err != nil {
		return fmt.Errorf("clickhouse: read readings TTL: %w", err)
	}
	want := ""
	if ttl > 0 {
		want = fmt.Sprintf("TTL toDateTime(received_at) + toIntervalSecond(%d)", int64(ttl/time.Second))
	}
	has := strings.Contains(current, " TTL ")
	var stmt string
	switch {
	case want != "" && !strings.Contains(current, want):
		stmt = "ALTER TABLE readings MODIFY " + want
	case want == "" && has:
		stmt = "ALTER TABLE readings REMOVE TTL"
	default:
		return nil
	}
	stmt, err := migrations.ForClusterOrNot(stmt, cluster)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("clickhouse: set readings TTL: %w", err)
	}
	return nil
}

// Uint64s runs a query of one UInt64 column and returns its values in the
// order the query gives them.
func Uint64s(ctx context.Context, conn driver.Conn, query string, args ...any) ([]uint64, error) {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var v uint64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Counts runs a query of a String and a UInt64 column (a key and its count)
// and returns them as a map.
func Counts(ctx context.Context, conn driver.Conn, query string, args ...any) (map[string]uint64, error) {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var k string
		var n uint64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
