package ingest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// registration is d registered with deviceKey's proof of possession and
// ownerKey's signature over the registration text of network, issued at
// issued (d.Owner is left as given).
func registration(d *pb.Device, deviceKey ed25519.PrivateKey, ownerKey *ecdsa.PrivateKey, network string, issued time.Time) []byte {
	reg, err := pb.SignRegistration(d, deviceKey)
	if err != nil {
		panic(err)
	}
	reg.IssuedAtMs = issued.UnixMilli()
	reg.Attestation = attest(d)
	if ownerKey != nil {
		reg.OwnerSignature, _ = pb.SignText(pb.RegistrationMessage(network, d, reg.IssuedAtMs), ownerKey)
	}
	return marshal(reg)
}

// change is c signed by key (nil: unsigned) for network, issued at issued.
func change(c *pb.DeviceChange, key *ecdsa.PrivateKey, network string, issued time.Time) []byte {
	c.IssuedAtMs = issued.UnixMilli()
	if key != nil {
		c.Signature, _ = pb.SignText(pb.ChangeMessage(network, c), key)
	}
	return marshal(c)
}

// endOffsets sums the end offsets of topic's partitions: what was ever
// written to it.
func endOffsets(t testing.TB, kc kafka.Config, topic string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kc.Opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// committedRecords counts the committed data records of topic: registry
// changes are written in transactions, whose markers take offsets too.
func committedRecords(t testing.TB, kc kafka.Config, topic string) int64 {
	t.Helper()
	end := endOffsets(t, kc, topic)
	cl, err := kgo.NewClient(append(kc.Opts(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var n, next int64
	for next < end {
		fs := cl.PollFetches(context.Background())
		fs.EachRecord(func(r *kgo.Record) {
			next = max(next, r.Offset+1)
			if !r.Attrs.IsControl() {
				n++
			}
		})
	}
	return n
}

// badCase is a request ingest must refuse, and how.
type badCase struct {
	name, method, path, ctype, encoding string
	body                                []byte
	status                              int
	code                                string
}

const (
	pbType  = "application/x-protobuf"
	jsType  = "application/json"
	ndType  = "application/x-ndjson"
	rd      = "/v1/readings"
	devs    = "/v1/devices"
	changes = "/v1/device-changes"
)

// badEnv is what the bad requests are made of: the fixture (bodies up to
// 64 KiB, batches up to 10; dev-1 registered), a deactivated device and a
// denylisted one with keys of their own, a stranger, and dev-2's key.
type badEnv struct {
	f                  *fixture
	now                time.Time
	net                string
	stranger           *ecdsa.PrivateKey
	offKey, deniedKey  ed25519.PrivateKey
	otherKey, key2     ed25519.PrivateKey
	denied             *pb.Device
	good               *pb.SignedReading
	ownerAddr, strAddr string
}

func newBadEnv(t *testing.T) *badEnv {
	f := newFixture(t)
	ctx := context.Background()
	e := &badEnv{f: f, now: time.Now(), net: f.svc.cfg.Network, stranger: testKey("stranger"), good: f.reading(1)}
	owner, admin := client.OwnerKey(f.owner), client.OwnerKey(f.admin)
	_, e.offKey, _ = ed25519.GenerateKey(nil)
	_, e.deniedKey, _ = ed25519.GenerateKey(nil)
	_, e.otherKey, _ = ed25519.GenerateKey(nil)
	_, e.key2, _ = ed25519.GenerateKey(nil)
	off := &pb.Device{DeviceId: "dev-off", PublicKey: e.offKey.Public().(ed25519.PublicKey), Kind: f.kind, Location: &pb.Location{LatE7: 1, LonE7: 1}}
	e.denied = &pb.Device{DeviceId: "dev-denied", PublicKey: e.deniedKey.Public().(ed25519.PublicKey), Kind: f.kind, Location: &pb.Location{LatE7: 1, LonE7: 1}}
	for _, step := range []error{
		f.sdk.Register(ctx, off, e.offKey, attest(off), owner), f.sdk.Deactivate(ctx, "dev-off", owner),
		f.sdk.Register(ctx, e.denied, e.deniedKey, attest(e.denied), owner), f.sdk.Deny(ctx, "dev-denied", "cloned readings", admin),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	e.ownerAddr, e.strAddr = crypto.PubkeyToAddress(f.owner.PublicKey).Hex(), crypto.PubkeyToAddress(e.stranger.PublicKey).Hex()
	return e
}

// signedBy is a reading of device id signed by key, changed by fn first.
func (e *badEnv) signedBy(key ed25519.PrivateKey, id string, fn func(*pb.Reading)) *pb.SignedReading {
	r := &pb.Reading{DeviceId: id, Seq: 1, EventTimeMs: e.now.UnixMilli(), Kind: e.f.kind, Measurements: map[string]int64{"temperature_c": 21500}}
	if fn != nil {
		fn(r)
	}
	s, _ := pb.Sign(r, key)
	return s
}

// mutate is dev-1's reading changed by fn, then signed with its key.
func (e *badEnv) mutate(fn func(*pb.Reading)) *pb.SignedReading {
	return e.signedBy(e.f.key, "dev-1", fn)
}

func (e *badEnv) withSig(sig []byte) *pb.SignedReading {
	s := proto.Clone(e.good).(*pb.SignedReading)
	s.Signature = sig
	return s
}

func batch(rs ...*pb.SignedReading) []byte { return marshal(&pb.ReadingBatch{Readings: rs}) }

// dev2 is a new device dev-2 with its own key, owned by f.owner, changed
// by fn; reg2 its registration.
func (e *badEnv) dev2(fn func(*pb.Device)) *pb.Device {
	d := e.f.device("dev-2")
	d.PublicKey = e.key2.Public().(ed25519.PublicKey)
	if fn != nil {
		fn(d)
	}
	return d
}

func (e *badEnv) reg2(fn func(*pb.Device)) []byte {
	return registration(e.dev2(fn), e.key2, e.f.owner, e.net, e.now)
}

func transfer(id, to string) *pb.DeviceChange {
	return &pb.DeviceChange{DeviceId: id, Kind: pb.ChangeKind_CHANGE_KIND_TRANSFER, NewOwner: to}
}

// requestCases are refusals of the request as a whole.
func (e *badEnv) requestCases() []badCase {
	good := e.good
	many := make([]*pb.SignedReading, 11)
	for i := range many {
		many[i] = e.f.reading(uint64(i + 1))
	}
	goodJSON, _ := protojson.Marshal(&pb.ReadingBatch{Readings: []*pb.SignedReading{good}})
	ndjson, _ := protojson.Marshal(good)
	return []badCase{
		{"wrong content type", "POST", rd, "text/plain", "", batch(good), 415, CodeUnsupportedMedia},
		{"no content type", "POST", rd, "", "", batch(good), 415, CodeUnsupportedMedia},
		{"malformed content type", "POST", rd, "application/json; ===", "", goodJSON, 415, CodeUnsupportedMedia},
		{"GET readings", "GET", rd, "", "", nil, 405, CodeMethodNotAllowed},
		{"PUT readings", "PUT", rd, pbType, "", batch(good), 405, CodeMethodNotAllowed},
		{"DELETE a registration", "DELETE", devs, pbType, "", nil, 405, CodeMethodNotAllowed},
		{"unknown content encoding", "POST", rd, pbType, "br", batch(good), 415, CodeUnsupportedEncoding},
		{"gzip header, plain body", "POST", rd, pbType, "gzip", batch(good), 400, CodeMalformed},
		{"truncated zstd", "POST", rd, pbType, "zstd", zstded(batch(good))[:20], 400, CodeMalformed},
		{"gzip bomb", "POST", rd, pbType, "gzip", gzipped(bytes.Repeat([]byte{0}, 1<<20)), 413, CodeTooLarge},
		{"body too large", "POST", rd, pbType, "", bytes.Repeat([]byte{0}, 65<<10), 413, CodeTooLarge},
		{"truncated protobuf", "POST", rd, pbType, "", batch(good)[:20], 400, CodeMalformed},
		{"garbage protobuf", "POST", rd, pbType, "", []byte{0xff, 0xff, 0xff}, 400, CodeMalformed},
		{"protobuf sent as JSON", "POST", rd, jsType, "", batch(good), 400, CodeMalformed},
		{"bad JSON", "POST", rd, jsType, "", []byte(`{"readings": [`), 400, CodeMalformed},
		{"unknown JSON field", "POST", rd, jsType, "", []byte(`{"readings": [], "extra": 1}`), 400, CodeMalformed},
		{"bad base64 signature", "POST", rd, jsType, "", []byte(`{"readings":[{"reading":{"deviceId":"dev-1"},"signature":"!!"}]}`), 400, CodeMalformed},
		{"JSON seq not a number", "POST", rd, jsType, "", []byte(`{"readings":[{"reading":{"deviceId":"dev-1","seq":"one"}}]}`), 400, CodeMalformed},
		{"JSON unknown kind name", "POST", rd, jsType, "", []byte(`{"readings":[{"reading":{"deviceId":"dev-1","kind":"RESOURCE_KIND_NOPE"}}]}`), 400, CodeMalformed},
		{"bad NDJSON line", "POST", rd, ndType, "", append(append(ndjson, '\n'), []byte("{not json\n")...), 400, CodeMalformed},
		{"empty NDJSON", "POST", rd, ndType, "", []byte("\n\n"), 400, CodeEmptyBatch},
		{"NDJSON registration", "POST", devs, ndType, "", []byte("{}\n"), 415, CodeUnsupportedMedia},
		{"empty batch", "POST", rd, pbType, "", batch(), 400, CodeEmptyBatch},
		{"empty JSON batch", "POST", rd, jsType, "", []byte(`{}`), 400, CodeEmptyBatch},
		{"too many readings", "POST", rd, pbType, "", batch(many...), 413, CodeTooLarge},
	}
}

// readingCases are batches whose every reading is refused: the first
// one's reason.
func (e *badEnv) readingCases() []badCase {
	good, mutate, withSig := e.good, e.mutate, e.withSig
	forged := e.signedBy(e.otherKey, "dev-1", nil)
	tampered := proto.Clone(good).(*pb.SignedReading)
	tampered.Reading.Measurements["temperature_c"] = 99000
	return []badCase{
		{"forged signature", "POST", rd, pbType, "", batch(forged), 401, CodeBadSignature},
		{"tampered reading", "POST", rd, pbType, "", batch(tampered), 401, CodeBadSignature},
		{"two forged readings", "POST", rd, pbType, "", batch(forged, tampered), 401, CodeBadSignature},
		{"no signature", "POST", rd, pbType, "", batch(withSig(nil)), 401, CodeBadSignature},
		{"63-byte signature", "POST", rd, pbType, "", batch(withSig(good.Signature[:63])), 401, CodeBadSignature},
		{"unknown device", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.DeviceId = "nobody" })), 401, CodeUnknownDevice},
		{"deactivated device", "POST", rd, pbType, "", batch(e.signedBy(e.offKey, "dev-off", nil)), 403, CodeDeviceInactive},
		{"denylisted device", "POST", rd, pbType, "", batch(e.signedBy(e.deniedKey, "dev-denied", nil)), 403, CodeDeviceDenylisted},
		{"zero seq", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.Seq = 0 })), 400, CodeMalformed},
		{"no event time", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.EventTimeMs = 0 })), 400, CodeMalformed},
		{"negative event time", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.EventTimeMs = -5 })), 400, CodeMalformed},
		{"no measurements", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.Measurements = nil })), 400, CodeMalformed},
		{"unspecified kind", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.Kind = 0 })), 400, CodeMalformed},
		{"unknown kind number", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.Kind = 99 })), 400, CodeMalformed},
		{"kind mismatch", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.Kind = pb.ResourceKind_RESOURCE_KIND_ENERGY })), 400, CodeKindMismatch},
		{"device id with a space", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.DeviceId = "a b" })), 400, CodeMalformed},
		{"device id of 65 characters", "POST", rd, pbType, "", batch(mutate(func(r *pb.Reading) { r.DeviceId = strings.Repeat("d", 65) })), 400, CodeMalformed},
		{"missing reading", "POST", rd, pbType, "", batch(&pb.SignedReading{Signature: good.Signature}), 400, CodeMalformed},
	}
}

// registrationCases are refused registrations.
func (e *badEnv) registrationCases() []badCase {
	f, now, net, stranger, reg2, dev2, key2 := e.f, e.now, e.net, e.stranger, e.reg2, e.dev2, e.key2
	strangerAddr, ownerAddr := e.strAddr, e.ownerAddr
	return []badCase{
		{"registration garbage", "POST", devs, pbType, "", []byte("nope"), 400, CodeMalformed},
		{"registration unknown JSON field", "POST", devs, jsType, "", []byte(`{"device":{},"admin":true}`), 400, CodeMalformed},
		{"registration without device", "POST", devs, pbType, "", marshal(&pb.Registration{IssuedAtMs: now.UnixMilli()}), 400, CodeMalformed},
		{"registration short key", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.PublicKey = d.PublicKey[:31] }), 400, CodeMalformed},
		{"registration no kind", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.Kind = 0 }), 400, CodeMalformed},
		{"registration bad owner", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.Owner = "0x12" }), 400, CodeBadOwner},
		{"registration owner without 0x", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.Owner = d.Owner[2:] }), 400, CodeBadOwner},
		{"registration no location", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.Location = nil }), 400, CodeBadLocation},
		{"registration latitude off the globe", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.Location.LatE7 = 91e7 }), 400, CodeBadLocation},
		{"registration sets active itself", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.Active = true }), 400, CodeMalformed},
		{"registration sets last_change_ms itself", "POST", devs, pbType, "", reg2(func(d *pb.Device) { d.LastChangeMs = 1 }), 400, CodeMalformed},
		{"registration without issued_at", "POST", devs, pbType, "", registration(dev2(nil), key2, f.owner, net, time.UnixMilli(0)), 400, CodeMalformed},
		{"registration from the future", "POST", devs, pbType, "", registration(dev2(nil), key2, f.owner, net, now.Add(time.Hour)), 400, CodeSignatureFuture},
		{"registration expired", "POST", devs, pbType, "", registration(dev2(nil), key2, f.owner, net, now.Add(-time.Hour)), 400, CodeSignatureExpired},
		{"registration by another device key", "POST", devs, pbType, "", registration(dev2(nil), e.otherKey, f.owner, net, now), 401, CodeBadDeviceSignature},
		{"registration without owner signature", "POST", devs, pbType, "", registration(dev2(nil), key2, nil, net, now), 401, CodeBadOwnerSignature},
		{"registration signed by a stranger", "POST", devs, pbType, "", registration(dev2(nil), key2, stranger, net, now), 401, CodeNotOwner},
		{"registration signed for another network", "POST", devs, pbType, "", registration(dev2(nil), key2, f.owner, "othernet", now), 401, CodeNotOwner},
		{"registration of dev-1 to another owner", "POST", devs, pbType, "", func() []byte {
			d := f.device("dev-1")
			d.Owner = strangerAddr
			return registration(d, f.key, stranger, net, now)
		}(), 409, CodeDeviceExists},
		{"registration reusing dev-1's key", "POST", devs, pbType, "", registration(f.device("dev-3"), f.key, f.owner, net, now), 409, CodeKeyInUse},
		{"registration replayed", "POST", devs, pbType, "", registration(f.device("dev-1"), f.key, f.owner, net, now.Add(-time.Minute)), 409, CodeChangeReplayed},
		{"registration of a denylisted device", "POST", devs, pbType, "", func() []byte {
			d := proto.Clone(e.denied).(*pb.Device)
			d.Owner = ownerAddr
			return registration(d, e.deniedKey, f.owner, net, now.Add(time.Second))
		}(), 403, CodeDeviceDenylisted},
	}
}

// changeCases are refused device changes.
func (e *badEnv) changeCases() []badCase {
	f, now, net, stranger := e.f, e.now, e.net, e.stranger
	strangerAddr, ownerAddr := e.strAddr, e.ownerAddr
	deny := &pb.DeviceChange{DeviceId: "dev-1", Kind: pb.ChangeKind_CHANGE_KIND_DENY, Reason: "spoofed location"}
	return []badCase{
		{"change garbage", "POST", changes, pbType, "", []byte{0x0a, 0xff}, 400, CodeMalformed},
		{"change of no kind", "POST", changes, pbType, "", change(&pb.DeviceChange{DeviceId: "dev-1"}, f.owner, net, now), 400, CodeMalformed},
		{"change of a bad device id", "POST", changes, pbType, "", change(&pb.DeviceChange{DeviceId: "", Kind: pb.ChangeKind_CHANGE_KIND_DEACTIVATE}, f.owner, net, now), 400, CodeMalformed},
		{"transfer of an unknown device", "POST", changes, pbType, "", change(transfer("ghost", strangerAddr), f.owner, net, now), 404, CodeUnknownDevice},
		{"transfer to a bad address", "POST", changes, pbType, "", change(transfer("dev-1", "0xnope"), f.owner, net, now), 400, CodeBadOwner},
		{"transfer to the owner", "POST", changes, pbType, "", change(transfer("dev-1", ownerAddr), f.owner, net, now), 400, CodeBadOwner},
		{"transfer signed by a stranger", "POST", changes, pbType, "", change(transfer("dev-1", strangerAddr), stranger, net, now), 403, CodeNotOwner},
		{"transfer with a garbled signature", "POST", changes, pbType, "", func() []byte {
			c := transfer("dev-1", strangerAddr)
			c.IssuedAtMs, c.Signature = now.UnixMilli(), bytes.Repeat([]byte{7}, 65)
			return marshal(c)
		}(), 401, CodeBadOwnerSignature},
		{"transfer from the future", "POST", changes, pbType, "", change(transfer("dev-1", strangerAddr), f.owner, net, now.Add(time.Hour)), 400, CodeSignatureFuture},
		{"transfer replayed", "POST", changes, pbType, "", change(transfer("dev-1", strangerAddr), f.owner, net, now.Add(-time.Minute)), 409, CodeChangeReplayed},
		{"transfer of a deactivated device", "POST", changes, pbType, "", change(transfer("dev-off", strangerAddr), f.owner, net, now.Add(time.Second)), 403, CodeDeviceInactive},
		{"deactivation naming a new owner", "POST", changes, pbType, "", change(&pb.DeviceChange{DeviceId: "dev-1", Kind: pb.ChangeKind_CHANGE_KIND_DEACTIVATE, NewOwner: strangerAddr}, f.owner, net, now), 400, CodeMalformed},
		{"denial by the owner", "POST", changes, pbType, "", change(proto.Clone(deny).(*pb.DeviceChange), f.owner, net, now), 403, CodeNotAdmin},
		{"denial with a two-line reason", "POST", changes, pbType, "", change(&pb.DeviceChange{DeviceId: "dev-1", Kind: pb.ChangeKind_CHANGE_KIND_DENY, Reason: "a\nb"}, f.admin, net, now), 400, CodeMalformed},
		{"denial without a reason", "POST", changes, pbType, "", change(&pb.DeviceChange{DeviceId: "dev-1", Kind: pb.ChangeKind_CHANGE_KIND_DENY}, f.admin, net, now), 400, CodeMalformed},
		{"denial signed for another network", "POST", changes, pbType, "", change(proto.Clone(deny).(*pb.DeviceChange), f.admin, "othernet", now), 403, CodeNotAdmin},
	}
}

// TestBadRequestsChangeNothing sends bad requests of every kind: each gets
// its status and reason code with a message, and none writes anything to
// Kafka (neither a reading nor a registry record) or changes the registry.
func TestBadRequestsChangeNothing(t *testing.T) {
	e := newBadEnv(t)
	f := e.f
	cases := slices.Concat(e.requestCases(), e.readingCases(), e.registrationCases(), e.changeCases())
	if len(cases) < 50 {
		t.Fatalf("%d cases; the table must keep at least 50", len(cases))
	}
	topics := f.kc.Topics()
	rawBefore, devicesBefore := endOffsets(t, f.kc, topics.Raw), endOffsets(t, f.kc, topics.Devices)
	registryBefore := map[string]*pb.Device{}
	for _, id := range []string{"dev-1", "dev-off", "dev-denied"} {
		registryBefore[id] = f.svc.reg.Get(id)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, e := f.send(t, c.method, c.path, c.ctype, c.encoding, c.body)
			if status != c.status || e.Code != c.code {
				t.Fatalf("got %d %q (%s), want %d %q", status, e.Code, e.Message, c.status, c.code)
			}
			if e.Message == "" {
				t.Error("error without a message")
			}
			if e.Accepted != 0 {
				t.Errorf("%d readings accepted", e.Accepted)
			}
		})
	}
	if n := endOffsets(t, f.kc, topics.Raw) - rawBefore; n != 0 {
		t.Errorf("bad requests wrote %d readings to Kafka", n)
	}
	if n := endOffsets(t, f.kc, topics.Devices) - devicesBefore; n != 0 {
		t.Errorf("bad requests wrote %d registry records to Kafka", n)
	}
	for _, id := range []string{"dev-2", "dev-3", "ghost"} {
		if f.svc.reg.Get(id) != nil {
			t.Errorf("refused registration of %s reached the registry", id)
		}
	}
	for id, before := range registryBefore {
		if after := f.svc.reg.Get(id); !proto.Equal(before, after) {
			t.Errorf("%s changed: %v -> %v", id, before, after)
		}
	}
}
