package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/twmb/franz-go/pkg/kfake"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/fieldmintpb/fieldmintpbconnect"
)

// grpcClient is a raw gRPC client of the fixture's service (h2c).
func (f *fixture) grpcClient(opts ...connect.ClientOption) fieldmintpbconnect.IngestServiceClient {
	t := &http.Transport{Protocols: new(http.Protocols)}
	t.Protocols.SetUnencryptedHTTP2(true)
	return fieldmintpbconnect.NewIngestServiceClient(&http.Client{Transport: t}, f.srv.URL, append([]connect.ClientOption{connect.WithGRPC()}, opts...)...)
}

// reasonOf is the ErrorInfo reason of a gRPC error, with its gRPC code.
func reasonOf(err error) (connect.Code, string) {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return connect.CodeUnknown, ""
	}
	for _, d := range ce.Details() {
		if m, _ := d.Value(); m != nil {
			if info, ok := m.(*errdetails.ErrorInfo); ok && info.Domain == ErrorDomain {
				return ce.Code(), info.Reason
			}
		}
	}
	return ce.Code(), ""
}

// TestGRPCSubmit: the unary call judges a batch as POST /v2/readings does,
// and only accepted readings reach Kafka; whole-batch refusals carry
// fieldmint's code in an ErrorInfo.
func TestGRPCSubmit(t *testing.T) {
	f := newFixture(t)
	dev2 := f.registerOther(t, "dev-2")
	ctx := context.Background()
	c := f.grpcClient()
	big := make([]*pb.SignedReadingV2, f.svc.cfg.MaxBatch+1)
	for i := range big {
		big[i] = f.readingV2(uint64(1000 + i))
	}
	for _, tc := range []struct {
		name     string
		readings []*pb.SignedReadingV2
		accepted int
		code     connect.Code // 0: answered
		reason   string       // the error's, or the first rejected reading's
	}{
		{"two good", []*pb.SignedReadingV2{f.readingV2(1), f.readingV2(2)}, 2, 0, ""},
		{"one forged of two", []*pb.SignedReadingV2{f.readingV2(3), f.forged(4)}, 1, 0, CodeBadSignature},
		{"readings of two devices", []*pb.SignedReadingV2{f.readingV2(5), dev2(6)}, 2, 0, ""},
		{"only forged", []*pb.SignedReadingV2{f.forged(7)}, 0, connect.CodeUnauthenticated, CodeBadSignature},
		{"empty", nil, 0, connect.CodeInvalidArgument, CodeEmptyBatch},
		{"too many readings", big, 0, connect.CodeResourceExhausted, CodeTooLarge},
		{"undecodable reading", []*pb.SignedReadingV2{{Reading: []byte{0xff}, Signature: make([]byte, 64)}}, 0, connect.CodeInvalidArgument, CodeMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.rawRecords(t)
			resp, err := c.Submit(ctx, connect.NewRequest(&pb.SubmitRequest{Readings: tc.readings}))
			if added := f.rawRecords(t) - before; added != int64(tc.accepted) {
				t.Errorf("%d records added, want %d", added, tc.accepted)
			}
			if tc.code != 0 {
				code, reason := reasonOf(err)
				if code != tc.code || reason != tc.reason {
					t.Fatalf("got %v (%s %s), want %s %s", err, code, reason, tc.code, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if int(resp.Msg.Accepted) != tc.accepted || len(resp.Msg.Results) != len(tc.readings) {
				t.Fatalf("accepted %d of %d results, want %d", resp.Msg.Accepted, len(resp.Msg.Results), tc.accepted)
			}
			for _, r := range resp.Msg.Results {
				if !r.Accepted && r.Code != tc.reason {
					t.Errorf("rejected %s, want %s", r.Code, tc.reason)
				}
			}
		})
	}
	// The same handler speaks Connect's JSON over HTTP/1.1: a browser or curl.
	body, _ := protojson.Marshal(&pb.SubmitRequest{Readings: []*pb.SignedReadingV2{f.readingV2(20)}})
	resp, err := http.Post(f.srv.URL+fieldmintpbconnect.IngestServiceSubmitProcedure, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out pb.SubmitResponse
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if err := protojson.Unmarshal(buf.Bytes(), &out); resp.StatusCode != 200 || err != nil || out.Accepted != 1 {
		t.Fatalf("Connect JSON: %d %s (%v)", resp.StatusCode, buf.String(), err)
	}
	// And gRPC-Web, as a browser or an Envoy-less proxy sends it.
	web := fieldmintpbconnect.NewIngestServiceClient(http.DefaultClient, f.srv.URL, connect.WithGRPCWeb())
	if resp, err := web.Submit(ctx, connect.NewRequest(&pb.SubmitRequest{Readings: []*pb.SignedReadingV2{f.readingV2(23)}})); err != nil || resp.Msg.Accepted != 1 {
		t.Fatalf("gRPC-Web: %v, %v", resp, err)
	}
	if _, err := web.Submit(ctx, connect.NewRequest(&pb.SubmitRequest{})); func() string { _, r := reasonOf(err); return r }() != CodeEmptyBatch {
		t.Fatalf("gRPC-Web, an empty batch: %v, want %s", err, CodeEmptyBatch)
	}
	// The SDK's client: an *Error with the code and the per-reading results.
	g := client.NewGRPC(client.GRPCOptions{URL: f.srv.URL})
	if res, err := g.Submit(ctx, []*pb.SignedReadingV2{f.readingV2(21)}); err != nil || res.Accepted != 1 {
		t.Fatalf("SDK Submit: %+v, %v", res, err)
	}
	_, err = g.Submit(ctx, []*pb.SignedReadingV2{f.forged(22)})
	var e *client.Error
	if !errors.As(err, &e) || e.Code != CodeBadSignature || e.Status != http.StatusUnauthorized || len(e.Results) != 1 || e.Retryable() {
		t.Fatalf("SDK Submit of a forged reading: %v (%+v)", err, e)
	}
}

// TestGRPCStream: the server advertises its window first, then acknowledges
// each batch in the order sent with the batch's number, after Kafka.
func TestGRPCStream(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.GRPCWindow = 4 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st := f.grpcClient().Stream(ctx)
	st.Send(nil) // the request's headers: the stream opens
	first, err := st.Receive()
	if err != nil || first.Window != 4 {
		t.Fatalf("first message %v, %v: want window 4", first, err)
	}
	before := f.rawRecords(t)
	batches := []*pb.StreamRequest{
		{Batch: 10, Readings: []*pb.SignedReadingV2{f.readingV2(1), f.readingV2(2)}},
		{Batch: 11, Readings: []*pb.SignedReadingV2{f.forged(3)}},
		{Batch: 12},
		{Batch: 13, Readings: []*pb.SignedReadingV2{f.readingV2(4), f.forged(5)}},
	}
	for _, b := range batches {
		if err := st.Send(b); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []struct {
		accepted int
		code     string
	}{{2, ""}, {0, CodeBadSignature}, {0, CodeEmptyBatch}, {1, CodeBadSignature}} {
		ack, err := st.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if ack.Batch != batches[i].Batch {
			t.Fatalf("acknowledgement %d is of batch %d, want %d", i, ack.Batch, batches[i].Batch)
		}
		got, code := int(ack.GetResult().GetAccepted()), ack.GetRefused().GetCode()
		for _, r := range ack.GetResult().GetResults() {
			if code == "" {
				code = r.Code
			}
		}
		if got != want.accepted || code != want.code {
			t.Errorf("batch %d: accepted %d code %q, want %d %q", ack.Batch, got, code, want.accepted, want.code)
		}
	}
	if added := f.rawRecords(t) - before; added != 3 {
		t.Errorf("%d records added, want 3", added)
	}
	st.CloseRequest()
	if _, err := st.Receive(); err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Errorf("after the client closed: %v, want EOF", err)
	}
}

// TestGRPCStreamSDK: the SDK's stream sends many batches, more than the
// window, and gets each one's acknowledgement; Kafka has every reading once.
func TestGRPCStreamSDK(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.GRPCWindow = 3; c.DeviceRate = 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := client.NewGRPC(client.GRPCOptions{URL: f.srv.URL}).Stream(ctx, 8)
	var acks []*client.Ack
	sent := map[string]bool{}
	for i := range 40 {
		r := f.readingV2(uint64(i + 1))
		sent[readingKey(t, r)] = true
		a, err := st.Send(ctx, []*pb.SignedReadingV2{r})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, a)
	}
	forged, _ := st.Send(ctx, []*pb.SignedReadingV2{f.forged(100)})
	// A message larger than maxBodyBytes: connect refuses it and ends the
	// stream; that batch fails for good, and the next goes on a new stream.
	huge := &pb.Reading{DeviceId: "dev-1", Seq: 101, EventTimeMs: time.Now().UnixMilli(), Kind: f.kind, Measurements: map[string]int64{}}
	for i := range 8000 {
		huge.Measurements[fmt.Sprintf("m%05d", i)] = int64(i)
	}
	big, err := pb.SignV2(huge, f.key)
	if err != nil {
		t.Fatal(err)
	}
	tooBig, _ := st.Send(ctx, []*pb.SignedReadingV2{big})
	after := f.readingV2(102)
	sent[readingKey(t, after)] = true
	next, _ := st.Send(ctx, []*pb.SignedReadingV2{after})
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tooBig.Wait(ctx); !errors.As(err, new(*client.Error)) || err.(*client.Error).Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a batch over maxBodyBytes: %v, want a 413 *Error", err)
	}
	if res, err := next.Wait(ctx); err != nil || res.Accepted != 1 {
		t.Fatalf("the batch after the refused one: %+v, %v", res, err)
	}
	for i, a := range acks {
		if res, err := a.Wait(ctx); err != nil || res.Accepted != 1 {
			t.Fatalf("batch %d: %+v, %v", i, res, err)
		}
	}
	var e *client.Error
	if _, err := forged.Wait(ctx); !errors.As(err, &e) || e.Code != CodeBadSignature {
		t.Fatalf("forged batch: %v, want %s", err, CodeBadSignature)
	}
	seen := rawReadings(t, f.kc)
	for k := range sent {
		if seen[k] != 1 {
			t.Errorf("reading %s in Kafka %d times", k, seen[k])
		}
	}
}

// TestGRPCBrokerUnavailable: with Kafka gone, Submit is UNAVAILABLE with
// BROKER_UNAVAILABLE and a RetryInfo, and a stream ends with it.
func TestGRPCBrokerUnavailable(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	kc := kafka.Config{Brokers: broker.ListenAddrs(), TopicPrefix: "gr.", Partitions: 1}
	cfg := testConfig()
	cfg.ProduceTimeout = 500 * time.Millisecond
	_, srv := startService(t, cfg, kc)
	keys := registerWeather(t, srv.URL, "g", 1)
	dev := client.NewDevice("g-0", pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[0])
	broker.Close()
	f := &fixture{srv: srv}
	c := f.grpcClient()
	ctx := context.Background()
	r1, _ := dev.Reading(time.Now(), map[string]int64{"temperature_c": 20_000})
	_, err = c.Submit(ctx, connect.NewRequest(&pb.SubmitRequest{Readings: []*pb.SignedReadingV2{r1}}))
	if code, reason := reasonOf(err); code != connect.CodeUnavailable || reason != CodeBrokerUnavailable {
		t.Fatalf("Submit with Kafka away: %v (%s %s)", err, code, reason)
	}
	var ce *connect.Error
	errors.As(err, &ce)
	retry := false
	for _, d := range ce.Details() {
		if m, _ := d.Value(); m != nil {
			_, retry = m.(*errdetails.RetryInfo)
			if retry {
				break
			}
		}
	}
	if !retry {
		t.Error("no RetryInfo in BROKER_UNAVAILABLE")
	}
	st := c.Stream(ctx)
	st.Send(nil)
	if _, err := st.Receive(); err != nil {
		t.Fatal(err)
	}
	r2, _ := dev.Reading(time.Now(), map[string]int64{"temperature_c": 20_000})
	st.Send(&pb.StreamRequest{Batch: 1, Readings: []*pb.SignedReadingV2{r2}})
	_, err = st.Receive()
	if code, reason := reasonOf(err); code != connect.CodeUnavailable || reason != CodeBrokerUnavailable {
		t.Fatalf("stream with Kafka away: %v (%s %s), want the stream ended UNAVAILABLE %s", err, code, reason, CodeBrokerUnavailable)
	}
}
