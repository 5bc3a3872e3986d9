package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	fmpb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/simulate/loadgen"
)

// BenchmarkIngest posts pre-signed batches of 100 readings (10 devices each),
// in wire format v1 and v2,
// from 16 concurrent clients over loopback HTTP; every 200 means the batch
// was verified and acknowledged by the broker (kfake, in this process). One
// op is one batch. It reports readings/s, readings per CPU-second of the
// process (server, broker and clients together) and request latency.
// `fieldmint bench ingest` runs the same load with ingest and the broker in
// processes of their own, and reports ingest's own CPU and memory.
func BenchmarkIngest(b *testing.B) {
	for _, wire := range []string{"v1", "v2"} {
		b.Run(wire, func(b *testing.B) { benchIngest(b, wire == "v1") })
	}
}

func benchIngest(b *testing.B, v1 bool) {
	const perBatch = 100
	ctx := context.Background()
	kc := kafka.Config{Brokers: testenv.Kafka(b), TopicPrefix: fmt.Sprintf("b%v.", v1), Partitions: 4}
	cfg := DefaultConfig()
	cfg.ClientRate, cfg.DeviceRate = 0, 0 // the pipeline's speed, not the limits
	_, srv := startService(b, cfg, kc)
	load, err := loadgen.Prepare(ctx, loadgen.Options{URL: srv.URL, Devices: 100, Batch: perBatch, Clients: 16, Maker: testMaker(), V1: v1})
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	res, err := load.Run(ctx, int64(b.N), nil)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Refused > 0 {
		b.Fatalf("%d requests refused", res.Refused)
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "readings/s")
	b.ReportMetric(float64(b.N*perBatch)/cpu.Seconds(), "readings/cpu-s")
	b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRegister registers devices from 16 concurrent clients through two
// replicas, each change fenced across replicas (see change). One op is one
// registration.
func BenchmarkRegister(b *testing.B) {
	kc := kafka.Config{Brokers: testenv.Kafka(b), TopicPrefix: "b.", Partitions: 2}
	cfg := DefaultConfig()
	cfg.ClientRate, cfg.DeviceRate = 0, 0
	_, a := startService(b, cfg, kc)
	_, c := startService(b, cfg, kc)
	owner := testKey("owner")
	b.ResetTimer()
	start := time.Now()
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		sdk := &client.Client{URL: a.URL}
		if n.Add(1)%2 == 0 {
			sdk.URL = c.URL
		}
		for pb.Next() {
			_, key, _ := ed25519.GenerateKey(nil)
			d := &fmpb.Device{DeviceId: fmt.Sprintf("reg-%d", n.Add(1)), PublicKey: key.Public().(ed25519.PublicKey),
				Kind: fmpb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &fmpb.Location{LatE7: 387_223_000, LonE7: -91_393_000}}
			if err := sdk.Register(context.Background(), d, key, attest(d), client.OwnerKey(owner)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
}

// BenchmarkChirpStackUplink posts ChirpStack uplink events (the published
// example as JSON, each at its own time: a reading its network server
// vouches for) to /v1/lorawan/chirpstack from 16 concurrent clients, as a
// busy network server's HTTP integration would; every 200 means Kafka (kfake,
// in this process) has the reading. One op is one uplink.
func BenchmarkChirpStackUplink(b *testing.B) {
	f, _ := loraFixtureWith(b, func(c *Config) { c.ClientRate, c.DeviceRate = 0, 0 })
	jsonEv, _ := chirpStackExample(b)
	var seq atomic.Int64
	seq.Store(time.Now().UnixMilli())
	cpu0 := cpuTime()
	b.ResetTimer()
	b.SetParallelism(8) // 16 clients on 2 cores
	b.RunParallel(func(p *testing.PB) {
		for p.Next() {
			body, _ := protojson.Marshal(now(jsonEv, time.UnixMilli(seq.Add(1))))
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/lorawan/chirpstack?event=up", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+csToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("uplink answered %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uplinks/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "uplinks/cpu-s")
}
