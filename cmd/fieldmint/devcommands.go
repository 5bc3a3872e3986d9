//go:build !nodev

// The commands of the dev stack and the simulator, and the embedded servers
// behind them (kfake, chDB, a dev chain). A production build leaves them
// out: go build -tags nodev ./cmd/fieldmint.

package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/devbroker"
	"github.com/fieldmint/fieldmint/roles"
)

func init() {
	serveChild = chserver.ServeIfChild
	roles.EmbeddedClickHouse = devstack.VerifierClickHouse
	var resumeFrom uint64
	var devProtocol, simProtocol string
	protocolFlag := func(fs *flag.FlagSet, p *string, key string) {
		fs.StringVar(p, "protocol", "", "how the simulated devices send: http, mqtt, grpc or mixed (a third of the devices each way); the same as --"+key)
	}
	devCommands["dev"] = configured("run everything on an embedded Kafka, ClickHouse and dev chain, with a simulated fleet", "", devstack.DevDefaults, roleConfig,
		func(fs *flag.FlagSet) {
			fs.Uint64Var(&resumeFrom, "resume-from", 0, "after a revoked or parked epoch: recompute epochs from this one on, building on the active root, then settle as usual (see settler/README.md)")
			protocolFlag(fs, &devProtocol, "dev.protocol")
		},
		func(ctx context.Context, c devstack.Config, _ []string, out io.Writer, log *slog.Logger) error {
			c.Dev.ResumeFrom = resumeFrom
			c.Dev.Protocol = cmp.Or(devProtocol, c.Dev.Protocol)
			return devstack.Run(ctx, c, out, log)
		})
	devCommands["simulate"] = configured("send a labelled fleet of honest and cheating devices to a running stack, then report how much fraud was caught and paid", "", devstack.Defaults, roleConfig,
		func(fs *flag.FlagSet) { protocolFlag(fs, &simProtocol, "simulate.protocol") },
		func(ctx context.Context, c devstack.Config, _ []string, out io.Writer, log *slog.Logger) error {
			c.Simulate.Protocol = cmp.Or(simProtocol, c.Simulate.Protocol)
			return devstack.RunSimulate(ctx, c, out, log)
		})
	devCommands["clickhouse"] = tool("run a ClickHouse server (chDB) in the foreground", runClickHouse)
	devCommands["broker"] = tool("run a Kafka-protocol broker (kfake) persisted in a directory, in the foreground", runBroker)
	devCommands["bench"] = tool("measure a stage under load: bench ingest (readings/s, latency, ingest's CPU and peak RSS)", runBench)
}

// roleConfig finds the roles' configuration in the dev stack's.
func roleConfig(c *devstack.Config) *roles.Config { return &c.Config }

func runClickHouse(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	path := fs.String("path", ".fieldmint/clickhouse", "data directory")
	tcp := fs.Int("tcp-port", 9000, "native protocol port")
	httpPort := fs.Int("http-port", 8123, "HTTP port")
	lib := fs.String("library", chserver.DefaultLibrary(), "path to libchdb.so (env FIELDMINT_CHDB_LIB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := chserver.Start(ctx, chserver.Options{Library: *lib, Path: *path, TCPPort: *tcp, HTTPPort: *httpPort, Restart: true})
	if err != nil {
		return err
	}
	defer s.Stop()
	fmt.Fprintf(out, "clickhouse: native %s, http http://%s, data %s (Ctrl-C stops)\n", s.TCPAddr, s.HTTPAddr, *path)
	select {
	case <-ctx.Done():
	case <-s.Done():
		return errors.New("clickhouse server exited")
	}
	return nil
}

func runBroker(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	dir := fs.String("data-dir", ".fieldmint/kafka", "data directory: topics, records, groups and transactions survive a restart, or a kill")
	port := fs.Int("port", 9092, "port of the first broker (127.0.0.1); the others take the next ports")
	brokers := fs.Int("brokers", 1, "brokers in the cluster; with 2 or more, SIGUSR1 stops broker 0 (its connections cut, its partitions led by the others) and SIGUSR2 starts it again")
	portList := fs.String("ports", "", "comma-separated ports, one broker each (instead of --port and --brokers)")
	sync := fs.Bool("sync-writes", false, "fsync every produced batch (survives a machine crash, not just a process crash)")
	procs := fs.Int("procs", 1, "threads running Go code at once (GOMAXPROCS; 0 leaves Go's default, every core; the environment variable of that name wins)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Getenv("GOMAXPROCS") == "" && *procs > 0 {
		// kfake handles every request of the cluster in one goroutine, in
		// turn; more threads only hand the connections' reads and writes to
		// it and back, each hand-off a futex wake-up and a context switch.
		// One thread: the dev broker's share of `bench pipeline`'s CPU fell
		// from 7.4-8.4% to 5.9-6.5% in seven pairs (docs/performance.md).
		runtime.GOMAXPROCS(*procs)
	}
	ports, err := devbroker.Ports(*portList, *port, *brokers)
	if err != nil {
		return err
	}
	c, err := devbroker.Start(ctx, *dir, ports, *sync)
	if err != nil {
		return fmt.Errorf("broker on ports %v, data %s: %w", ports, *dir, err)
	}
	defer c.Close()
	if c.Aborted > 0 {
		fmt.Fprintf(out, "broker: wrote %d abort markers for transactions left open by a crash\n", c.Aborted)
	}
	fmt.Fprintf(out, "broker: %s, data %s (Ctrl-C stops)\n", strings.Join(c.ListenAddrs(), ","), *dir)
	c.Serve(ctx, out)
	return nil
}
