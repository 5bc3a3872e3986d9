package validators

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

type harness struct {
	kc   kafka.Config
	prod *kgo.Client
	key  ed25519.PrivateKey
}

func newHarness(t *testing.T) *harness {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "v.", Partitions: 3}
	if err := kafka.EnsureTopics(context.Background(), kc); err != nil {
		t.Fatal(err)
	}
	prod, err := kgo.NewClient(kc.Opts()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	_, key, _ := ed25519.GenerateKey(nil)
	return &harness{kc: kc, prod: prod, key: key}
}

func (h *harness) send(t *testing.T, device string, seq uint64, temp int64) *pb.RawReading {
	return h.sendAt(t, device, seq, time.Now().UnixMilli(), temp)
}

// sendAt sends a reading taken at eventMs, received now.
func (h *harness) sendAt(t *testing.T, device string, seq uint64, eventMs, temp int64) *pb.RawReading {
	s, _ := pb.Sign(&pb.Reading{DeviceId: device, Seq: seq, EventTimeMs: eventMs, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": temp}}, h.key)
	r := &pb.RawReading{Signed: s, Owner: "0x1", ReceivedAtMs: time.Now().UnixMilli()}
	h.sendRaw(t, device, r)
	return r
}

func (h *harness) sendRaw(t *testing.T, device string, r *pb.RawReading) {
	v, _ := proto.Marshal(r)
	if err := h.prod.ProduceSync(context.Background(), &kgo.Record{Topic: h.kc.Topics().Raw, Key: []byte(device), Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// run starts a validator and returns a channel of its committed decisions and a stop function.
func (h *harness) run(t *testing.T, id string) (<-chan Decision, func()) {
	cfg := DefaultConfig()
	cfg.InstanceID = id
	svc, err := New(cfg, h.kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan Decision, 1000)
	svc.OnDecision = func(_ *pb.Reading, d Decision) { ch <- d }
	stop := testenv.Go(t, svc.Run)
	return ch, stop
}

func next(t *testing.T, ch <-chan Decision) Decision {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(30 * time.Second):
		t.Fatal("no decision within 30s")
		return Decision{}
	}
}

// count returns the committed data records of a topic, reading every
// partition up to its last stable offset.
func (h *harness) count(t *testing.T, topic string) int {
	t.Helper()
	cl, err := kgo.NewClient(append(h.kc.Opts(), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lso, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	lso.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	n := 0
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: still waiting for partitions %v", topic, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				n++
			}
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return n
}

// TestReplacementRejectsReplayOfWhatTheDeadOneAccepted: an instance
// accepts readings and dies; its replacement, with nothing but the log,
// still tells a retry (DUPLICATE) from a replay, of accepted and rejected
// readings alike, still knows the device's
// sensor has been stuck for 10 readings, and decides every reading once.
func TestReplacementRejectsReplayOfWhatTheDeadOneAccepted(t *testing.T) {
	h := newHarness(t)
	ch, stop := h.run(t, "a")
	start := time.Now().Add(-5 * time.Minute).UnixMilli()
	accepted := h.sendAt(t, "dev-1", 5, start, 21_000)
	if d := next(t, ch); d.Reason != "" {
		t.Fatalf("first reading rejected: %s", d.Reason)
	}
	outOfRange := h.sendAt(t, "dev-1", 6, start+5_000, 99_000)
	if d := next(t, ch); d.Reason != ReasonOutOfRange {
		t.Fatalf("out of range reading: %q", d.Reason)
	}
	for i := range 10 { // ten identical values: the most a weather station may repeat
		h.sendAt(t, "dev-1", uint64(10+i), start+10_000+int64(i)*5_000, 22_000)
		if d := next(t, ch); d.Reason != "" {
			t.Fatalf("identical reading %d rejected: %s %s", i+1, d.Reason, d.Detail)
		}
	}
	stop() // the instance dies; its memory is gone

	ch2, _ := h.run(t, "b")
	h.sendRaw(t, "dev-1", accepted) // the exact reading again
	if d := next(t, ch2); d.Reason != ReasonDuplicate {
		t.Fatalf("replayed accepted reading after restart: %q, want %s", d.Reason, ReasonDuplicate)
	}
	h.sendRaw(t, "dev-1", outOfRange) // a retry of a rejected reading: not decided (nor stored) as a second rejection
	if d := next(t, ch2); d.Reason != ReasonDuplicate {
		t.Fatalf("a rejected reading sent again after restart: %q (%s), want %s", d.Reason, d.Detail, ReasonDuplicate)
	}
	h.send(t, "dev-1", 4, 21_000)
	if d := next(t, ch2); d.Reason != ReasonSequenceReplay {
		t.Fatalf("older sequence after restart: %q", d.Reason)
	}
	h.sendAt(t, "dev-1", 20, start+100_000, 22_000)
	if d := next(t, ch2); d.Reason != ReasonStuckSensor {
		t.Fatalf("an eleventh identical value after restart: %q (%s), want %s", d.Reason, d.Detail, ReasonStuckSensor)
	}
	h.sendAt(t, "dev-1", 21, start+105_000, 22_010)
	if d := next(t, ch2); d.Reason != "" {
		t.Fatalf("a changed value after restart: %q (%s)", d.Reason, d.Detail)
	}
	if v, r := h.count(t, h.kc.Topics().Valid), h.count(t, h.kc.Topics().Rejected); v != 12 || r != 5 {
		t.Fatalf("valid %d rejected %d, want 12 and 5: every reading decided exactly once", v, r)
	}
}

// TestV2BytesKeptForAudit: a raw record in wire format v2 is decoded for the
// checks, and the decision carries the bytes as the device sent them, which
// the device's signature covers, and not the reading re-encoded; a v1
// reading goes on as its canonical encoding, marked so; bytes that do not
// decode are UNDECODABLE.
func TestV2BytesKeptForAudit(t *testing.T) {
	h := newHarness(t)
	svc, err := New(DefaultConfig(), h.kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	s, err := pb.SignV2(&pb.Reading{DeviceId: "d", Seq: 1, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": 20_000}}, h.key)
	if err != nil {
		t.Fatal(err)
	}
	// decide returns what the validator writes, as a RejectedReading (a
	// ValidReading's reading, signature and bytes moved to its fields).
	decide := func(raw *pb.RawReading) (*pb.RejectedReading, Decision) {
		v, _ := proto.Marshal(raw)
		value, topic, d, _ := svc.decide(svc.newChecker(), &kgo.Record{Key: []byte("d"), Value: v, Timestamp: time.Now()})
		out := &pb.RejectedReading{}
		if topic == h.kc.Topics().Valid {
			valid := &pb.ValidReading{}
			if err := proto.Unmarshal(value, valid); err != nil {
				t.Fatal(err)
			}
			out = &pb.RejectedReading{Reading: valid.Reading, Signature: valid.Signature, ReadingBytes: valid.ReadingBytes, Canonical: valid.Canonical}
		} else if err := proto.Unmarshal(value, out); err != nil {
			t.Fatal(err)
		}
		return out, d.d
	}
	out, d := decide(&pb.RawReading{SignedV2: s, Owner: "0x1", ReceivedAtMs: time.Now().UnixMilli()})
	if d.Reason != "" || out.Reading != nil || out.Canonical {
		t.Fatalf("v2 reading decided as %+v: %v (want its bytes alone, not re-encoded)", d, out)
	}
	if !bytes.Equal(out.ReadingBytes, s.Reading) || !bytes.Equal(out.Signature, s.Signature) ||
		pb.VerifyV2(&pb.SignedReadingV2{Reading: out.ReadingBytes, Signature: out.Signature}, h.key.Public().(ed25519.PublicKey)) != nil {
		t.Fatalf("the decision does not carry the signed bytes: %v", out)
	}
	v1, err := pb.Sign(&pb.Reading{DeviceId: "d", Seq: 2, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": 20_100}}, h.key)
	if err != nil {
		t.Fatal(err)
	}
	out, d = decide(&pb.RawReading{Signed: v1, Owner: "0x1", ReceivedAtMs: time.Now().UnixMilli()})
	want, _ := pb.CanonicalBytes(v1.Reading)
	if d.Reason != "" || out.Reading != nil || !out.Canonical || !bytes.Equal(append([]byte(pb.SigningDomain), out.ReadingBytes...), want) ||
		!ed25519.Verify(h.key.Public().(ed25519.PublicKey), want, out.Signature) {
		t.Fatalf("v1 reading decided as %+v: %v (want its canonical bytes, marked canonical)", d, out)
	}
	if _, d := decide(&pb.RawReading{SignedV2: &pb.SignedReadingV2{Reading: []byte{0x0a, 0xff}}}); d.Reason != ReasonUndecodable {
		t.Fatalf("undecodable v2 bytes decided as %+v", d)
	}
}

// TestRebuildReadsTheWindow: a validator taking over a partition reads the
// decided topics from HistoryWindow before their newest record (by ingest's
// time of receipt, which decided records carry), not from their start, and
// what it reads is enough to catch a replay of a recent reading.
func TestRebuildReadsTheWindow(t *testing.T) {
	h := newHarness(t)
	svc, err := New(DefaultConfig(), h.kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	window := svc.HistoryWindow()
	if want := time.Hour + 2*time.Minute + 20*time.Minute + 10*time.Minute; window != want {
		t.Fatalf("history window %s, want maxPast + maxFuture + twice the witness window + 10 min = %s", window, want)
	}
	now := time.Now()
	part := int32(-1) // the key's partition
	produce := func(seq uint64, at time.Time) {
		v, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{DeviceId: "d", Seq: seq, EventTimeMs: at.UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
			Measurements: map[string]int64{"temperature_c": int64(20_000 + seq)}}, Signature: []byte{byte(seq)}, ReceivedAtMs: at.UnixMilli()})
		rec, err := h.prod.ProduceSync(context.Background(), &kgo.Record{Topic: h.kc.Topics().Valid, Key: []byte("d"), Value: v, Timestamp: at}).First()
		if err != nil {
			t.Fatal(err)
		}
		part = rec.Partition
	}
	// 300 readings a day old, then 20 within the window.
	for i := range 300 {
		produce(uint64(i+1), now.Add(-24*time.Hour+time.Duration(i)*time.Second))
	}
	for i := range 20 {
		produce(uint64(1000+i), now.Add(-window/2+time.Duration(i)*time.Second))
	}
	checkers, n, err := svc.rebuild(context.Background(), []int32{part})
	if err != nil {
		t.Fatal(err)
	}
	if n != 20 {
		t.Fatalf("the rebuild read %d valid readings, want the 20 within the window", n)
	}
	// The newest reading, sent again, is known.
	replay := (rd{seq: 1019, sig: byte(1019 & 0xff)}).raw()
	replay.Signed.Reading.DeviceId = "d"
	replay.Signed.Reading.EventTimeMs = now.Add(-window/2 + 19*time.Second).UnixMilli()
	replay.Signed.Reading.Measurements = map[string]int64{"temperature_c": 21_019}
	replay.ReceivedAtMs = now.UnixMilli()
	if d := checkers[part].Check(replay, registered()); d.Reason != ReasonDuplicate && d.Reason != ReasonSequenceReplay {
		t.Fatalf("a replay of the newest reading decided %+v", d)
	}
}

// The defaults validate; a fetch that would not wait, or wait for nothing,
// is refused with the option to fix.
func TestConfigFetch(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Config){func(c *Config) { c.FetchMinBytes = 0 }, func(c *Config) { c.FetchMaxWait = 0 }} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "fetchMinBytes") {
			t.Errorf("%+v: %v, want an error naming the fetch options", c, err)
		}
	}
}
