package ingest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/twmb/franz-go/pkg/kfake"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// startMQTTOn serves f's ingest over MQTT on ln (plain, or TLS) until the
// test ends.
func startMQTTOn(t testing.TB, svc *Service, ln net.Listener) string {
	t.Helper()
	m, err := svc.startMQTT(ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.close)
	return m.addr().String()
}

func newMQTTFixture(t testing.TB) (*fixture, string) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return f, startMQTTOn(t, f.svc, ln)
}

func v2batch(rs ...*pb.SignedReadingV2) []byte { return marshal(&pb.ReadingBatchV2{Readings: rs}) }

// forged is reading seq of dev-1 signed by another key.
func (f *fixture) forged(seq uint64) *pb.SignedReadingV2 {
	_, other, _ := ed25519.GenerateKey(nil)
	r := &pb.Reading{DeviceId: "dev-1", Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: f.kind, Measurements: map[string]int64{"temperature_c": 21500}}
	s, _ := pb.SignV2(r, other)
	return s
}

// registerOther registers another device with a key of its own, owned by
// f's owner, and returns the maker of its signed readings.
func (f *fixture) registerOther(t testing.TB, id string) func(seq uint64) *pb.SignedReadingV2 {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	d := f.device(id)
	d.PublicKey = key.Public().(ed25519.PublicKey)
	if err := f.sdk.Register(context.Background(), d, key, attest(d), client.OwnerKey(f.owner)); err != nil {
		t.Fatal(err)
	}
	return func(seq uint64) *pb.SignedReadingV2 {
		s, _ := pb.SignV2(&pb.Reading{DeviceId: id, Seq: seq, EventTimeMs: time.Now().UnixMilli(), Kind: f.kind, Measurements: map[string]int64{"temperature_c": 21500}}, key)
		return s
	}
}

// readingKey is "device/seq" of a v2 reading.
func readingKey(t testing.TB, s *pb.SignedReadingV2) string {
	var r pb.Reading
	if err := proto.Unmarshal(s.Reading, &r); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%d", r.DeviceId, r.Seq)
}

func (f *fixture) password(at time.Time) string {
	return pb.MQTTPassword(f.svc.cfg.Network, "dev-1", at, f.key)
}

// TestMQTTSDK: a device sends batches with the SDK's MQTT transport (3.1.1,
// QoS 1); when Send returns, Kafka has every reading of them.
func TestMQTTSDK(t *testing.T) {
	f, addr := newMQTTFixture(t)
	dev := client.NewDevice("dev-1", f.kind, f.key)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := client.DialMQTT(ctx, dev, client.MQTTOptions{Broker: "tcp://" + addr, Network: f.svc.cfg.Network})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := map[string]int{}
	for range 3 {
		var rs []*pb.SignedReadingV2
		for range 4 {
			r, err := dev.Reading(time.Now(), map[string]int64{"temperature_c": 20_000})
			if err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
			want[readingKey(t, r)]++
		}
		if err := m.Send(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	got := rawReadings(t, f.kc)
	for k := range want {
		if got[k] != 1 {
			t.Errorf("reading %s: %d times in the raw topic after its PUBACK, want 1", k, got[k])
		}
	}
}

// connectedDevice is an MQTT fixture with a second device registered, and
// dev-1 connected over protocol version v (4: 3.1.1, 5).
func connectedDevice(t *testing.T, v byte) (*fixture, *rawMQTT, func(uint64) *pb.SignedReadingV2) {
	t.Helper()
	f, addr := newMQTTFixture(t)
	dev2 := f.registerOther(t, "dev-2")
	c, code := dialMQTT(t, dialTCP(t, addr), v, "dev-1", f.password(time.Now()))
	if code != 0 {
		t.Fatalf("version %d: CONNACK reason 0x%02x, want 0", v, code)
	}
	return f, c, dev2
}

// TestMQTT5Publishes: each kind of publish over MQTT 5 gets its PUBACK
// reason code, fieldmint's code in the reason string or user properties,
// and adds to Kafka exactly the readings it accepted.
func TestMQTT5Publishes(t *testing.T) {
	f, c, dev2 := connectedDevice(t, 5)
	jsonBatch, _ := protojson.Marshal(&pb.ReadingBatchV2{Readings: []*pb.SignedReadingV2{f.readingV2(50)}})
	own := pb.MQTTTopic("dev-1")
	cases := []struct {
		name    string
		topic   string
		payload []byte
		props   packets.Properties
		code    byte
		reason  string // the reason string's prefix
		user    []string
		added   int64
	}{
		{"two good readings", own, v2batch(f.readingV2(10), f.readingV2(11)), packets.Properties{}, 0, "", nil, 2},
		{"one forged of two", own, v2batch(f.readingV2(12), f.forged(13)), packets.Properties{}, 0, "", []string{"1 BAD_SIGNATURE"}, 1},
		{"forged only", own, v2batch(f.forged(14)), packets.Properties{}, 0x87, "BAD_SIGNATURE: ", nil, 0},
		{"not protobuf", own, []byte("hello"), packets.Properties{}, 0x99, "MALFORMED: ", nil, 0},
		{"no readings", own, nil, packets.Properties{}, 0x99, "EMPTY_BATCH: ", nil, 0},
		{"another device's reading", own, v2batch(dev2(20)), packets.Properties{}, 0x87, "FOREIGN_READING: ", nil, 0},
		{"another device's topic", pb.MQTTTopic("dev-2"), v2batch(dev2(21)), packets.Properties{}, 0x87, "", nil, 0},
		{"json", own, jsonBatch, packets.Properties{ContentType: "application/json"}, 0, "", nil, 1},
		{"unknown content type", own, jsonBatch, packets.Properties{ContentType: "text/csv"}, 0x99, "UNSUPPORTED_MEDIA_TYPE: ", nil, 0},
	}
	for i, tc := range cases {
		before := endOffsets(t, f.kc, f.kc.Topics().Raw)
		ack, err := c.publish(uint16(i+1), tc.topic, tc.payload, tc.props)
		if err != nil {
			t.Fatalf("%s: no PUBACK: %v", tc.name, err)
		}
		if ack.FixedHeader.Type != packets.Puback || ack.PacketID != uint16(i+1) || ack.ReasonCode != tc.code {
			t.Errorf("%s: packet %d id %d reason 0x%02x, want a PUBACK of %d with 0x%02x", tc.name, ack.FixedHeader.Type, ack.PacketID, ack.ReasonCode, i+1, tc.code)
		}
		if !strings.HasPrefix(ack.Properties.ReasonString, tc.reason) || tc.code == 0 && ack.Properties.ReasonString != "" {
			t.Errorf("%s: reason string %q, want it to begin %q", tc.name, ack.Properties.ReasonString, tc.reason)
		}
		var user []string
		for _, u := range ack.Properties.User {
			if u.Key == mqttRejectedProperty {
				user = append(user, u.Val)
			}
		}
		if strings.Join(user, ",") != strings.Join(tc.user, ",") {
			t.Errorf("%s: rejected readings %q, want %q", tc.name, user, tc.user)
		}
		if added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; added != tc.added {
			t.Errorf("%s: %d records added to Kafka, want %d", tc.name, added, tc.added)
		}
	}
}

// TestMQTT311Publishes: 3.1.1 has no negative acknowledgement. A forged
// reading is acknowledged and dropped (a device cannot loop on it), a
// publish to another device's topic ends the connection; neither reaches
// Kafka.
func TestMQTT311Publishes(t *testing.T) {
	f, c, dev2 := connectedDevice(t, 4)
	before := endOffsets(t, f.kc, f.kc.Topics().Raw)
	if ack, err := c.publish(1, pb.MQTTTopic("dev-1"), v2batch(f.forged(1)), packets.Properties{}); err != nil || ack.FixedHeader.Type != packets.Puback {
		t.Fatalf("forged reading over 3.1.1: %v, packet %d; want a PUBACK", err, ack.FixedHeader.Type)
	}
	if ack, err := c.publish(2, pb.MQTTTopic("dev-1"), v2batch(f.readingV2(2)), packets.Properties{}); err != nil || ack.FixedHeader.Type != packets.Puback {
		t.Fatalf("good reading over 3.1.1: %v, packet %d; want a PUBACK", err, ack.FixedHeader.Type)
	}
	// (mochi writes a DISCONNECT before it closes, which 3.1.1 clients ignore.)
	if ack, err := c.publish(3, pb.MQTTTopic("dev-2"), v2batch(dev2(3)), packets.Properties{}); err == nil && ack.FixedHeader.Type != packets.Disconnect {
		t.Fatalf("publish to another device's topic over 3.1.1 answered with packet %d (reason 0x%02x), want the connection closed", ack.FixedHeader.Type, ack.ReasonCode)
	}
	if _, err := c.recv(); err != io.EOF {
		t.Fatalf("after a publish to another device's topic: %v, want the connection closed", err)
	}
	if added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; added != 1 {
		t.Errorf("%d records added to Kafka, want 1 (the good reading)", added)
	}
}

// TestMQTTBrokerUnavailable: while Kafka does not acknowledge, no publish
// is acknowledged: MQTT 5 gets PUBACK 0x80 BROKER_UNAVAILABLE (send again),
// 3.1.1 no PUBACK and its connection closed, so that it sends the message
// again when it reconnects.
func TestMQTTBrokerUnavailable(t *testing.T) {
	broker, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Close()
	kc := kafka.Config{Brokers: broker.ListenAddrs(), TopicPrefix: "mq.", Partitions: 1}
	cfg := testConfig()
	cfg.ProduceTimeout = 500 * time.Millisecond
	svc, srv := startService(t, cfg, kc)
	keys := registerWeather(t, srv.URL, "w", 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := startMQTTOn(t, svc, ln)
	// One device per protocol version: a second connection of a client id
	// takes the first one's place.
	devs := []*client.Device{client.NewDevice("w-0", pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[0]), client.NewDevice("w-1", pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[1])}
	conns := make([]*rawMQTT, 2)
	for i, v := range []byte{4, 5} {
		var code byte
		if conns[i], code = dialMQTT(t, dialTCP(t, addr), v, devs[i].ID, devs[i].MQTTPassword(cfg.Network, time.Now())); code != 0 {
			t.Fatalf("version %d: CONNACK 0x%02x", v, code)
		}
	}
	broker.Close()
	batch := func(d *client.Device) []byte {
		r, err := d.Reading(time.Now(), map[string]int64{"temperature_c": 20_000})
		if err != nil {
			t.Fatal(err)
		}
		return v2batch(r)
	}
	ack, err := conns[1].publish(1, pb.MQTTTopic("w-1"), batch(devs[1]), packets.Properties{})
	if err != nil || ack.ReasonCode != 0x80 || !strings.HasPrefix(ack.Properties.ReasonString, CodeBrokerUnavailable+": ") {
		t.Errorf("MQTT 5 with Kafka away: %v, reason 0x%02x %q; want PUBACK 0x80 %s", err, ack.ReasonCode, ack.Properties.ReasonString, CodeBrokerUnavailable)
	}
	ack, err = conns[0].publish(1, pb.MQTTTopic("w-0"), batch(devs[0]), packets.Properties{})
	if err == nil && ack.FixedHeader.Type != packets.Disconnect {
		t.Fatalf("MQTT 3.1.1 with Kafka away: packet %d reason 0x%02x, want no PUBACK and the connection closed", ack.FixedHeader.Type, ack.ReasonCode)
	}
	if _, err := conns[0].recv(); err != io.EOF {
		t.Fatalf("MQTT 3.1.1 with Kafka away: %v, want the connection closed", err)
	}
}

// TestMQTTConnect: a device connects only as itself, with a fresh password
// signed by its key for this network, or a TLS certificate of its key.
func TestMQTTConnect(t *testing.T) {
	f, addr := newMQTTFixture(t)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	cases := []struct {
		name, id, password string
		v3, v5             byte
	}{
		{"fresh password", "dev-1", f.password(now), 0, 0},
		{"no password", "dev-1", "", 0x05, 0x86},
		{"unknown device", "dev-9", pb.MQTTPassword(f.svc.cfg.Network, "dev-9", now, f.key), 0x05, 0x86},
		{"another key", "dev-1", pb.MQTTPassword(f.svc.cfg.Network, "dev-1", now, otherKey), 0x05, 0x86},
		{"another network", "dev-1", pb.MQTTPassword("elsewhere", "dev-1", now, f.key), 0x05, 0x86},
		{"expired", "dev-1", f.password(now.Add(-f.svc.cfg.MQTTPasswordMaxAge - time.Minute)), 0x05, 0x86},
		{"dated ahead", "dev-1", f.password(now.Add(f.svc.cfg.ChangeMaxFuture + time.Minute)), 0x05, 0x86},
		{"another device's password", "dev-1", strings.Replace(f.password(now), "v1.", "v2.", 1), 0x05, 0x86},
	}
	for _, tc := range cases {
		for _, v := range []byte{4, 5} {
			want := tc.v5
			if v == 4 {
				want = tc.v3
			}
			if _, code := dialMQTT(t, dialTCP(t, addr), v, tc.id, tc.password); code != want {
				t.Errorf("%s, version %d: CONNACK 0x%02x, want 0x%02x", tc.name, v, code, want)
			}
		}
	}
}

// TestMQTTClientCertificate: over TLS, a certificate of the device's own
// key stands for the password; one of another key does not.
func TestMQTTClientCertificate(t *testing.T) {
	f := newFixture(t)
	serverCert := selfSigned(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := startMQTTOn(t, f.svc, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequestClientCert}))
	_, otherKey, _ := ed25519.GenerateKey(nil)
	for _, tc := range []struct {
		name string
		key  ed25519.PrivateKey
		want byte
	}{{"the device's key", f.key, 0}, {"another key", otherKey, 0x86}} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{selfSigned(t, tc.key)}})
		if err != nil {
			t.Fatal(err)
		}
		c, code := dialMQTT(t, conn, 5, "dev-1", "")
		if code != tc.want {
			t.Fatalf("%s: CONNACK 0x%02x, want 0x%02x", tc.name, code, tc.want)
		}
		if code == 0 {
			if ack, err := c.publish(1, pb.MQTTTopic("dev-1"), v2batch(f.readingV2(1)), packets.Properties{}); err != nil || ack.ReasonCode != 0 {
				t.Fatalf("publish over TLS: %v, reason 0x%02x", err, ack.ReasonCode)
			}
		}
	}
}

// selfSigned is a self-signed certificate of key (ed25519; nil: a new one).
func selfSigned(t testing.TB, key ed25519.PrivateKey) tls.Certificate {
	t.Helper()
	if key == nil {
		_, key, _ = ed25519.GenerateKey(nil)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
