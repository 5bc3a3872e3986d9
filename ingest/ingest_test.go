package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

const owner = "0x1111111111111111111111111111111111111111"

type fixture struct {
	svc  *Service
	srv  *httptest.Server
	kc   kafka.Config
	key  ed25519.PrivateKey
	kind pb.ResourceKind
}

// startService creates kc's topics and runs the ingest service with cfg
// behind a test HTTP server, its registry synced; both stop with the test.
func startService(t testing.TB, cfg Config, kc kafka.Config) (*Service, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	if err := kafka.EnsureTopics(ctx, kc); err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.producer.Close(); svc.reg.Close() })
	if err := svc.reg.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return svc, srv
}

func newFixture(t testing.TB) *fixture { return newFixtureWith(t, func(*Config) {}) }

// newFixtureWith is newFixture with the service's configuration changed by edit.
func newFixtureWith(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "t.", Partitions: 2}
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 64 << 10
	cfg.MaxBatch = 10
	edit(&cfg)
	svc, srv := startService(t, cfg, kc)
	_, key, _ := ed25519.GenerateKey(nil)
	f := &fixture{svc: svc, srv: srv, kc: kc, key: key, kind: pb.ResourceKind_RESOURCE_KIND_WEATHER}
	c := client.Client{URL: srv.URL}
	if err := c.Register(ctx, f.device("dev-1"), key); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) device(id string) *pb.Device {
	return &pb.Device{DeviceId: id, PublicKey: f.key.Public().(ed25519.PublicKey), Kind: f.kind, Owner: owner, Location: &pb.Location{LatE7: 10, LonE7: 20}}
}

// batch is a protobuf ReadingBatch of f's device's readings with these
// sequence numbers.
func (f *fixture) batch(seqs ...uint64) []byte {
	var b pb.ReadingBatch
	for _, s := range seqs {
		b.Readings = append(b.Readings, f.reading(s))
	}
	return marshal(&b)
}

func (f *fixture) reading(seq uint64) *pb.SignedReading {
	r := &pb.Reading{DeviceId: "dev-1", Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: f.kind, Measurements: map[string]int64{"temperature_c": 21500}}
	s, err := pb.Sign(r, f.key)
	if err != nil {
		panic(err)
	}
	return s
}

func (f *fixture) post(t testing.TB, path, contentType string, body []byte) (int, Error) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+path, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e Error
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

// rawRecords counts what reached the raw readings topic.
func (f *fixture) rawRecords(t testing.TB) int64 {
	t.Helper()
	cl, err := kgo.NewClient(f.kc.Opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), f.kc.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

func marshal(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }

func TestAcceptedReadingsReachKafka(t *testing.T) {
	f := newFixture(t)
	batch := &pb.ReadingBatch{Readings: []*pb.SignedReading{f.reading(1), f.reading(2)}}
	if code, e := f.post(t, "/v1/readings", "application/x-protobuf", marshal(batch)); code != 200 {
		t.Fatalf("protobuf batch: %d %+v", code, e)
	}
	js, _ := protojson.Marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{f.reading(3)}})
	if code, e := f.post(t, "/v1/readings", "application/json; charset=utf-8", js); code != 200 {
		t.Fatalf("JSON batch: %d %+v", code, e)
	}
	if n := f.rawRecords(t); n != 3 {
		t.Fatalf("raw topic has %d records, want 3", n)
	}
}

func TestBadRequestsChangeNothing(t *testing.T) {
	f := newFixture(t)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	good := f.reading(1)
	forged, _ := pb.Sign(proto.Clone(good.Reading).(*pb.Reading), otherKey)
	mutate := func(fn func(*pb.Reading)) *pb.SignedReading {
		r := proto.Clone(good.Reading).(*pb.Reading)
		fn(r)
		s, _ := pb.Sign(r, f.key)
		return s
	}
	batch := func(rs ...*pb.SignedReading) []byte { return marshal(&pb.ReadingBatch{Readings: rs}) }
	tampered := proto.Clone(good).(*pb.SignedReading)
	tampered.Reading.Measurements["temperature_c"] = 99000
	many := make([]*pb.SignedReading, 11)
	for i := range many {
		many[i] = f.reading(uint64(i + 1))
	}
	pbType := "application/x-protobuf"
	cases := []struct {
		name, path, ctype string
		body              []byte
		status            int
		code              string
	}{
		{"wrong content type", "/v1/readings", "text/plain", batch(good), 415, CodeUnsupportedMedia},
		{"no content type", "/v1/readings", "", batch(good), 415, CodeUnsupportedMedia},
		{"truncated protobuf", "/v1/readings", pbType, batch(good)[:20], 400, CodeMalformed},
		{"garbage protobuf", "/v1/readings", pbType, []byte{0xff, 0xff, 0xff}, 400, CodeMalformed},
		{"bad JSON", "/v1/readings", "application/json", []byte(`{"readings": [`), 400, CodeMalformed},
		{"unknown JSON field", "/v1/readings", "application/json", []byte(`{"readings": [], "extra": 1}`), 400, CodeMalformed},
		{"bad base64 signature", "/v1/readings", "application/json", []byte(`{"readings":[{"reading":{"deviceId":"dev-1"},"signature":"!!"}]}`), 400, CodeMalformed},
		{"empty batch", "/v1/readings", pbType, batch(), 400, CodeEmptyBatch},
		{"too many readings", "/v1/readings", pbType, batch(many...), 413, CodeTooLarge},
		{"body too large", "/v1/readings", pbType, bytes.Repeat([]byte{0}, 65<<10), 413, CodeTooLarge},
		{"forged signature", "/v1/readings", pbType, batch(forged), 401, CodeBadSignature},
		{"tampered reading", "/v1/readings", pbType, batch(tampered), 401, CodeBadSignature},
		{"one bad in a good batch", "/v1/readings", pbType, batch(good, forged), 401, CodeBadSignature},
		{"unknown device", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.DeviceId = "nobody" })), 401, CodeUnknownDevice},
		{"zero seq", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.Seq = 0 })), 400, CodeMalformed},
		{"no event time", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.EventTimeMs = 0 })), 400, CodeMalformed},
		{"no measurements", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.Measurements = nil })), 400, CodeMalformed},
		{"unspecified kind", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.Kind = 0 })), 400, CodeMalformed},
		{"unknown kind", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.Kind = 99 })), 400, CodeMalformed},
		{"kind mismatch", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.Kind = pb.ResourceKind_RESOURCE_KIND_ENERGY })), 400, CodeKindMismatch},
		{"bad device id", "/v1/readings", pbType, batch(mutate(func(r *pb.Reading) { r.DeviceId = "a b" })), 400, CodeMalformed},
		{"missing reading", "/v1/readings", pbType, batch(&pb.SignedReading{Signature: good.Signature}), 400, CodeMalformed},
		{"GET readings", "/v1/readings", "", nil, 405, CodeMethodNotAllowed},
	}
	regBody := func(fn func(*pb.Device), key ed25519.PrivateKey) []byte {
		d := f.device("dev-2")
		fn(d)
		reg, _ := pb.SignRegistration(d, key)
		return marshal(reg)
	}
	cases = append(cases, []struct {
		name, path, ctype string
		body              []byte
		status            int
		code              string
	}{
		{"registration by another key", "/v1/devices", pbType, regBody(func(*pb.Device) {}, otherKey), 401, CodeBadSignature},
		{"registration bad owner", "/v1/devices", pbType, regBody(func(d *pb.Device) { d.Owner = "0x12" }, f.key), 400, CodeBadOwner},
		{"registration short key", "/v1/devices", pbType, regBody(func(d *pb.Device) { d.PublicKey = d.PublicKey[:31] }, f.key), 400, CodeMalformed},
		{"registration no kind", "/v1/devices", pbType, regBody(func(d *pb.Device) { d.Kind = 0 }, f.key), 400, CodeMalformed},
		{"registration conflicting owner", "/v1/devices", pbType, func() []byte {
			d := f.device("dev-1")
			d.Owner = "0x2222222222222222222222222222222222222222"
			reg, _ := pb.SignRegistration(d, f.key)
			return marshal(reg)
		}(), 409, CodeDeviceExists},
		{"registration garbage", "/v1/devices", pbType, []byte("nope"), 400, CodeMalformed},
	}...)
	before := f.rawRecords(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var status int
			var e Error
			if c.body == nil {
				resp, err := http.Get(f.srv.URL + c.path)
				if err != nil {
					t.Fatal(err)
				}
				json.NewDecoder(resp.Body).Decode(&e)
				resp.Body.Close()
				status = resp.StatusCode
			} else {
				status, e = f.post(t, c.path, c.ctype, c.body)
			}
			if status != c.status || e.Code != c.code {
				t.Fatalf("got %d %q (%s), want %d %q", status, e.Code, e.Message, c.status, c.code)
			}
			if e.Message == "" {
				t.Error("error without a message")
			}
		})
	}
	if after := f.rawRecords(t); after != before {
		t.Fatalf("bad requests wrote %d records to Kafka", after-before)
	}
	if f.svc.reg.Get("dev-2") != nil {
		t.Fatal("a refused registration reached the registry")
	}
}

func TestRegistrationIsIdempotentAndFollowedByOthers(t *testing.T) {
	f := newFixture(t)
	c := client.Client{URL: f.srv.URL}
	if err := c.Register(context.Background(), f.device("dev-1"), f.key); err != nil {
		t.Fatalf("re-registering the same device: %v", err)
	}
	// Another instance learns the device from the compacted topic.
	other, err := New(DefaultConfig(), f.kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.producer.Close()
	defer other.reg.Close()
	if err := other.reg.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := other.reg.Get("dev-1")
	if d == nil || !strings.EqualFold(d.Owner, owner) || !d.Active {
		t.Fatalf("second instance sees %v", d)
	}
}

// FuzzReadingsHandler: no input may crash the handler, and every refusal
// carries a code.
func FuzzReadingsHandler(f *testing.F) {
	fx := newFixture(f)
	f.Add([]byte{}, false)
	f.Add(marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{fx.reading(1)}}), false)
	js, _ := protojson.Marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{fx.reading(2)}})
	f.Add(js, true)
	h := fx.svc.Handler()
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ctype := "application/x-protobuf"
		if asJSON {
			ctype = "application/json"
		}
		req := httptest.NewRequest("POST", "/v1/readings", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == 200 {
			return
		}
		var e Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" {
			t.Fatalf("status %d without a reason code: %q", rec.Code, rec.Body.String())
		}
	})
}
