package validators

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fieldmint/fieldmint/internal/protowalk"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// marshalDecided is the decided record (pb.ValidReading when d.Reason is
// empty, pb.RejectedReading otherwise) of a reading carried as the bytes
// its signature covers, written field by field: the bytes proto.Marshal
// makes of the same message (TestMarshalDecidedMatchesProto), in one
// allocation and without reflection (proto.Marshal and the messages made
// for it were 6% of a validator's CPU in the pipeline's profile). ok is
// false for what it does not write: a reading carried decoded, a LoRaWAN
// uplink, or a string that is not UTF-8 (which proto.Marshal refuses):
// the caller marshals those.
func marshalDecided(raw *pb.RawReading, asserted *pb.Location, d Decision, body []byte, canonical bool, trustedBy string) ([]byte, bool) {
	owner, sig := raw.GetOwner(), raw.GetSigned().GetSignature()
	if body == nil || raw.GetUplink() != nil || !utf8.ValidString(owner) || !utf8.ValidString(trustedBy) ||
		!utf8.ValidString(d.Reason) || !utf8.ValidString(d.Detail) {
		return nil, false
	}
	b := make([]byte, 0, 48+len(owner)+len(sig)+len(body)+len(d.Reason)+len(d.Detail)+len(trustedBy))
	b = protowalk.AppendString(b, 2, owner)
	if raw.ReceivedAtMs != 0 {
		b = protowire.AppendVarint(protowire.AppendTag(b, 3, protowire.VarintType), uint64(raw.ReceivedAtMs))
	}
	if d.Reason == "" {
		b = protowalk.AppendBytes(b, 5, sig)
		if asserted != nil {
			b = appendLocation(b, 6, asserted)
		}
	} else {
		b = protowalk.AppendString(b, 4, d.Reason)
		b = protowalk.AppendString(b, 5, d.Detail)
		b = protowalk.AppendBytes(b, 6, sig)
	}
	b = protowalk.AppendBytes(b, 7, body)
	if canonical {
		b = protowire.AppendVarint(protowire.AppendTag(b, 8, protowire.VarintType), 1)
	}
	return protowalk.AppendString(b, 10, trustedBy), true
}

// appendLocation appends field n, a pb.Location (present even when both
// coordinates are 0, as proto.Marshal writes a set message).
func appendLocation(b []byte, n protowire.Number, l *pb.Location) []byte {
	var inner [12]byte
	in := inner[:0]
	if l.LatE7 != 0 {
		in = protowire.AppendVarint(protowire.AppendTag(in, 1, protowire.VarintType), protowire.EncodeZigZag(int64(l.LatE7)))
	}
	if l.LonE7 != 0 {
		in = protowire.AppendVarint(protowire.AppendTag(in, 2, protowire.VarintType), protowire.EncodeZigZag(int64(l.LonE7)))
	}
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), in)
}
