package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldmint/fieldmint/ingest/client"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

const (
	csName  = "cs-eu"
	csToken = "a-network-server-token-for-tests"
	csEUI   = "0101010101010101" // the device of ChirpStack's published example
)

// chirpStackExample is ChirpStack's published uplink example
// (testdata/chirpstack/uplink.json) as protobuf, encoded by ChirpStack's
// own JavaScript API (testdata/chirpstack/uplink.pb, made by encode.js).
func chirpStackExample(t testing.TB) (jsonEv, pbEv *pb.ChirpStackUplinkEvent) {
	t.Helper()
	js, err := os.ReadFile("testdata/chirpstack/uplink.json")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile("testdata/chirpstack/uplink.pb")
	if err != nil {
		t.Fatal(err)
	}
	jsonEv, pbEv = &pb.ChirpStackUplinkEvent{}, &pb.ChirpStackUplinkEvent{}
	if err := discardUnknownJSON(js, jsonEv); err != nil {
		t.Fatalf("the published JSON example: %v", err)
	}
	if err := proto.Unmarshal(bin, pbEv); err != nil {
		t.Fatalf("the example as ChirpStack's JavaScript encodes it: %v", err)
	}
	return jsonEv, pbEv
}

// TestChirpStackProtobufExample holds fieldmint's declaration of
// ChirpStack's UplinkEvent (schemas/proto/fieldmint/v1/chirpstack.proto) to
// ChirpStack's own: the published example, encoded by
// @chirpstack/chirpstack-api, decodes to what its JSON says, field for
// field; and uplink.pb is what encode.js makes today.
func TestChirpStackProtobufExample(t *testing.T) {
	out, err := exec.Command(nodeBin(t), "testdata/chirpstack/encode.js").Output()
	if err != nil {
		t.Fatalf("node encode.js (ChirpStack's JavaScript API, installed by make deps): %v", err)
	}
	committed, _ := os.ReadFile("testdata/chirpstack/uplink.pb")
	if strings.TrimSpace(string(out)) != hex.EncodeToString(committed) {
		t.Errorf("testdata/chirpstack/uplink.pb is not what encode.js makes: regenerate it with\n  node testdata/chirpstack/encode.js | xxd -r -p > testdata/chirpstack/uplink.pb")
	}
	jsonEv, pbEv := chirpStackExample(t)
	a, _ := protojson.Marshal(jsonEv)
	b, _ := protojson.Marshal(pbEv)
	if !bytes.Equal(a, b) {
		t.Errorf("the example's JSON reads as\n%s\nits protobuf (ChirpStack's encoding) as\n%s", a, b)
	}
	rx := pbEv.GetRxInfo()
	if pbEv.GetDeviceInfo().GetDevEui() != csEUI || pbEv.FPort != 1 || pbEv.Dr != 1 || len(rx) != 1 || rx[0].Rssi != -36 || rx[0].Snr != 10.5 ||
		rx[0].UplinkId != 4217106255 || pbEv.GetTxInfo().GetFrequency() != 867100000 || pbEv.Time.AsTime().UnixNano() != 1658136855775023242 {
		t.Errorf("the protobuf example decodes to %v", pbEv)
	}
}

func nodeBin(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: run `make deps`")
	}
	return node
}

// loraFixture is a fixture with network server csName configured and the
// example's device registered as a hotspot (its measurements are what a
// network hears of a device: rssi_dbm, snr_db).
func loraFixture(t testing.TB) (*fixture, ed25519.PrivateKey) {
	return loraFixtureWith(t, func(*Config) {})
}

// loraFixtureWith is loraFixture with the configuration changed by edit.
func loraFixtureWith(t testing.TB, edit func(*Config)) (*fixture, ed25519.PrivateKey) {
	t.Helper()
	f := newFixtureWith(t, func(c *Config) {
		c.NetworkServers = []string{csName + "=" + csToken, "other=another-token-of-16-chars"}
		edit(c)
	})
	_, key, _ := ed25519.GenerateKey(nil)
	d := &pb.Device{DeviceId: LoRaWANDevicePrefix + csEUI, PublicKey: key.Public().(ed25519.PublicKey), Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT,
		Owner: f.device("x").Owner, Location: f.device("x").Location}
	if err := f.sdk.Register(context.Background(), d, key, attest(d), client.OwnerKey(f.owner)); err != nil {
		t.Fatal(err)
	}
	return f, key
}

// postUplink posts body as ChirpStack's HTTP integration does.
func (f *fixture) postUplink(t *testing.T, token, event, contentType string, body []byte) (int, BatchResult) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/lorawan/chirpstack?event="+event, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res BatchResult
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
		}
	}
	return resp.StatusCode, res
}

// now is the example at the given time (the validators refuse a 2022
// reading as stale; ingest does not look).
func now(ev *pb.ChirpStackUplinkEvent, at time.Time) *pb.ChirpStackUplinkEvent {
	ev = proto.Clone(ev).(*pb.ChirpStackUplinkEvent)
	ev.Time = timestamppb.New(at)
	return ev
}

// TestChirpStackHTTP: ChirpStack's published example, as JSON and as
// protobuf, becomes a reading of device eui-0101010101010101 that its
// network server vouches for, with the uplink's metadata; a codec's object
// becomes the measurements; an uplink on fPort 200 carries the device's
// own signature; every bad event gets its reason and writes nothing.
func TestChirpStackHTTP(t *testing.T) {
	f, key := loraFixture(t)
	jsonEv, pbEv := chirpStackExample(t)
	at := time.Now().Truncate(time.Millisecond)
	asJSON, _ := protojson.Marshal(now(jsonEv, at))
	asPB, _ := proto.Marshal(now(pbEv, at.Add(time.Second))) // keeps ChirpStack's fields that fieldmint does not declare
	coded := now(jsonEv, at.Add(2*time.Second))
	coded.Object, _ = structpb.NewStruct(map[string]any{"rssi_dbm": -100.5, "radio": map[string]any{"snr_db": 0.1}, "label": "ignored", "beacons": true})
	withObject, _ := protojson.Marshal(coded)
	sr, _ := pb.SignV2(&pb.Reading{DeviceId: LoRaWANDevicePrefix + csEUI, Seq: 7, EventTimeMs: at.UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT,
		Measurements: map[string]int64{"rssi_dbm": -80_000}}, key)
	signedEv := now(pbEv, at)
	signedEv.FPort, signedEv.Data = SignedFPort, marshal(sr)
	forgedEv := proto.Clone(signedEv).(*pb.ChirpStackUplinkEvent)
	forgedEv.Data = marshal(&pb.SignedReadingV2{Reading: sr.Reading, Signature: make([]byte, 64)})
	foreignEv := proto.Clone(signedEv).(*pb.ChirpStackUplinkEvent)
	foreignEv.Data = marshal(f.readingV2(99)) // dev-1's reading, through this device's uplink
	unknown := now(jsonEv, at)
	unknown.DeviceInfo.DevEui = "0202020202020202"
	unknownJSON, _ := protojson.Marshal(unknown)
	noEUI := now(jsonEv, at)
	noEUI.DeviceInfo.DevEui = "01"
	noEUIJSON, _ := protojson.Marshal(noEUI)

	gateways := []*pb.UplinkGateway{{GatewayId: "0016c001f153a14c", RssiDbm: -36, SnrDb10: 105}}
	cases := []struct {
		name, token, event, ct string
		body                   []byte
		status                 int
		code                   string
		want                   *pb.Reading // the raw record's reading; nil: nothing written
		signed                 bool
	}{
		{"published example, JSON", csToken, "up", "application/json", asJSON, 200, "",
			&pb.Reading{Seq: uint64(at.UnixMilli()), EventTimeMs: at.UnixMilli(), Measurements: map[string]int64{"rssi_dbm": -36_000, "snr_db": 10_500}}, false},
		{"published example, protobuf", csToken, "up", "application/octet-stream", asPB, 200, "",
			&pb.Reading{Seq: uint64(at.UnixMilli() + 1000), EventTimeMs: at.UnixMilli() + 1000, Measurements: map[string]int64{"rssi_dbm": -36_000, "snr_db": 10_500}}, false},
		{"a codec's object", csToken, "up", "application/json", withObject, 200, "",
			&pb.Reading{Seq: uint64(at.UnixMilli() + 2000), EventTimeMs: at.UnixMilli() + 2000, Measurements: map[string]int64{"rssi_dbm": -100_500, "radio_snr_db": 100, "beacons": 1000}}, false},
		{"signed on fPort 200", csToken, "up", "application/x-protobuf", marshal(signedEv), 200, "", &pb.Reading{Seq: 7, EventTimeMs: at.UnixMilli(), Measurements: map[string]int64{"rssi_dbm": -80_000}}, true},
		{"forged on fPort 200", csToken, "up", "application/x-protobuf", marshal(forgedEv), 401, CodeBadSignature, nil, false},
		{"another device's reading", csToken, "up", "application/x-protobuf", marshal(foreignEv), 403, CodeForeignReading, nil, false},
		{"unknown DevEUI", csToken, "up", "application/json", unknownJSON, 401, CodeUnknownDevice, nil, false},
		{"DevEUI not 16 hex digits", csToken, "up", "application/json", noEUIJSON, 400, CodeMalformed, nil, false},
		{"not an event", csToken, "up", "application/json", []byte(`{"fPort": "x"}`), 400, CodeMalformed, nil, false},
		{"wrong token", "not-the-token-of-anyone", "up", "application/json", asJSON, 401, CodeBadToken, nil, false},
		{"no token", "", "up", "application/json", asJSON, 401, CodeBadToken, nil, false},
		{"a join event", csToken, "join", "application/json", []byte(`{"devAddr": "00189440"}`), 204, "", nil, false},
	}
	for _, tc := range cases {
		before := endOffsets(t, f.kc, f.kc.Topics().Raw)
		status, res := f.postUplink(t, tc.token, tc.event, tc.ct, tc.body)
		if status != tc.status || res.Code != tc.code {
			t.Errorf("%s: %d %s (%s), want %d %s", tc.name, status, res.Code, res.Message, tc.status, tc.code)
		}
		added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before
		if tc.want == nil {
			if added != 0 {
				t.Errorf("%s: %d records written, want none", tc.name, added)
			}
			continue
		}
		if added != 1 {
			t.Fatalf("%s: %d records written, want 1", tc.name, added)
		}
		raw := lastRaw(t, f)
		checkUplinkRecord(t, tc.name, raw, tc.want, tc.signed, gateways)
	}
}

// checkUplinkRecord checks the raw record of an uplink: its reading, its
// metadata, and which of signature or network server vouches for it.
func checkUplinkRecord(t *testing.T, name string, raw *pb.RawReading, want *pb.Reading, signed bool, gateways []*pb.UplinkGateway) {
	t.Helper()
	want.DeviceId, want.Kind = LoRaWANDevicePrefix+csEUI, pb.ResourceKind_RESOURCE_KIND_HOTSPOT
	body := raw.GetTrustedReading()
	if signed {
		body = raw.GetSignedV2().GetReading()
		if raw.TrustedReading != nil {
			t.Errorf("%s: a signed uplink also carries a trusted reading", name)
		}
	} else if raw.SignedV2 != nil || raw.Signed != nil {
		t.Errorf("%s: an unsigned uplink carries a signed reading", name)
	}
	got := &pb.Reading{}
	if err := proto.Unmarshal(body, got); err != nil || !proto.Equal(got, want) {
		t.Errorf("%s: raw record's reading %v (%v), want %v", name, got, err, want)
	}
	up := raw.GetUplink()
	wantUp := &pb.Uplink{NetworkServer: csName, DeduplicationId: "3ac7e3c4-4401-4b8d-9386-a5c902f9202d", DevEui: csEUI, FPort: 1, Dr: 1, FrequencyHz: 867100000, Gateways: gateways}
	if signed {
		wantUp.FPort = SignedFPort
	}
	if !proto.Equal(up, wantUp) {
		t.Errorf("%s: uplink metadata %v, want %v", name, up, wantUp)
	}
}

// TestChirpStackMQTT: ChirpStack's MQTT integration publishes its events to
// ingest's broker at QoS 1, as the network server (user name and token); an
// uplink is acknowledged only once Kafka has its reading. Other events are
// acknowledged and dropped; a topic that names another DevEUI than the
// event, a wrong token, and a device publishing a network server's topic
// are refused.
func TestChirpStackMQTT(t *testing.T) {
	f, _ := loraFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := startMQTTOn(t, f.svc, ln)
	if _, code := dialMQTT(t, dialTCP(t, addr), 5, csName, "not-the-token-of-anyone"); code == 0 {
		t.Error("a network server with a wrong token was let in")
	}
	jsonEv, pbEv := chirpStackExample(t)
	at := time.Now().Truncate(time.Millisecond)
	asJSON, _ := protojson.Marshal(now(jsonEv, at))
	asPB, _ := proto.Marshal(now(pbEv, at.Add(time.Second)))
	topic := "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/" + csEUI + "/event/"
	gateways := []*pb.UplinkGateway{{GatewayId: "0016c001f153a14c", RssiDbm: -36, SnrDb10: 105}}
	c, code := dialMQTT(t, dialTCP(t, addr), 5, csName, csToken)
	if code != 0 {
		t.Fatalf("network server refused: CONNACK 0x%02x", code)
	}
	cases := []struct {
		name, topic string
		payload     []byte
		code        byte
		at          int64 // the stored reading's time; 0: nothing written
	}{
		{"JSON uplink", topic + "up", asJSON, 0, at.UnixMilli()},
		{"protobuf uplink", topic + "up", asPB, 0, at.UnixMilli() + 1000},
		{"a status event", topic + "status", []byte(`{"margin": 10}`), 0, 0},
		{"another DevEUI's topic", "application/a/device/0202020202020202/event/up", asJSON, 0x99, 0},
		{"not ChirpStack's topic", pb.MQTTTopic(LoRaWANDevicePrefix + csEUI), asJSON, 0x87, 0},
	}
	for i, tc := range cases {
		before := endOffsets(t, f.kc, f.kc.Topics().Raw)
		ack, err := c.publish(uint16(i+1), tc.topic, tc.payload, packets.Properties{})
		if err != nil || ack.FixedHeader.Type != packets.Puback || ack.ReasonCode != tc.code {
			t.Errorf("%s: %v, packet %d reason 0x%02x (%s); want a PUBACK with 0x%02x", tc.name, err, ack.FixedHeader.Type, ack.ReasonCode, ack.Properties.ReasonString, tc.code)
		}
		added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before
		if tc.at == 0 {
			if added != 0 {
				t.Errorf("%s: %d records written, want none", tc.name, added)
			}
			continue
		}
		if added != 1 {
			t.Fatalf("%s: %d records written, want 1", tc.name, added)
		}
		checkUplinkRecord(t, tc.name, lastRaw(t, f), &pb.Reading{Seq: uint64(tc.at), EventTimeMs: tc.at, Measurements: map[string]int64{"rssi_dbm": -36_000, "snr_db": 10_500}}, false, gateways)
	}
	// A device may not publish as a network server.
	dev, code := dialMQTT(t, dialTCP(t, addr), 5, "dev-1", f.password(time.Now()))
	if code != 0 {
		t.Fatalf("dev-1 refused: 0x%02x", code)
	}
	if ack, err := dev.publish(1, topic+"up", asJSON, packets.Properties{}); err != nil || ack.ReasonCode != 0x87 {
		t.Errorf("a device publishing a network server's topic: %v, reason 0x%02x; want 0x87", err, ack.ReasonCode)
	}
}
