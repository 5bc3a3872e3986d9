package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestBrokerStopUnderLoad stops the broker (a durable kfake, closed and
// started again on the same port and data directory) while 8 clients post
// batches as fast as ingest answers. Every reading answered 2xx must be in
// the raw topic afterwards; every request not answered 2xx must have been
// told to retry: 503 or 429 with Retry-After, nothing else.
func TestBrokerStopUnderLoad(t *testing.T) {
	dir := t.TempDir()
	_, portStr, _ := net.SplitHostPort(freeport.Addr())
	port, _ := strconv.Atoi(portStr)
	startBroker := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SyncWrites(), kfake.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var broker atomic.Pointer[kfake.Cluster]
	broker.Store(startBroker())
	t.Cleanup(func() { broker.Load().Close() })

	kc := kafka.Config{Brokers: []string{"127.0.0.1:" + portStr}, TopicPrefix: "stop.", Partitions: 2}
	cfg := testConfig()
	cfg.ProduceTimeout = time.Second
	cfg.DeviceRate, cfg.ClientRate = 0, 0 // limits off: the broker is the bottleneck
	_, srv := startService(t, cfg, kc)
	const clients = 8
	keys := registerWeather(t, srv.URL, "load", clients)

	type answer struct{ ok, retry, other int }
	var mu sync.Mutex
	accepted := map[string]bool{} // device/seq answered 2xx
	var got answer
	var others []string
	phase := atomic.Int32{} // 0 before the stop, 1 stopped, 2 restarted, 3 done
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("load-%d", i)
			seq := uint64(0)
			var batch *pb.ReadingBatch // nil: the last one was accepted
			for phase.Load() < 3 {
				if batch == nil {
					batch = &pb.ReadingBatch{}
					for range cfg.MaxBatch {
						seq++
						s, _ := pb.Sign(&pb.Reading{DeviceId: id, Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
							Measurements: map[string]int64{"temperature_c": int64(seq)}}, keys[i])
						batch.Readings = append(batch.Readings, s)
					}
				}
				body, _ := proto.Marshal(batch)
				resp, err := http.Post(srv.URL+"/v1/readings", "application/x-protobuf", bytes.NewReader(body))
				if err != nil {
					t.Errorf("transport error: %v", err)
					return
				}
				var res BatchResult
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				mu.Lock()
				switch {
				case resp.StatusCode == http.StatusOK && res.Accepted == len(batch.Readings):
					got.ok++
					for _, r := range batch.Readings {
						accepted[fmt.Sprintf("%s/%d", id, r.Reading.Seq)] = true
					}
					batch = nil
				case (resp.StatusCode == 503 || resp.StatusCode == 429) && resp.Header.Get("Retry-After") != "":
					got.retry++ // the same batch goes again, as the SDK does
				default:
					got.other++
					others = append(others, fmt.Sprintf("%d %s %q", resp.StatusCode, res.Code, res.Message))
					batch = nil
				}
				mu.Unlock()
				if resp.StatusCode != http.StatusOK {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	okAfter := func(n int) {
		testenv.Eventually(t, 20*time.Second, 10*time.Millisecond, func() error {
			mu.Lock()
			ok := got.ok
			mu.Unlock()
			if ok < n {
				return fmt.Errorf("only %d requests accepted, waited for %d", ok, n)
			}
			return nil
		})
	}
	okAfter(50)
	broker.Load().Close() // the broker goes away mid-load
	phase.Store(1)
	time.Sleep(2 * time.Second)
	mu.Lock()
	before := got
	mu.Unlock()
	broker.Store(startBroker())
	phase.Store(2)
	okAfter(before.ok + 50)
	phase.Store(3)
	wg.Wait()

	t.Logf("requests: %d accepted, %d told to retry (%d before the restart), %d otherwise", got.ok, got.retry, before.retry, got.other)
	if got.other > 0 {
		t.Fatalf("%d requests answered neither 2xx nor retry-with-Retry-After, e.g. %s", got.other, others[0])
	}
	if before.retry == 0 {
		t.Fatal("no request was told to retry while the broker was down: the stop did not bite")
	}

	// Every reading answered 2xx is in the raw topic.
	seen := rawReadings(t, kc)
	read := 0
	for _, n := range seen {
		read += n
	}
	missing, doubled := 0, 0
	for k := range accepted {
		if seen[k] == 0 {
			missing++
		}
	}
	for _, n := range seen {
		if n > 1 {
			doubled++
		}
	}
	// A batch told to retry may have been stored all the same (Kafka had it
	// when the broker went away); its retry is then a second copy, which the
	// validators decide DUPLICATE (TestRetriedBatchIsDuplicate).
	t.Logf("%d readings accepted, %d records in the raw topic, %d readings written more than once", len(accepted), read, doubled)
	if missing > 0 {
		t.Fatalf("%d readings answered 2xx are not in Kafka", missing)
	}
}

// rawReadings reads the whole raw topic and counts its readings by
// "device/seq".
func rawReadings(t *testing.T, kc kafka.Config) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(append(kc.Opts(), kgo.ConsumeTopics(kc.Topics().Raw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := endOffsets(t, kc, kc.Topics().Raw)
	seen := map[string]int{}
	var read int64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for read < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			read++
			raw := &pb.RawReading{}
			if err := proto.Unmarshal(r.Value, raw); err != nil {
				t.Fatal(err)
			}
			seen[fmt.Sprintf("%s/%d", raw.Signed.Reading.DeviceId, raw.Signed.Reading.Seq)]++
		})
	}
	return seen
}

// registerWeather registers n weather stations prefix-0 .. prefix-(n-1)
// through the ingest at url and returns their keys.
func registerWeather(t *testing.T, url, prefix string, n int) []ed25519.PrivateKey {
	t.Helper()
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		d := &pb.Device{DeviceId: fmt.Sprintf("%s-%d", prefix, i), PublicKey: keys[i].Public().(ed25519.PublicKey),
			Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &pb.Location{LatE7: 1, LonE7: 1}}
		if err := (&client.Client{URL: url}).Register(context.Background(), d, keys[i], attest(d), client.OwnerKey(testKey("owner"))); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
