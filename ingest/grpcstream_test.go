package ingest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The ends of gRPC streams: ingest stopping under them, and the SDK's
// stream ending with its context.

// TestGRPCShutdown: stopping ingest (SIGTERM) while gateways stream ends
// each stream with SHUTTING_DOWN after the acknowledgements of the batches
// it had begun; Run returns promptly, and every batch acknowledged is in
// Kafka once.
func TestGRPCShutdown(t *testing.T) {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "grdown.", Partitions: 2}
	cfg := testConfig()
	cfg.DeviceRate, cfg.ClientRate = 0, 0
	_, reg := startService(t, cfg, kc) // registrations go through a first ingest
	const gateways, perGateway = 4, 5
	keys := registerWeather(t, reg.URL, "gr", gateways*perGateway)
	cfg.Listen = freeport.Addr()
	stop, ran := runIngest(t, cfg, kc)
	url := "http://" + cfg.Listen
	testenv.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ended := make(chan error, gateways)
	for g := range gateways {
		wg.Go(func() {
			// Each gateway's stream gives up after its first failure, to
			// see how it ended.
			var failed atomic.Bool
			st := client.NewGRPC(client.GRPCOptions{URL: url, OnRetry: func(err error) {
				if !failed.Swap(true) {
					ended <- err
				}
			}}).Stream(ctx, 16)
			defer st.Close(context.Background())
			devs := make([]*client.Device, perGateway)
			for i := range devs {
				devs[i] = client.NewDevice(deviceName("gr", g*perGateway+i), pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[g*perGateway+i])
			}
			for ctx.Err() == nil && !failed.Load() {
				batch := make([]*pb.SignedReadingV2, len(devs))
				for i, d := range devs {
					batch[i], _ = d.Reading(time.Now(), map[string]int64{"temperature_c": 20_000})
				}
				a, err := st.Send(ctx, batch)
				if err != nil {
					return
				}
				go func() {
					if res, err := a.Wait(ctx); err == nil {
						mu.Lock()
						for i, r := range batch {
							if res.Results[i].Status == "accepted" {
								acked[readingKey(t, r)] = true
							}
						}
						mu.Unlock()
					}
				}()
			}
		})
	}
	testenv.WaitFor(t, 20*time.Second, "batches acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) > 200
	})
	stopRun(t, stop, ran, 20*time.Second, "with gRPC streams open")
	shutdowns := 0
	for range gateways {
		select {
		case err := <-ended:
			var e *client.Error
			if errors.As(err, &e) && e.Code == CodeShuttingDown {
				shutdowns++
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a stream did not end")
		}
	}
	if shutdowns == 0 {
		t.Error("no stream ended with SHUTTING_DOWN")
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	seen := rawReadings(t, kc)
	for k := range acked {
		if seen[k] != 1 {
			t.Errorf("reading %s acknowledged, %d times in Kafka", k, seen[k])
		}
	}
}

// TestGRPCStreamEndsWithItsContext: a stream whose context ends while it is
// open and idle (every batch acknowledged, the HTTP/2 transport waiting for
// more of the request) ends: its batches fail with the context's error and
// Close returns. (It once hung in the HTTP/2 client, reading a request body
// nobody closed.)
func TestGRPCStreamEndsWithItsContext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	st := client.NewGRPC(client.GRPCOptions{URL: f.srv.URL}).Stream(ctx, 0)
	a, err := st.Send(ctx, []*pb.SignedReadingV2{f.readingV2(1)})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := a.Wait(ctx); err != nil || res.Accepted != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
	cancel()
	closed := make(chan error, 1)
	go func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer ccancel()
		closed <- st.Close(cctx)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return 10 s after the stream's context ended")
	}
}
