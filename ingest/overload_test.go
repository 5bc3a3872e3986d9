package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestOverloadAnswers429AndWritesNothing holds the broker's produce
// responses (a kfake control hook: a slow broker on demand). One batch fills
// the in-flight limit; the next is refused with 429, OVERLOADED and
// Retry-After before anything of it reaches Kafka, and is admitted once the
// first is acknowledged.
func TestOverloadAnswers429AndWritesNothing(t *testing.T) {
	ctx := context.Background()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	kc := kafka.Config{Brokers: cluster.ListenAddrs(), TopicPrefix: "o.", Partitions: 2}
	cfg := DefaultConfig()
	cfg.MaxBatch, cfg.MaxInFlight = 100, 150
	svc, srv := startService(t, cfg, kc)
	_, key, _ := ed25519.GenerateKey(nil)
	d := &pb.Device{DeviceId: "d", PublicKey: key.Public().(ed25519.PublicKey), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &pb.Location{LatE7: 1, LonE7: 1}}
	if err := (&client.Client{URL: srv.URL}).Register(ctx, d, key, attest(d), client.OwnerKey(testKey("owner"))); err != nil {
		t.Fatal(err)
	}
	body := func(first uint64) []byte {
		var b pb.ReadingBatch
		for i := range uint64(100) {
			s, _ := pb.Sign(&pb.Reading{DeviceId: "d", Seq: first + i, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
				Measurements: map[string]int64{"temperature_c": 20_000}}, key)
			b.Readings = append(b.Readings, s)
		}
		raw, _ := proto.Marshal(&b)
		return raw
	}
	post := func(raw []byte) (*http.Response, Error) {
		resp, err := http.Post(srv.URL+"/v1/readings", "application/x-protobuf", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp, e
	}

	release := make(chan struct{})
	cluster.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		cluster.SleepControl(func() { <-release })
		return nil, nil, false // then the broker handles it as usual
	})
	first := make(chan int, 1)
	go func() { resp, _ := post(body(1)); first <- resp.StatusCode }()
	testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if !svc.inflight.TryAcquire(51) { // 100 of 150 taken: the first batch waits for the broker
			return nil
		}
		svc.inflight.Release(51)
		return errors.New("the first batch never reached the broker")
	})
	resp, e := post(body(101))
	if resp.StatusCode != http.StatusTooManyRequests || e.Code != CodeOverloaded || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second batch: %d %+v Retry-After %q; want 429 OVERLOADED with Retry-After", resp.StatusCode, e, resp.Header.Get("Retry-After"))
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Fatalf("first batch: %d", code)
	}
	if n := rawRecords(t, kc); n != 100 {
		t.Fatalf("%d readings in Kafka, want the first batch's 100 and nothing of the refused one", n)
	}
	if resp, e := post(body(101)); resp.StatusCode != http.StatusOK {
		t.Fatalf("the refused batch, retried once there is room: %d %+v", resp.StatusCode, e)
	}
	if n := rawRecords(t, kc); n != 200 {
		t.Fatalf("%d readings in Kafka after the retry, want 200", n)
	}
}

// rawRecords counts the records in the raw readings topic.
func rawRecords(t *testing.T, kc kafka.Config) int64 {
	cl, err := kgo.NewClient(kc.Opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), kc.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}
