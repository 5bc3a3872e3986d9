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
	l := &brokerLoad{accepted: map[string]bool{}}
	for i := range clients {
		l.wg.Go(func() { l.client(t, srv.URL, fmt.Sprintf("load-%d", i), keys[i], cfg.MaxBatch) })
	}
	l.waitFor(t, "50 batches accepted", func(ok, _ int) bool { return ok >= 50 })
	broker.Load().Close() // the broker goes away mid-load
	_, retried := l.counts()
	// The stop bites: a request is told to retry while the broker is down.
	l.waitFor(t, "a request told to retry with Retry-After while the broker is down", func(_, retry int) bool { return retry > retried })
	okBefore, _ := l.counts()
	broker.Store(startBroker())
	l.waitFor(t, "50 more batches accepted after the broker's restart", func(ok, _ int) bool { return ok >= okBefore+50 })
	l.done.Store(true)
	l.wg.Wait()

	t.Logf("requests: %d accepted, %d told to retry, %d otherwise", l.ok, l.retry, l.other)
	if l.other > 0 {
		t.Fatalf("%d requests answered neither 2xx nor retry-with-Retry-After, e.g. %s", l.other, l.others[0])
	}
	// Every reading answered 2xx is in the raw topic.
	seen := rawReadings(t, kc)
	read, missing, doubled := 0, 0, 0
	for k := range l.accepted {
		if seen[k] == 0 {
			missing++
		}
	}
	for _, n := range seen {
		read += n
		if n > 1 {
			doubled++
		}
	}
	// A batch told to retry may have been stored all the same (Kafka had it
	// when the broker went away); its retry is then a second copy, which the
	// validators decide DUPLICATE (TestRetriedBatchIsDuplicate).
	t.Logf("%d readings accepted, %d records in the raw topic, %d readings written more than once", len(l.accepted), read, doubled)
	if missing > 0 {
		t.Fatalf("%d readings answered 2xx are not in Kafka", missing)
	}
}

// brokerLoad is clients sending batches until done, each batch sent again
// after a 503 or 429 with Retry-After (as the SDK does), and what they were
// answered.
type brokerLoad struct {
	mu               sync.Mutex
	accepted         map[string]bool // device/seq answered 2xx
	ok, retry, other int
	others           []string
	done             atomic.Bool
	wg               sync.WaitGroup
}

func (l *brokerLoad) counts() (ok, retry int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, l.retry
}

// waitFor waits until cond holds of the counts (accepted, retried).
func (l *brokerLoad) waitFor(t *testing.T, what string, cond func(ok, retry int) bool) {
	t.Helper()
	testenv.WaitFor(t, 20*time.Second, what, func() bool { return cond(l.counts()) })
}

// client sends device id's readings, signed with key, in batches of size.
func (l *brokerLoad) client(t *testing.T, url, id string, key ed25519.PrivateKey, size int) {
	seq := uint64(0)
	var batch *pb.ReadingBatch // nil: the last one was accepted
	for !l.done.Load() {
		if batch == nil {
			batch = &pb.ReadingBatch{}
			for range size {
				seq++
				s, _ := pb.Sign(&pb.Reading{DeviceId: id, Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
					Measurements: map[string]int64{"temperature_c": int64(seq)}}, key)
				batch.Readings = append(batch.Readings, s)
			}
		}
		body, _ := proto.Marshal(batch)
		resp, err := http.Post(url+"/v1/readings", "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			t.Errorf("transport error: %v", err)
			return
		}
		var res BatchResult
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		l.mu.Lock()
		switch {
		case resp.StatusCode == http.StatusOK && res.Accepted == len(batch.Readings):
			l.ok++
			for _, r := range batch.Readings {
				l.accepted[fmt.Sprintf("%s/%d", id, r.Reading.Seq)] = true
			}
			batch = nil
		case (resp.StatusCode == 503 || resp.StatusCode == 429) && resp.Header.Get("Retry-After") != "":
			l.retry++ // the same batch goes again
		default:
			l.other++
			l.others = append(l.others, fmt.Sprintf("%d %s %q", resp.StatusCode, res.Code, res.Message))
			batch = nil
		}
		l.mu.Unlock()
		if resp.StatusCode != http.StatusOK {
			time.Sleep(50 * time.Millisecond)
		}
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
			if raw.SignedV2 != nil {
				seen[readingKey(t, raw.SignedV2)]++
				return
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
