// Package testenv starts the real components tests run against: a kfake
// Kafka cluster, a ClickHouse server process and an Ethereum dev chain, each
// stopped by t.Cleanup.
package testenv

import (
	"context"
	"sync"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
)

// Kafka starts an in-process kfake cluster on a free loopback port and
// returns its seed brokers.
func Kafka(t testing.TB, opts ...kfake.Opt) []string {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// ClickHouse starts a ClickHouse server in a child process. The calling test
// binary's TestMain must call chserver.ServeIfChild.
func ClickHouse(t testing.TB) *chserver.Server {
	t.Helper()
	dir := t.TempDir()
	s, err := chserver.Start(context.Background(), chserver.Options{Path: dir, Restart: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	// A failed test sees the end of the server's output (chDB logs nothing
	// while it runs: what is there is a crash's report, or the chserver
	// wrapper's error), before its directory is removed: a server that died
	// mid-test ("shutting down due to a fatal error") says why only there.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if tail := s.LogTail(40); tail != "" {
			t.Logf("the ClickHouse server's output, its last lines (%s):\n%s", dir, tail)
		}
	})
	return s
}

// ClickHouseConn starts a server and returns a migrated connection to a
// fresh database.
func ClickHouseConn(t testing.TB) (driver.Conn, clickhouse.Config) {
	t.Helper()
	s := ClickHouse(t)
	cfg := clickhouse.Config{Addr: s.TCPAddr, Database: "fieldmint", Username: "default"}
	conn, err := clickhouse.OpenMigrated(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, cfg
}

// Go runs a service until the returned stop is called or the test ends; an
// error it returns, other than after stop, fails the test.
func Go(t testing.TB, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := run(ctx); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}
