package ingest

import (
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/protowalk"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// rawRecords is the raw topic's record of each accepted item (items[i] for
// i in good), received at received (Unix ms), keyed by device and carrying
// its region. A request's records are made together: their structs in one
// slice, and the keys, regions and v2 values in one buffer, the values
// written field by field (appendRawV2). Each reading had cost seven
// allocations here, proto.Marshal's reflection and fmt's region, a tenth
// of ingest's CPU outside the signature check. bad is the index in items
// of a reading whose record does not encode (err set).
func (s *Service) rawRecords(items []item, good []int, received int64) (_ []*kgo.Record, bad int, err error) {
	size := 0
	for _, i := range good {
		it := &items[i]
		// Its key, region (at most "-215,-215") and, if written by hand, value.
		size += len(it.id) + 12 + len(it.dev.GetOwner()) + len(it.v2.GetReading()) + len(it.v2.GetSignature()) + 32
	}
	// A buffer that turns out too small grows: records made before keep
	// the bytes they were given.
	buf := make([]byte, 0, size)
	recs := make([]kgo.Record, len(good))
	headers := make([]kgo.RecordHeader, len(good))
	out := make([]*kgo.Record, len(good))
	cut := func(from int) []byte { return buf[from:len(buf):len(buf)] }
	for j, i := range good {
		it, r := &items[i], &recs[j]
		r.Topic = s.topics.Raw
		from := len(buf)
		buf = append(buf, it.id...)
		r.Key = cut(from)
		if handWritten(it) {
			from = len(buf)
			buf = appendRawV2(buf, it.dev.GetOwner(), received, it.v2.GetReading(), it.v2.GetSignature())
			r.Value = cut(from)
		} else if r.Value, err = proto.Marshal(&pb.RawReading{Signed: it.v1, SignedV2: it.v2, Owner: it.dev.GetOwner(), ReceivedAtMs: received,
			Uplink: it.uplink, TrustedReading: it.trusted}); err != nil {
			return nil, i, err
		}
		if loc := it.dev.GetLocation(); loc != nil {
			from = len(buf)
			buf = kafka.AppendRegion(buf, loc.LatE7, loc.LonE7)
			headers[j] = kgo.RecordHeader{Key: kafka.RegionHeader, Value: cut(from)}
			r.Headers = headers[j : j+1 : j+1]
		}
		out[j] = r
	}
	return out, 0, nil
}

// handWritten reports whether appendRawV2 writes the item's record: a v2
// reading its device signed, whose owner proto.Marshal would encode.
func handWritten(it *item) bool {
	return it.v2 != nil && it.v1 == nil && it.uplink == nil && it.trusted == nil && utf8.ValidString(it.dev.GetOwner())
}

// appendRawV2 appends the bytes proto.Marshal makes of
// pb.RawReading{Owner: owner, ReceivedAtMs: received, SignedV2:
// &pb.SignedReadingV2{Reading: reading, Signature: sig}}
// (FuzzAppendRawV2 holds the two to the same bytes).
func appendRawV2(b []byte, owner string, received int64, reading, sig []byte) []byte {
	b = protowalk.AppendString(b, 2, owner)
	if received != 0 {
		b = protowire.AppendVarint(protowire.AppendTag(b, 3, protowire.VarintType), uint64(received))
	}
	inner := protowalk.SizeBytes(1, reading) + protowalk.SizeBytes(2, sig)
	b = protowire.AppendVarint(protowire.AppendTag(b, 4, protowire.BytesType), uint64(inner))
	return protowalk.AppendBytes(protowalk.AppendBytes(b, 1, reading), 2, sig)
}
