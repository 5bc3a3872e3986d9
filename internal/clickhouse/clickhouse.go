// Package clickhouse opens connections to ClickHouse and applies the schema
// migrations from schemas/migrations.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/schemas/migrations"
)

// Config says where ClickHouse is.
type Config struct {
	Addr     string `yaml:"addr" help:"ClickHouse native protocol address host:port"`
	Database string `yaml:"database" help:"database holding fieldmint's tables (created if missing)"`
	Username string `yaml:"username" help:"ClickHouse user"`
	Password string `yaml:"password" help:"ClickHouse password (prefer the environment variable)" secret:"true"`
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
	return nil
}

// Open connects, creates the database if needed and applies pending migrations.
func Open(ctx context.Context, c Config) (driver.Conn, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	boot, err := connect(ctx, c, "default")
	if err != nil {
		return nil, err
	}
	err = boot.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+c.Database)
	boot.Close()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: create database: %w", err)
	}
	conn, err := connect(ctx, c, c.Database)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func connect(ctx context.Context, c Config, db string) (driver.Conn, error) {
	conn, err := ch.Open(&ch.Options{
		Addr:        []string{c.Addr},
		Auth:        ch.Auth{Database: db, Username: c.Username, Password: c.Password},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", c.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %s: %w", c.Addr, err)
	}
	return conn, nil
}

// Migrate applies every migration not yet recorded in schema_migrations.
func Migrate(ctx context.Context, conn driver.Conn) error {
	all, err := migrations.All()
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations
		(version UInt32, name String, applied_at DateTime64(3, 'UTC'))
		ENGINE = ReplacingMergeTree ORDER BY version`); err != nil {
		return fmt.Errorf("clickhouse: schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[int(v)] = true
	}
	rows.Close()
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("clickhouse: migration %s statement %d: %w", m.Name, i+1, err)
			}
		}
		if err := conn.Exec(ctx, "INSERT INTO schema_migrations VALUES (?, ?, now64(3))", uint32(m.Version), m.Name); err != nil {
			return err
		}
	}
	return nil
}
