package ingest

import (
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestThousandths: measurements from a codec's numbers are exact in their
// shortest decimal form, rounded half away from zero.
func TestThousandths(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		bits int
		want int64
	}{{0.1, 64, 100}, {21.5, 64, 21500}, {-0.0005, 64, -1}, {0.0005, 64, 1}, {0.0004, 64, 0}, {1.0005, 64, 1001}, {7.2, 32, 7200}, {-36, 64, -36000}, {9.2e15, 64, 9_200_000_000_000_000_000}} {
		if got, err := thousandths(tc.v, tc.bits); err != nil || got != tc.want {
			t.Errorf("thousandths(%v) = %d, %v; want %d", tc.v, got, err, tc.want)
		}
	}
	// An SNR in tenths is rounded once, from the value itself.
	for _, tc := range []struct {
		v    float32
		want int64
	}{{10.5, 105}, {10.4496, 104}, {10.45, 105}, {-7.25, -73}, {-7.2, -72}} {
		if got, err := scaled(float64(tc.v), 32, 10); err != nil || got != tc.want {
			t.Errorf("scaled(%v, 10) = %d, %v; want %d", tc.v, got, err, tc.want)
		}
	}
	for _, v := range []float64{1e17, 0 / zero, 1 / zero} {
		if _, err := thousandths(v, 64); err == nil {
			t.Errorf("thousandths(%v) took it", v)
		}
	}
}

var zero float64

// TestLoRaWANVector holds docs/wire-format.md's LoRaWAN lines: a signed
// uplink's payload is the v2 vector's SignedReadingV2 (the gRPC submit
// request's one reading), and the reading ingest makes of ChirpStack's
// published example for a hotspot is the bytes shown.
func TestLoRaWANVector(t *testing.T) {
	doc, err := os.ReadFile("../docs/wire-format.md")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		for _, line := range strings.Split(string(doc), "\n") {
			if rest, ok := strings.CutPrefix(line, name+" "); ok {
				return strings.TrimSpace(rest)
			}
		}
		t.Fatalf("docs/wire-format.md has no line %q", name)
		return ""
	}
	submit := field("grpc submit request")
	if got := field("lorawan signed payload"); "0a6e"+got != submit {
		t.Errorf("lorawan signed payload is not the v2 vector's SignedReadingV2 (the submit request's reading)")
	}
	f, _ := loraFixture(t)
	jsonEv, _ := chirpStackExample(t)
	it, err := f.svc.uplinkItem(csName, jsonEv)
	if err != nil {
		t.Fatal(err)
	}
	// Assembled by hand, field by field: device_id, seq, event_time_ms,
	// kind, then the measurements in key order (map entries: key, sint64).
	ms := uint64(1658136855775) // the example's time
	var hand []byte
	hand = protowire.AppendBytes(protowire.AppendTag(hand, 1, protowire.BytesType), []byte("eui-"+csEUI))
	hand = protowire.AppendVarint(protowire.AppendTag(hand, 2, protowire.VarintType), ms)
	hand = protowire.AppendVarint(protowire.AppendTag(hand, 3, protowire.VarintType), ms)
	hand = protowire.AppendVarint(protowire.AppendTag(hand, 4, protowire.VarintType), 1)
	for _, m := range []struct {
		k string
		v int64
	}{{"rssi_dbm", -36_000}, {"snr_db", 10_500}} {
		var e []byte
		e = protowire.AppendBytes(protowire.AppendTag(e, 1, protowire.BytesType), []byte(m.k))
		e = protowire.AppendVarint(protowire.AppendTag(e, 2, protowire.VarintType), protowire.EncodeZigZag(m.v))
		hand = protowire.AppendBytes(protowire.AppendTag(hand, 5, protowire.BytesType), e)
	}
	if hex.EncodeToString(hand) != field("lorawan trusted reading") {
		t.Errorf("the document's trusted reading is not the hand-assembled encoding\n%x", hand)
	}
	if got := hex.EncodeToString(it.trusted); got != field("lorawan trusted reading") {
		t.Errorf("ingest makes the published example into\n%s\nthe document says\n%s", got, field("lorawan trusted reading"))
	}
}

// TestNetworkServersConfig: names and tokens are checked at start, a name
// may have two tokens while one replaces the other, and the error never
// shows a token.
func TestNetworkServersConfig(t *testing.T) {
	cfg := testConfig()
	for _, bad := range [][]string{{"cs-eu"}, {"CS=" + csToken}, {"cs=short"}, {"=" + csToken}, {"a-name-over-thirty-two-characters-long=" + csToken}} {
		cfg.NetworkServers = bad
		if err := cfg.Validate(); err == nil || strings.Contains(err.Error(), csToken) {
			t.Errorf("networkServers %q: %v", bad, err)
		}
	}
	ns, err := parseNetworkServers([]string{"cs=old-token-of-16-chars", "cs=new-token-of-16-chars", "other=third-token-16-chars"})
	if err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]string{"old-token-of-16-chars": "cs", "new-token-of-16-chars": "cs", "third-token-16-chars": "other", "unknown-token-16-chars": ""} {
		if got := ns.byToken(token); got != want {
			t.Errorf("token %s is network server %q, want %q", token, got, want)
		}
	}
}

// TestMeasurementsOf: a codec's object becomes measurements: numbers and
// booleans, nested names joined with "_"; strings, lists and nulls are
// skipped; a name over 64 bytes, a number too large, or more than 64
// measurements refuse the uplink.
func TestMeasurementsOf(t *testing.T) {
	ev := func(obj map[string]any) *pb.ChirpStackUplinkEvent {
		s, err := structpb.NewStruct(obj)
		if err != nil {
			t.Fatal(err)
		}
		return &pb.ChirpStackUplinkEvent{Object: s}
	}
	got, err := measurementsOf(ev(map[string]any{"t": 21.5, "on": true, "off": false, "label": "x", "list": []any{1.0}, "none": nil, "a": map[string]any{"b": map[string]any{"c": -0.25}}}))
	want := map[string]int64{"t": 21_500, "on": 1000, "off": 0, "a_b_c": -250}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("measurements %v (%v), want %v", got, err, want)
	}
	many := map[string]any{}
	for i := range 65 {
		many[fmt.Sprint("m", i)] = 1.0
	}
	for name, obj := range map[string]map[string]any{"a long name": {strings.Repeat("x", 65): 1.0}, "too large": {"x": 1e20}, "65 measurements": many} {
		if _, err := measurementsOf(ev(obj)); err == nil {
			t.Errorf("%s: taken", name)
		}
	}
}
