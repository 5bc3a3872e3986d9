package aggregator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// BenchmarkAggregate measures the aggregator end to end: valid readings read
// from kfake and written to a ClickHouse server (a fresh database each
// round), until the log is exhausted. It reports readings per second and per
// CPU-second, counting this process (consumer, encoding, kfake) and the
// ClickHouse server process.
func BenchmarkAggregate(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	kc := kafka.Config{Brokers: []string{startBroker(b)}, TopicPrefix: "b.", Partitions: 4}
	if err := kafka.EnsureTopics(ctx, kc); err != nil {
		b.Fatal(err)
	}
	prod, err := kgo.NewClient(append(kc.Opts(), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UnixMilli()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		dev := fmt.Sprintf("device-%05d", i%5000)
		v, _ := proto.Marshal(&pb.ValidReading{
			Reading: &pb.Reading{DeviceId: dev, Seq: uint64(i), EventTimeMs: now - int64(n-i), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
				Measurements: map[string]int64{"temperature_c": int64(20_000 + i%100), "humidity_pct": 50_000}, Location: &pb.Location{LatE7: 473_000_000, LonE7: 85_000_000}},
			Owner: "0x00000000000000000000000000000000000000a" + strconv.Itoa(i%10), ReceivedAtMs: now - int64(n-i),
		})
		wg.Add(1)
		prod.Produce(ctx, &kgo.Record{Topic: kc.Topics().Valid, Key: []byte(dev), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	prod.Close()
	srv := testenv.ClickHouse(b)
	cfg := DefaultConfig()
	cfg.FlushInterval = 100 * time.Millisecond
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	var cpu, self time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cc := clickhouse.Config{Addr: srv.TCPAddr, Database: fmt.Sprintf("bench%d", i), Username: "default"}
		conn, err := clickhouse.OpenMigrated(ctx, cc)
		if err != nil {
			b.Fatal(err)
		}
		blocks := clickhouse.NewInserter(cc)
		cfg.Group = fmt.Sprintf("bench%d", i) // a fresh group: the last one may not have settled yet
		svc, err := New(cfg, kc, conn, blocks, log)
		if err != nil {
			b.Fatal(err)
		}
		cpu0, self0 := cpuTime(b, srv.PID())
		b.StartTimer()
		if err := svc.Replay(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu1, self1 := cpuTime(b, srv.PID())
		cpu, self = cpu+cpu1-cpu0, self+self1-self0
		var got uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&got); err != nil || got != n {
			b.Fatalf("%d readings stored, want %d (%v)", got, n, err)
		}
		conn.Close()
		blocks.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "readings/s")
	b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "readings/cpu-s")
	b.ReportMetric(float64(n*b.N)/self.Seconds(), "readings/agg-cpu-s")
}

// cpuTime is the CPU time used so far by this process and the process pid
// together, and by this process alone.
func cpuTime(b *testing.B, pid int) (total, self time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): utime is the
	// 12th and stime the 13th, in clock ticks (100 per second on Linux).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return self + time.Duration(ut+st)*10*time.Millisecond, self
}

// brokerEnv asks a re-executed test binary to be a kfake broker on a port.
const brokerEnv = "FIELDMINT_BENCH_BROKER_ADDR"

// serveBrokerIfChild runs a kfake broker until killed, when the test binary
// was started as one by startBroker.
func serveBrokerIfChild() {
	addr := os.Getenv(brokerEnv)
	if addr == "" {
		return
	}
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(p), kfake.AllowAutoTopicCreation())
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench broker:", err)
		os.Exit(2)
	}
	defer c.Close()
	select {}
}

// startBroker runs a kfake broker in a child process and returns its address.
func startBroker(b *testing.B) string {
	addr := freeport.Addr()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), brokerEnv+"="+addr)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if i == 100 {
			b.Fatalf("bench broker did not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
