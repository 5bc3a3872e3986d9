package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"

	"github.com/fieldmint/fieldmint/schemas/migrations"
)

// ErrSchema means the database's schema is not the one this build expects:
// `fieldmint migrate` brings it there. Roles refuse to start on it rather
// than migrate, so that one process, holding the lock, changes the schema.
var ErrSchema = errors.New("clickhouse: schema mismatch")

// StaleLock is how long a migration lock may be held before another
// migrator takes it over (its holder died without releasing it).
const StaleLock = 10 * time.Minute

// Migrate applies the pending migrations under the migration lock and sets
// the readings TTL (c.ReadingsTTL), then returns the names of the
// migrations it applied. Two migrators started at once against an empty
// database apply each migration once: the second waits for the lock, then
// finds nothing left to do.
func Migrate(ctx context.Context, conn driver.Conn, c Config) ([]string, error) {
	unlock, err := lock(ctx, conn)
	if err != nil {
		return nil, err
	}
	defer unlock()
	applied, err := migrateTo(ctx, conn, c.Cluster, int(^uint(0)>>1))
	if err != nil {
		return applied, err
	}
	return applied, SetReadingsTTL(ctx, conn, c.Cluster, c.ReadingsTTL)
}

// MigrateTo applies the migrations not yet recorded, up to version last,
// under the lock (tests start from an older schema with it).
func MigrateTo(ctx context.Context, conn driver.Conn, cluster string, last int) error {
	unlock, err := lock(ctx, conn)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = migrateTo(ctx, conn, cluster, last)
	return err
}

// OpenMigrated connects, migrates and applies the workloads and roles: for
// the dev stack, replay into a fresh database, and tests. Roles use Open.
func OpenMigrated(ctx context.Context, c Config) (driver.Conn, error) {
	conn, err := Dial(ctx, c)
	if err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, conn, c); err != nil {
		conn.Close()
		return nil, err
	}
	if _, err := ApplyAccess(ctx, conn, c, false); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// CheckSchema returns an ErrSchema error unless every migration this build
// has is applied, and nothing newer.
func CheckSchema(ctx context.Context, conn driver.Conn) error {
	all, err := migrations.All()
	if err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	var missing []string
	for _, m := range all {
		if !applied[m.Version] {
			missing = append(missing, m.Name)
		}
		delete(applied, m.Version)
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("%w: %d migration(s) not applied (first: %s): run `fieldmint migrate` with this build first", ErrSchema, len(missing), missing[0])
	case len(applied) > 0:
		return fmt.Errorf("%w: the database has migrations this build does not know (%d newer): run a build at least as new as the one that migrated it", ErrSchema, len(applied))
	}
	return nil
}

// appliedVersions reads schema_migrations; a database without it has none.
func appliedVersions(ctx context.Context, conn driver.Conn) (map[int]bool, error) {
	versions, err := Uint64s(ctx, conn, "SELECT toUInt64(version) FROM schema_migrations")
	var ex *proto.Exception
	if errors.As(err, &ex) && ex.Code == 60 { // UNKNOWN_TABLE: never migrated
		return map[int]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read schema_migrations: %w", err)
	}
	out := map[int]bool{}
	for _, v := range versions {
		out[int(v)] = true
	}
	return out, nil
}

// migrateTo applies the migrations not yet recorded, up to version last, and
// returns their names; the caller holds the lock.
func migrateTo(ctx context.Context, conn driver.Conn, cluster string, last int) ([]string, error) {
	all, err := migrations.All()
	if err != nil {
		return nil, err
	}
	bookkeeping, err := migrations.ForClusterOrNot(`CREATE TABLE IF NOT EXISTS schema_migrations
		(version UInt32, name String, applied_at DateTime64(3, 'UTC'))
		ENGINE = ReplacingMergeTree ORDER BY version`, cluster)
	if err != nil {
		return nil, err
	}
	if err := conn.Exec(ctx, bookkeeping); err != nil {
		return nil, fmt.Errorf("clickhouse: schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, m := range all {
		if applied[m.Version] || m.Version > last {
			continue
		}
		stmts, err := Statements(m, cluster)
		if err != nil {
			return done, err
		}
		for i, stmt := range stmts {
			if err := conn.Exec(ctx, stmt); err != nil {
				return done, fmt.Errorf("clickhouse: migration %s statement %d: %w", m.Name, i+1, err)
			}
		}
		if err := conn.Exec(ctx, "INSERT INTO schema_migrations VALUES (?, ?, now64(3))", uint32(m.Version), m.Name); err != nil {
			return done, err
		}
		done = append(done, m.Name)
	}
	return done, nil
}

// lock takes the database's migration lock and returns its release.
//
// ClickHouse has no advisory locks; CREATE TABLE without IF NOT EXISTS is
// atomic on one server, so the lock is a table: whoever creates
// schema_migration_lock holds it, the others wait until it is dropped. A
// lock older than StaleLock (its holder died) is dropped and taken over.
// On a cluster, point every migrator at the same node.
func lock(ctx context.Context, conn driver.Conn) (unlock func(), err error) {
	for {
		err := conn.Exec(ctx, "CREATE TABLE schema_migration_lock (taken DateTime) ENGINE = Memory")
		if err == nil {
			return func() {
				// The release outlives a cancelled ctx: a lock left behind
				// stalls the next migrator for StaleLock.
				drop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				conn.Exec(drop, "DROP TABLE IF EXISTS schema_migration_lock SYNC")
			}, nil
		}
		var ex *proto.Exception
		if !errors.As(err, &ex) || ex.Code != 57 { // TABLE_ALREADY_EXISTS: held
			return nil, fmt.Errorf("clickhouse: take the migration lock: %w", err)
		}
		var age uint64
		if err := conn.QueryRow(ctx, `SELECT toUInt64(greatest(0, dateDiff('second', metadata_modification_time, now())))
			FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migration_lock'`).Scan(&age); err == nil && time.Duration(age)*time.Second > StaleLock {
			conn.Exec(ctx, "DROP TABLE IF EXISTS schema_migration_lock SYNC")
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("clickhouse: waiting for the migration lock (held by another migrator): %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
