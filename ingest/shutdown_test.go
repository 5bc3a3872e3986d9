package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// runIngest runs an ingest as deployed (New, then Run on cfg's ports) until
// stop, or the test's end; ran receives Run's result.
func runIngest(t *testing.T, cfg Config, kc kafka.Config) (stop context.CancelFunc, ran <-chan error) {
	t.Helper()
	svc, err := New(cfg, kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	return stop, done
}

// stopRun stops an ingest started by runIngest and fails the test unless
// Run returns nil within d (while says what was going on).
func stopRun(t *testing.T, stop context.CancelFunc, ran <-chan error, d time.Duration, while string) {
	t.Helper()
	stopped := time.Now()
	stop()
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(d):
		t.Fatalf("Run did not return within %s of its stop %s", d, while)
	}
	t.Logf("Run returned %s after its stop", time.Since(stopped).Round(time.Millisecond))
}

// TestShutdownUnderLoad stops ingest (Run's context cancelled, as SIGTERM
// does) while clients post readings as fast as it answers. Every request is
// answered 2xx and its readings are in Kafka, or answered 503 and retried,
// or refused a connection (ingest had stopped listening); none gets an
// error from a producer closed under it.
func TestShutdownUnderLoad(t *testing.T) {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "down.", Partitions: 2}
	cfg := testConfig()
	cfg.DeviceRate, cfg.ClientRate = 0, 0
	// The registrations go through a first ingest; the one stopped under
	// load is a second, started by Run on a port of its own.
	_, reg := startService(t, cfg, kc)
	const clients = 32
	keys := registerWeather(t, reg.URL, "down", clients)
	cfg.Listen = freeport.Addr()
	stop, ran := runIngest(t, cfg, kc)
	url := "http://" + cfg.Listen + "/v1/readings"
	testenv.Eventually(t, 20*time.Second, 20*time.Millisecond, func() error {
		resp, err := http.Get("http://" + cfg.Listen + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})

	var mu sync.Mutex
	accepted := map[string]bool{}
	counts := map[string]int{}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("down-%d", i)
			for seq := uint64(1); ; seq++ {
				batch := &pb.ReadingBatch{}
				for j := range uint64(cfg.MaxBatch) {
					s, _ := pb.Sign(&pb.Reading{DeviceId: id, Seq: seq*100 + j, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
						Measurements: map[string]int64{"temperature_c": int64(j)}}, keys[i])
					batch.Readings = append(batch.Readings, s)
				}
				body, _ := proto.Marshal(batch)
				resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
				mu.Lock()
				switch {
				case err != nil:
					counts["refused"]++ // ingest stopped listening: the client retries elsewhere
					mu.Unlock()
					return
				case resp.StatusCode == http.StatusOK:
					counts["2xx"]++
					for _, r := range batch.Readings {
						accepted[fmt.Sprintf("%s/%d", id, r.Reading.Seq)] = true
					}
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					counts["503"]++
				default:
					raw, _ := io.ReadAll(resp.Body)
					counts["other"]++
					t.Errorf("answered %d %s during shutdown", resp.StatusCode, raw)
				}
				mu.Unlock()
				resp.Body.Close()
			}
		}()
	}
	testenv.WaitFor(t, 20*time.Second, "a batch accepted before the shutdown", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return counts["2xx"] > 0
	})
	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	wg.Wait()
	t.Logf("answers: %v", counts)
	if counts["2xx"] == 0 || counts["refused"] != clients {
		t.Fatalf("answers %v: want some 2xx, then every client refused a connection", counts)
	}

	// Every reading answered 2xx is in the raw topic.
	seen := rawReadings(t, kc)
	missing := 0
	for k := range accepted {
		if seen[k] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d readings answered 2xx are not in Kafka", missing, len(accepted))
	}
}
