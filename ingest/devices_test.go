package ingest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// lastRaw returns the newest record of the raw topic's partitions, decoded.
func lastRaw(t *testing.T, f *fixture) *pb.RawReading {
	t.Helper()
	cl, err := kgo.NewClient(append(f.kc.Opts(), kgo.ConsumeTopics(f.kc.Topics().Raw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := endOffsets(t, f.kc, f.kc.Topics().Raw)
	var last *pb.RawReading
	var lastTime int64
	for seen := int64(0); seen < want; {
		fs := cl.PollFetches(context.Background())
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			raw := &pb.RawReading{}
			if err := proto.Unmarshal(r.Value, raw); err != nil {
				t.Fatal(err)
			}
			rd := raw.GetSigned().GetReading()
			if v2 := raw.GetSignedV2(); v2 != nil {
				rd = &pb.Reading{}
				if err := proto.Unmarshal(v2.Reading, rd); err != nil {
					t.Fatal(err)
				}
			}
			if s := rd.GetSeq(); int64(s) >= lastTime {
				last, lastTime = raw, int64(s)
			}
		})
	}
	return last
}

// TestDeviceLifecycle: an owner registers a device, transfers it, the new
// owner deactivates and reactivates it, an admin denylists and re-allows it;
// readings are accepted or refused as each state calls for, accepted ones
// carry the owner of the moment, retries change nothing, and another ingest
// instance reading the compacted topic ends in the same state.
func TestDeviceLifecycle(t *testing.T) {
	f := newFixture(t) // dev-1 registered by f.owner
	ctx := context.Background()
	alice, bob, admin := client.OwnerKey(f.owner), client.OwnerKey(testKey("bob")), client.OwnerKey(f.admin)
	seq := uint64(0)
	send := func() error {
		seq++
		_, err := f.sdk.Send(ctx, []*pb.SignedReadingV2{f.readingV2(seq)})
		return err
	}
	refusedWith := func(err error, code string) bool {
		var e *client.Error
		return errors.As(err, &e) && e.Code == code
	}

	if err := send(); err != nil {
		t.Fatalf("reading of a registered device: %v", err)
	}
	if got := lastRaw(t, f).Owner; got != alice.Address().Hex() {
		t.Fatalf("reading credited to %s, want the owner %s", got, alice.Address().Hex())
	}
	if err := f.sdk.Transfer(ctx, "dev-1", bob.Address(), alice); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	if got := lastRaw(t, f).Owner; got != bob.Address().Hex() {
		t.Fatalf("after the transfer a reading is credited to %s, want %s", got, bob.Address().Hex())
	}
	if err := f.sdk.Deactivate(ctx, "dev-1", alice); !refusedWith(err, CodeNotOwner) {
		t.Fatalf("the former owner deactivating: %v, want %s", err, CodeNotOwner)
	}
	if err := f.sdk.Deactivate(ctx, "dev-1", bob); err != nil {
		t.Fatalf("deactivation by the new owner: %v", err)
	}
	if err := send(); !refusedWith(err, CodeDeviceInactive) {
		t.Fatalf("reading of a deactivated device: %v, want %s", err, CodeDeviceInactive)
	}
	// Bob registers it again, from a new place: active again, moved.
	moved := f.device("dev-1")
	moved.Location = &pb.Location{LatE7: 414_000_000, LonE7: 21_700_000}
	if err := f.sdk.Register(ctx, moved, f.key, attest(moved), bob); err != nil {
		t.Fatalf("reactivation: %v", err)
	}
	if err := send(); err != nil {
		t.Fatalf("reading after reactivation: %v", err)
	}
	movedAt := f.svc.reg.Get("dev-1").MovedAtMs
	// A second move so soon is refused: a device hopping between regions
	// would restart the validators' history of it in each.
	hop := proto.Clone(moved).(*pb.Device)
	hop.Location = &pb.Location{LatE7: 424_000_000, LonE7: 21_700_000}
	if err := f.sdk.Register(ctx, hop, f.key, attest(hop), bob); !refusedWith(err, CodeMovedTooSoon) || movedAt == 0 {
		t.Fatalf("a second move within ingest.minMoveInterval: %v (moved at %d), want %s", err, movedAt, CodeMovedTooSoon)
	}
	if err := f.sdk.Deny(ctx, "dev-1", "cloned readings", admin); err != nil {
		t.Fatalf("denylisting: %v", err)
	}
	if err := send(); !refusedWith(err, CodeDeviceDenylisted) {
		t.Fatalf("reading of a denylisted device: %v, want %s", err, CodeDeviceDenylisted)
	}
	if err := f.sdk.Transfer(ctx, "dev-1", alice.Address(), bob); !refusedWith(err, CodeDeviceDenylisted) {
		t.Fatalf("transfer of a denylisted device: %v, want %s", err, CodeDeviceDenylisted)
	}
	if err := f.sdk.Allow(ctx, "dev-1", admin); err != nil {
		t.Fatalf("re-allowing: %v", err)
	}
	if err := send(); err != nil {
		t.Fatalf("reading after re-allowing: %v", err)
	}

	// A change sent twice (a retry) is answered the same and written once.
	c := &pb.DeviceChange{DeviceId: "dev-1", Kind: pb.ChangeKind_CHANGE_KIND_TRANSFER, NewOwner: alice.Address().Hex()}
	body := change(c, testKey("bob"), f.svc.cfg.Network, f.svc.now().Add(time.Second))
	before := committedRecords(t, f.kc, f.kc.Topics().Devices)
	for i := range 2 {
		if code, e := f.post(t, "/v1/device-changes", "application/x-protobuf", body); code != 200 {
			t.Fatalf("transfer back, attempt %d: %d %+v", i+1, code, e)
		}
	}
	if n := committedRecords(t, f.kc, f.kc.Topics().Devices) - before; n != 1 {
		t.Fatalf("a retried change wrote %d records, want 1", n)
	}

	want := &pb.Device{DeviceId: "dev-1", PublicKey: f.key.Public().(ed25519.PublicKey), Kind: f.kind, Owner: alice.Address().Hex(),
		Location: moved.Location, Active: true, LastChangeMs: c.IssuedAtMs, MakerId: testMaker().ID, MovedAtMs: movedAt}
	want.Attestation = attest(want) // kept from the registration, for auditors
	resp, err := http.Get(f.srv.URL + "/v1/devices/dev-1")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := &pb.Device{}
	if err := protojson.Unmarshal(raw, got); err != nil {
		t.Fatal(err)
	}
	got.RegisteredAtMs = 0
	if !proto.Equal(got, want) {
		t.Fatalf("GET /v1/devices/dev-1 = %v, want %v", got, want)
	}

	other, err := New(testConfig(), f.kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.producer.Close()
	defer other.reg.Close()
	if err := other.reg.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	seen := proto.Clone(other.reg.Get("dev-1")).(*pb.Device)
	seen.RegisteredAtMs = 0
	if !proto.Equal(seen, want) {
		t.Fatalf("another instance sees %v, want %v", seen, want)
	}
}

// TestPartialBatch: a batch mixing good and bad readings stores the good
// ones and names each bad one with its reason.
func TestPartialBatch(t *testing.T) {
	f := newFixture(t)
	_, other, _ := ed25519.GenerateKey(nil)
	forged, _ := pb.Sign(f.reading(2).Reading, other)
	unknown := f.reading(3)
	unknown.Reading.DeviceId = "nobody"
	malformed := f.reading(4)
	malformed.Reading.Seq = 0
	before := endOffsets(t, f.kc, f.kc.Topics().Raw)
	res, err := f.sdk.SendV1(context.Background(), []*pb.SignedReading{f.reading(1), forged, unknown, malformed, f.reading(5)})
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, f, before, res, "", CodeBadSignature, CodeUnknownDevice, CodeMalformed, "")
}

// checkBatch checks a batch's answer reading by reading (want: each
// reading's code, "" for accepted) and that exactly the accepted readings
// were written since the raw topic ended at before.
func checkBatch(t *testing.T, f *fixture, before int64, res *client.Result, want ...string) {
	t.Helper()
	accepted := 0
	for _, code := range want {
		if code == "" {
			accepted++
		}
	}
	if res.Accepted != accepted || res.Rejected != len(want)-accepted || len(res.Results) != len(want) {
		t.Fatalf("result %+v, want %d accepted and %d rejected", res, accepted, len(want)-accepted)
	}
	for i, code := range want {
		r := res.Results[i]
		if (code == "") != (r.Status == "accepted") || r.Code != code || (code != "" && r.Message == "") {
			t.Errorf("reading %d: %+v, want code %q", i, r, code)
		}
	}
	if n := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; n != int64(accepted) {
		t.Fatalf("%d readings written, want the %d accepted", n, accepted)
	}
}

// TestOwnerSignatureInterop: an owner signature made by Foundry's cast (an
// independent implementation of EIP-191 personal_sign) is the one the SDK
// makes, and the registry accepts it.
func TestOwnerSignatureInterop(t *testing.T) {
	f := newFixture(t)
	_, key2, _ := ed25519.GenerateKey(nil)
	d := f.device("dev-2")
	d.PublicKey = key2.Public().(ed25519.PublicKey)
	issued := f.svc.now().UnixMilli()
	text := pb.RegistrationMessage(f.svc.cfg.Network, d, issued)
	castSig := castSign(t, f.owner, text)
	ours, _ := pb.SignText(text, f.owner)
	if string(castSig) != string(ours) {
		t.Fatalf("cast signed %x, the SDK %x", castSig, ours)
	}
	reg, _ := pb.SignRegistration(d, key2)
	reg.IssuedAtMs, reg.OwnerSignature, reg.Attestation = issued, castSig, attest(d)
	js, _ := protojson.Marshal(reg)
	if code, e := f.post(t, "/v1/devices", "application/json", js); code != http.StatusCreated {
		t.Fatalf("registration signed by cast: %d %+v", code, e)
	}
	var out map[string]any
	resp, err := http.Get(f.srv.URL + "/v1/devices/dev-2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&out)
	if out["owner"] != crypto.PubkeyToAddress(f.owner.PublicKey).Hex() {
		t.Fatalf("registered device %v", out)
	}
}

// castSign signs text with Foundry's `cast wallet sign` (personal_sign).
func castSign(t *testing.T, key *ecdsa.PrivateKey, text string) []byte {
	t.Helper()
	out, err := exec.Command(testenv.FoundryBin(t, "cast"), "wallet", "sign", "--private-key", hexutil.Encode(crypto.FromECDSA(key)), text).Output()
	if err != nil {
		t.Fatalf("cast wallet sign failed: %v", err) // not the command line: it holds the key
	}
	sig, err := hexutil.Decode(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("cast printed %q", out)
	}
	return sig
}

// FuzzDeviceHandlers: no registration or device change may crash the
// handlers, every refusal carries a code, and nothing but a well-signed
// request changes the registry.
func FuzzDeviceHandlers(f *testing.F) {
	fx := newFixture(f)
	_, key2, _ := ed25519.GenerateKey(nil)
	d := fx.device("dev-2")
	d.PublicKey = key2.Public().(ed25519.PublicKey)
	now := fx.svc.now()
	f.Add(registration(d, key2, fx.owner, fx.svc.cfg.Network, now), false, false)
	f.Add(change(&pb.DeviceChange{DeviceId: "dev-1", Kind: pb.ChangeKind_CHANGE_KIND_DEACTIVATE}, testKey("stranger"), fx.svc.cfg.Network, now), true, false)
	f.Add([]byte(`{"deviceId":"dev-1","kind":"CHANGE_KIND_DENY","reason":"x","issuedAtMs":"1"}`), true, true)
	f.Add([]byte(`{"device":{"deviceId":"d"}}`), false, true)
	h := fx.svc.Handler()
	before := proto.Clone(fx.svc.reg.Get("dev-1"))
	f.Fuzz(func(t *testing.T, body []byte, isChange, asJSON bool) {
		path, ctype := "/v1/devices", "application/x-protobuf"
		if isChange {
			path = "/v1/device-changes"
		}
		if asJSON {
			ctype = "application/json"
		}
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code/100 == 2 {
			return
		}
		var e Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" {
			t.Fatalf("status %d without a reason code: %q", rec.Code, rec.Body.String())
		}
		if isChange && !proto.Equal(before, fx.svc.reg.Get("dev-1")) {
			t.Fatalf("a refused change (%s) changed dev-1", e.Code)
		}
	})
}

// TestPartialBatchV2: wire format v2 judged reading by reading as v1 is, its
// bytes stored as sent, and a signature of one format never accepted as the
// other's (their domains differ).
func TestPartialBatchV2(t *testing.T) {
	f := newFixture(t)
	_, other, _ := ed25519.GenerateKey(nil)
	sign := func(r *pb.Reading, key ed25519.PrivateKey) *pb.SignedReadingV2 {
		s, err := pb.SignV2(r, key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	reading := func(seq uint64) *pb.Reading {
		return &pb.Reading{DeviceId: "dev-1", Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: f.kind, Measurements: map[string]int64{"temperature_c": 21500}}
	}
	good := f.readingV2(1)
	// Encoded by hand in another field order than Go's (seq before the
	// device id): v2 verifies the bytes as sent, so any valid encoding works.
	var reordered []byte
	reordered = protowire.AppendTag(reordered, 2, protowire.VarintType)
	reordered = protowire.AppendVarint(reordered, 2)
	reordered = protowire.AppendTag(reordered, 3, protowire.VarintType)
	reordered = protowire.AppendVarint(reordered, uint64(time.Now().UnixMilli()))
	reordered = protowire.AppendTag(reordered, 4, protowire.VarintType)
	reordered = protowire.AppendVarint(reordered, uint64(f.kind))
	entry := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "temperature_c")
	entry = protowire.AppendVarint(protowire.AppendTag(entry, 2, protowire.VarintType), protowire.EncodeZigZag(21400))
	reordered = protowire.AppendBytes(protowire.AppendTag(reordered, 5, protowire.BytesType), entry)
	reordered = protowire.AppendString(protowire.AppendTag(reordered, 1, protowire.BytesType), "dev-1")
	handMade := &pb.SignedReadingV2{Reading: reordered, Signature: ed25519.Sign(f.key, pb.SignedBytesV2(reordered))}

	forged := sign(reading(3), other)
	unknownR := reading(4)
	unknownR.DeviceId = "nobody"
	unknown := sign(unknownR, f.key)
	zeroSeq := reading(5)
	zeroSeq.Seq = 0
	malformed := sign(zeroSeq, f.key)
	garbage := &pb.SignedReadingV2{Reading: []byte{0x0a, 0xff}, Signature: make([]byte, 64)}
	wrongKind := reading(6)
	wrongKind.Kind = pb.ResourceKind_RESOURCE_KIND_ENERGY
	mismatch := sign(wrongKind, f.key)
	// A v1 signature of the same reading, carried in v2's shape.
	v1 := f.reading(7)
	body, _ := proto.MarshalOptions{Deterministic: true}.Marshal(v1.Reading)
	crossed := &pb.SignedReadingV2{Reading: body, Signature: v1.Signature}

	before := endOffsets(t, f.kc, f.kc.Topics().Raw)
	res, err := f.sdk.Send(context.Background(), []*pb.SignedReadingV2{good, handMade, forged, unknown, malformed, garbage, mismatch, crossed})
	if err != nil {
		t.Fatal(err)
	}
	checkBatch(t, f, before, res, "", "", CodeBadSignature, CodeUnknownDevice, CodeMalformed, CodeMalformed, CodeKindMismatch, CodeBadSignature)
	raw := lastRaw(t, f)
	if raw.GetSigned() != nil || !bytes.Equal(raw.GetSignedV2().GetReading(), reordered) || !bytes.Equal(raw.GetSignedV2().GetSignature(), handMade.Signature) {
		t.Fatalf("the stored record is not the reading as sent: %v", raw)
	}

	// The other way round: a v2 signature is no v1 signature.
	v2 := f.readingV2(8)
	rd := &pb.Reading{}
	if err := proto.Unmarshal(v2.Reading, rd); err != nil {
		t.Fatal(err)
	}
	_, err = f.sdk.SendV1(context.Background(), []*pb.SignedReading{{Reading: rd, Signature: v2.Signature}})
	var e *client.Error
	if !errors.As(err, &e) || e.Code != CodeBadSignature {
		t.Fatalf("a v2 signature sent as v1: %v", err)
	}
}
