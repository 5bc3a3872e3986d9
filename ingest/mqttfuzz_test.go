package ingest

import (
	"bytes"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// FuzzMQTTPublish: whatever a connected device publishes, ingest writes to
// Kafka exactly the readings it accepted, each the device's own, and
// nothing when it refuses the publish.
func FuzzMQTTPublish(fz *testing.F) {
	f := newFixture(fz)
	dev2 := f.registerOther(fz, "dev-2")
	jsonBatch, _ := protojson.Marshal(&pb.ReadingBatchV2{Readings: []*pb.SignedReadingV2{f.readingV2(5)}})
	fz.Add(v2batch(f.readingV2(1), f.readingV2(2)), "")
	fz.Add(v2batch(f.forged(3)), "")
	fz.Add(v2batch(dev2(4)), "application/x-protobuf")
	fz.Add(jsonBatch, "application/json")
	fz.Add(append(jsonBatch, '\n'), "application/x-ndjson")
	fz.Add([]byte{0x0a, 0x02, 0x0a, 0x00}, "")
	fz.Fuzz(func(t *testing.T, payload []byte, contentType string) {
		before := endOffsets(t, f.kc, f.kc.Topics().Raw)
		v := f.svc.judgePublish("dev-1", payload, contentType)
		added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before
		accepted := 0
		if v.res != nil {
			accepted = v.res.Accepted
			for i, r := range v.res.Results {
				if (r.Status == "rejected") == (r.Code == "") {
					t.Fatalf("reading %d: status %q with code %q", i, r.Status, r.Code)
				}
			}
		}
		if v.status != 200 && (accepted != 0 || v.code() == "") {
			t.Fatalf("refused (%d %s) with %d readings accepted", v.status, v.code(), accepted)
		}
		if added != int64(accepted) {
			t.Fatalf("%d readings accepted, %d records written", accepted, added)
		}
	})
}

// FuzzMQTTConnection: bytes of any kind after a device's CONNECT end its
// connection or are answered, never crash the broker, and write nothing;
// the next device connects and publishes as before.
func FuzzMQTTConnection(fz *testing.F) {
	f, addr := newMQTTFixture(fz)
	var good bytes.Buffer
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 1, TopicName: pb.MQTTTopic("dev-1"), Payload: []byte("x"), ProtocolVersion: 5}
	pk.PublishEncode(&good)
	fz.Add(good.Bytes())
	fz.Add(good.Bytes()[:len(good.Bytes())-3])
	fz.Add([]byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, '#', 0x01}) // SUBSCRIBE to "#"
	fz.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f})            // a length beyond the limit
	fz.Add([]byte{0xe0, 0x00})                                    // DISCONNECT
	fz.Fuzz(func(t *testing.T, junk []byte) {
		before := endOffsets(t, f.kc, f.kc.Topics().Raw)
		c, code := dialMQTT(t, dialTCP(t, addr), 5, "dev-1", f.password(time.Now()))
		if code != 0 {
			t.Fatalf("CONNACK 0x%02x", code)
		}
		c.wait = 300 * time.Millisecond
		c.c.Write(junk)
		for {
			if _, err := c.recv(); err != nil {
				break
			}
		}
		c.c.Close()
		if added := endOffsets(t, f.kc, f.kc.Topics().Raw) - before; added != 0 {
			t.Fatalf("%d records written for junk", added)
		}
	})
}
