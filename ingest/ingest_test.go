package ingest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

type fixture struct {
	svc   *Service
	srv   *httptest.Server
	kc    kafka.Config
	key   ed25519.PrivateKey
	kind  pb.ResourceKind
	owner *ecdsa.PrivateKey // owns dev-1
	admin *ecdsa.PrivateKey // the registry's one admin
	sdk   *client.Client
}

// startService creates kc's topics and runs the ingest service with cfg
// behind a test HTTP server, its registry synced; both stop with the test.
func startService(t testing.TB, cfg Config, kc kafka.Config) (*Service, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	if err := kafka.EnsureTopics(ctx, kc); err != nil {
		t.Fatal(err)
	}
	// The test admin is always one, to register the test maker.
	if admin := crypto.PubkeyToAddress(testKey("admin").PublicKey).Hex(); !slices.Contains(cfg.Admins, admin) {
		cfg.Admins = append(cfg.Admins, admin)
	}
	svc, err := New(cfg, kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.producer.Close(); svc.reg.Close(); svc.closeRegistrar() })
	if err := svc.reg.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	follow, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go svc.reg.Run(follow)
	// HTTP/1.1 and h2c, as Run serves: gRPC streams need HTTP/2.
	srv := httptest.NewUnstartedServer(svc.Handler())
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	m := testMaker()
	if err := (&client.Client{URL: srv.URL, Network: cfg.Network}).AddMaker(ctx, m.ID, "test maker", m.Key.Public().(ed25519.PublicKey), client.OwnerKey(testKey("admin"))); err != nil {
		t.Fatal(err)
	}
	return svc, srv
}

// testMaker is the maker the tests' devices are attested by, registered by
// startService.
func testMaker() client.Maker {
	seed := crypto.Keccak256([]byte("fieldmint-ingest-test/maker"))
	return client.Maker{ID: "test-maker", Key: ed25519.NewKeyFromSeed(seed)}
}

// attest is testMaker's attestation of d.
func attest(d *pb.Device) *pb.Attestation { return testMaker().Attest(d.PublicKey, d.Kind) }

func newFixture(t testing.TB) *fixture { return newFixtureWith(t, func(*Config) {}) }

// newFixtureWith is newFixture with the service's configuration changed by edit.
func newFixtureWith(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "t.", Partitions: 2}
	ctx := context.Background()
	cfg := testConfig()
	edit(&cfg)
	svc, srv := startService(t, cfg, kc)
	_, key, _ := ed25519.GenerateKey(nil)
	f := &fixture{svc: svc, srv: srv, kc: kc, key: key, kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		owner: testKey("owner"), admin: testKey("admin"), sdk: &client.Client{URL: srv.URL}}
	d := f.device("dev-1")
	if err := f.sdk.Register(ctx, d, key, attest(d), client.OwnerKey(f.owner)); err != nil {
		t.Fatal(err)
	}
	return f
}

// testKey is a secp256k1 key derived from name.
func testKey(name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("fieldmint-ingest-test/" + name)))
	if err != nil {
		panic(err)
	}
	return k
}

// testConfig is the fixture's service configuration: small limits, and the
// fixture's admin.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.MaxBodyBytes = 64 << 10
	cfg.MaxBatch = 10
	cfg.Admins = []string{crypto.PubkeyToAddress(testKey("admin").PublicKey).Hex()}
	return cfg
}

// device is a device record signed by f.key, owned by f.owner.
func (f *fixture) device(id string) *pb.Device {
	return &pb.Device{DeviceId: id, PublicKey: f.key.Public().(ed25519.PublicKey), Kind: f.kind,
		Owner: crypto.PubkeyToAddress(f.owner.PublicKey).Hex(), Location: &pb.Location{LatE7: 387_223_000, LonE7: -91_393_000}}
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

// readingV2 is reading(seq) in wire format v2.
func (f *fixture) readingV2(seq uint64) *pb.SignedReadingV2 {
	r := &pb.Reading{DeviceId: "dev-1", Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: f.kind, Measurements: map[string]int64{"temperature_c": 21500}}
	s, err := pb.SignV2(r, f.key)
	if err != nil {
		panic(err)
	}
	return s
}

// send makes a request (contentType and encoding "" to leave the header
// out) and decodes its JSON answer, failing the test if it is not JSON.
func (f *fixture) send(t testing.TB, method, path, contentType, encoding string, body []byte) (int, BatchResult) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res BatchResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("%s %s: %d with a body that is not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, res
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

func TestRegistrationIsIdempotentAndFollowedByOthers(t *testing.T) {
	f := newFixture(t)
	d := f.device("dev-1")
	if err := f.sdk.Register(context.Background(), d, f.key, attest(d), client.OwnerKey(f.owner)); err != nil {
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
	d = other.reg.Get("dev-1")
	if d == nil || d.Owner != crypto.PubkeyToAddress(f.owner.PublicKey).Hex() || !d.Active || d.MakerId != testMaker().ID {
		t.Fatalf("second instance sees %v", d)
	}
}

// FuzzReadingsHandler: no input may crash the handler, and every refusal
// carries a code.
// FuzzReadingsHandler feeds arbitrary bodies to POST /v1/readings as
// protobuf, JSON and NDJSON, in wire format v1 or v2, plain or declared gzip or zstd (so the
// decompressors are fuzzed too): no input may crash the handler, and every
// answer but 200 carries a reason code.
func FuzzReadingsHandler(f *testing.F) {
	fx := newFixture(f)
	f.Add([]byte{}, uint8(0))
	one := marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{fx.reading(1)}})
	f.Add(one, uint8(0))
	f.Add(gzipped(one), uint8(3))
	f.Add(zstded(one), uint8(6))
	js, _ := protojson.Marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{fx.reading(2)}})
	f.Add(js, uint8(1))
	line, _ := protojson.Marshal(fx.reading(3))
	f.Add(append(line, '\n'), uint8(2))
	// Wire format v2 (mode 9 and up).
	f.Add(marshal(&pb.ReadingBatchV2{Readings: []*pb.SignedReadingV2{fx.readingV2(4)}}), uint8(9))
	js2, _ := protojson.Marshal(&pb.ReadingBatchV2{Readings: []*pb.SignedReadingV2{fx.readingV2(5)}})
	f.Add(js2, uint8(10))
	h := fx.svc.Handler()
	types := []string{"application/x-protobuf", "application/json", "application/x-ndjson"}
	encodings := []string{"", "gzip", "zstd"}
	paths := []string{"/v1/readings", "/v2/readings"}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		req := httptest.NewRequest("POST", paths[int(mode/9)%2], bytes.NewReader(body))
		req.Header.Set("Content-Type", types[int(mode)%3])
		if enc := encodings[int(mode/3)%3]; enc != "" {
			req.Header.Set("Content-Encoding", enc)
		}
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

// FuzzDeviceIDOf holds the v2 path's partial decode to protobuf's: whenever
// the bytes decode as a Reading with a valid device id, deviceIDOf finds that
// id, and it never finds another.
func FuzzDeviceIDOf(f *testing.F) {
	f.Add(marshal(&pb.Reading{DeviceId: "d1", Seq: 3}))
	f.Add(append(marshal(&pb.Reading{DeviceId: "d1"}), marshal(&pb.Reading{DeviceId: "d2", Seq: 1})...))
	f.Add([]byte{0x0a, 0x02, 'd'})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := deviceIDOf(b)
		var r pb.Reading
		perr := proto.Unmarshal(b, &r)
		if perr == nil && pb.ValidID(r.DeviceId) && (err != nil || id != r.DeviceId) {
			t.Fatalf("protobuf reads device %q, deviceIDOf %q (%v)", r.DeviceId, id, err)
		}
		if err == nil && perr == nil && id != r.DeviceId {
			t.Fatalf("deviceIDOf %q, protobuf %q", id, r.DeviceId)
		}
	})
}

// FuzzReadingFields holds ingest's partial decoding of a signed reading to
// proto.Unmarshal: the same bytes fail or not, and decode to the same
// fields checked, measurements present or not.
func FuzzReadingFields(f *testing.F) {
	f.Add(marshal(&pb.Reading{DeviceId: "d1", Seq: 3, EventTimeMs: 5, Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT, Measurements: map[string]int64{"a": -1, "b": 2},
		Location: &pb.Location{LatE7: -3, LonE7: 4}, Witness: &pb.Witness{BeaconDeviceId: "b1", BeaconSeq: 9}}))
	f.Add(append(marshal(&pb.Reading{DeviceId: "d1", Witness: &pb.Witness{BeaconSeq: 1}}), marshal(&pb.Reading{DeviceId: "d2", Witness: &pb.Witness{BeaconDeviceId: "x"}})...))
	f.Add([]byte{0x2a, 0x03, 0x0a, 0x01, 0xff}) // a measurement named in bad UTF-8
	f.Add([]byte{0x32, 0x02, 0x08})             // a truncated position
	f.Fuzz(func(t *testing.T, b []byte) {
		got, n, err := readingFields(b)
		var want pb.Reading
		perr := proto.Unmarshal(b, &want)
		if (err == nil) != (perr == nil) {
			t.Fatalf("readingFields: %v, proto.Unmarshal: %v", err, perr)
		}
		if err != nil {
			return
		}
		if got.DeviceId != want.DeviceId || got.Seq != want.Seq || got.EventTimeMs != want.EventTimeMs || got.Kind != want.Kind ||
			(n > 0) != (len(want.Measurements) > 0) || (got.Witness == nil) != (want.Witness == nil) ||
			got.Witness.GetBeaconDeviceId() != want.Witness.GetBeaconDeviceId() || got.Witness.GetBeaconSeq() != want.Witness.GetBeaconSeq() {
			t.Fatalf("readingFields %v with %d measurements, proto.Unmarshal %v", got, n, &want)
		}
	})
}
