package validators

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestDecisionThatDoesNotEncode: a decision whose strings are not UTF-8
// (which proto3 refuses to encode) is stored as an UNDECODABLE rejection of
// the device, never as an empty record.
func TestDecisionThatDoesNotEncode(t *testing.T) {
	s := &Service{topics: kafka.Topics{Valid: "v", Rejected: "r"}}
	bad := &pb.RawReading{Signed: &pb.SignedReading{Reading: &pb.Reading{DeviceId: "ws-\xff", Seq: 7, EventTimeMs: 1000}}, ReceivedAtMs: 1200}
	for _, d := range []Decision{{}, {Reason: ReasonOutOfRange, Detail: "temperature_c 99000 above 60000"}} {
		value, topic, got, err := s.encode(bad, nil, d)
		if err != nil || topic != "r" || got.Reason != ReasonUndecodable || !strings.Contains(got.Detail, "does not encode") {
			t.Fatalf("decision %+v: topic %q, %+v, %v", d, topic, got, err)
		}
		var rej pb.RejectedReading
		if err := proto.Unmarshal(value, &rej); err != nil || len(value) == 0 {
			t.Fatalf("the record stored: %d bytes, %v", len(value), err)
		}
		if rej.Reason != ReasonUndecodable || !utf8.ValidString(rej.Reading.DeviceId) || rej.Reading.Seq != 7 || rej.ReceivedAtMs != 1200 {
			t.Fatalf("the rejection stored: %+v", &rej)
		}
	}
	// A decision that encodes is stored as decided.
	good := &pb.RawReading{Signed: &pb.SignedReading{Reading: &pb.Reading{DeviceId: "ws-1", Seq: 8}}}
	if value, topic, got, err := s.encode(good, nil, Decision{}); err != nil || topic != "v" || got.Reason != "" || len(value) == 0 {
		t.Fatalf("a valid decision: %q %+v %v", topic, got, err)
	}
}

// TestTrustedUplink: a LoRaWAN reading its network server vouches for (no
// signature) is checked as any other, passed on as the bytes ingest made
// with trusted_by and the uplink, and its redelivery is a DUPLICATE.
func TestTrustedUplink(t *testing.T) {
	s := &Service{topics: kafka.Topics{Valid: "v", Rejected: "r"}}
	c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	const at = 1_795_000_000_000
	body, _ := proto.Marshal(&pb.Reading{DeviceId: "eui-0101010101010101", Seq: at, EventTimeMs: at, Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT,
		Measurements: map[string]int64{"rssi_dbm": -36_000, "snr_db": 10_500}})
	up := &pb.Uplink{NetworkServer: "cs-eu", DeduplicationId: "d-1", FCnt: 9, Gateways: []*pb.UplinkGateway{{GatewayId: "g", RssiDbm: -36, SnrDb10: 105}}}
	rec, _ := proto.Marshal(&pb.RawReading{Owner: "0xabc", ReceivedAtMs: at + 500, Uplink: up, TrustedReading: body})
	for i, want := range []string{"", ReasonDuplicate} {
		raw := &pb.RawReading{}
		if err := unmarshalRaw(rec, raw); err != nil || raw.GetSigned().GetReading().GetSeq() != at {
			t.Fatalf("unmarshalRaw: %v %v", raw, err)
		}
		d := c.Check(raw, nil)
		c.Commit()
		if d.Reason != want {
			t.Fatalf("copy %d: %+v, want %q", i, d, want)
		}
		value, topic, _, err := s.encode(raw, nil, d)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" {
			var v pb.ValidReading
			if proto.Unmarshal(value, &v) != nil || topic != "v" || v.TrustedBy != "cs-eu" || string(v.ReadingBytes) != string(body) || len(v.Signature) != 0 ||
				!proto.Equal(v.Uplink, up) || v.Canonical {
				t.Fatalf("the valid record: %v", &v)
			}
		}
	}
}
