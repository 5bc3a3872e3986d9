package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// BenchmarkIngest posts pre-signed batches of 100 readings (10 devices each)
// from 16 concurrent clients over loopback HTTP; every 200 means the batch
// was verified and acknowledged by the broker (kfake, in this process). One
// op is one batch. It reports readings/s, readings per CPU-second of the
// process (server, broker and clients together) and request latency.
func BenchmarkIngest(b *testing.B) {
	const devices, perBatch, clients = 100, 100, 16
	ctx := context.Background()
	kc := kafka.Config{Brokers: testenv.Kafka(b), TopicPrefix: "b.", Partitions: 4}
	cfg := DefaultConfig()
	cfg.ClientRate, cfg.DeviceRate = 0, 0 // the pipeline's speed, not the limits
	_, srv := startService(b, cfg, kc)
	keys := make([]ed25519.PrivateKey, devices)
	c := client.Client{URL: srv.URL}
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		d := &pb.Device{DeviceId: fmt.Sprintf("bench-%03d", i), PublicKey: keys[i].Public().(ed25519.PublicKey),
			Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &pb.Location{LatE7: 1, LonE7: 1}}
		if err := c.Register(ctx, d, keys[i], client.OwnerKey(testKey("owner"))); err != nil {
			b.Fatal(err)
		}
	}
	bodies := make([][]byte, 64)
	now := time.Now().UnixMilli()
	for j := range bodies {
		var batch pb.ReadingBatch
		for k := range perBatch {
			dev := (j*10 + k%10) % devices
			r := &pb.Reading{DeviceId: fmt.Sprintf("bench-%03d", dev), Seq: uint64(j*perBatch + k + 1), EventTimeMs: now + int64(k),
				Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": int64(20_000 + k), "humidity_pct": 50_000}}
			s, err := pb.Sign(r, keys[dev])
			if err != nil {
				b.Fatal(err)
			}
			batch.Readings = append(batch.Readings, s)
		}
		bodies[j], _ = proto.Marshal(&batch)
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				start := time.Now()
				resp, err := httpc.Post(srv.URL+"/v1/readings", "application/x-protobuf", bytes.NewReader(bodies[i%int64(len(bodies))]))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu := cpuTime() - cpu0
	slices.Sort(latencies)
	if len(latencies) == 0 {
		return
	}
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "readings/s")
	b.ReportMetric(float64(b.N*perBatch)/cpu.Seconds(), "readings/cpu-s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
