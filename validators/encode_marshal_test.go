package validators

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// FuzzMarshalDecided: the decided record written by hand is, byte for byte,
// what proto.Marshal makes of the same ValidReading or RejectedReading, and
// it declines exactly what it does not write (a string that is not UTF-8,
// an uplink, no signed bytes). The seeds run in every `go test`.
func FuzzMarshalDecided(f *testing.F) {
	f.Add("0xowner", int64(1_795_000_000_000), []byte("sig"), []byte("reading"), "", "", true, int32(473_000_000), int32(-85_000_000), false, "", false)
	f.Add("0xowner", int64(0), []byte{}, []byte{}, ReasonOutOfRange, "temperature_c 99000 above 60000", false, int32(0), int32(0), true, "cs-eu", false)
	f.Add("", int64(-1), []byte(nil), []byte{1}, "", "", true, int32(0), int32(0), false, "", false)
	f.Add("o", int64(5), []byte{9}, []byte{2}, ReasonDuplicate, "", true, int32(-1), int32(1), false, "", true)
	f.Add("\xff", int64(5), []byte{9}, []byte{2}, "", "", false, int32(0), int32(0), false, "", false)
	f.Add("o", int64(5), []byte{9}, []byte{2}, ReasonOutOfRange, "x\xfe", false, int32(0), int32(0), false, "", false)
	f.Fuzz(func(t *testing.T, owner string, receivedAt int64, sig, body []byte, reason, detail string, hasLoc bool, lat, lon int32, canonical bool, trusted string, uplink bool) {
		if body == nil {
			body = []byte{} // the caller hands over a signed reading's bytes, never nil
		}
		raw := &pb.RawReading{Owner: owner, ReceivedAtMs: receivedAt, Signed: &pb.SignedReading{Signature: sig}}
		if uplink {
			raw.Uplink = &pb.Uplink{NetworkServer: "cs"}
		}
		var asserted *pb.Location
		if hasLoc {
			asserted = &pb.Location{LatE7: lat, LonE7: lon}
		}
		d := Decision{Reason: reason, Detail: detail}
		got, ok := marshalDecided(raw, asserted, d, body, canonical, trusted)
		declines := uplink || !utf8.ValidString(owner) || !utf8.ValidString(reason) || !utf8.ValidString(detail) || !utf8.ValidString(trusted)
		if ok == declines {
			t.Fatalf("ok %v for owner %q reason %q detail %q trusted %q uplink %v", ok, owner, reason, detail, trusted, uplink)
		}
		if !ok {
			return
		}
		var m proto.Message = &pb.ValidReading{Owner: owner, ReceivedAtMs: receivedAt, Signature: sig, AssertedLocation: asserted, ReadingBytes: body, Canonical: canonical, TrustedBy: trusted}
		if reason != "" {
			m = &pb.RejectedReading{Owner: owner, ReceivedAtMs: receivedAt, Reason: reason, Detail: detail, Signature: sig, ReadingBytes: body, Canonical: canonical, TrustedBy: trusted}
		}
		want, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("by hand %x\nproto   %x", got, want)
		}
	})
}
