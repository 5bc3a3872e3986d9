package validators

import (
	"strings"
	"testing"
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
