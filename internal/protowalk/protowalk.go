// Package protowalk decodes protobuf messages by hand, field by field, for
// the hot paths where proto.Unmarshal's messages, maps and strings cost
// more than the fields a caller reads (the aggregator's records, ingest's
// first look at a signed reading). It follows protobuf's rules: unknown
// fields and fields of an unexpected wire type are skipped, groups too,
// and a string must be UTF-8. Each caller holds its decoder to
// proto.Unmarshal with a fuzz target. It also appends proto3 fields the way
// proto.Marshal writes them, for the records written by hand (ingest's raw
// records, the validators' decisions), each held to proto.Marshal likewise.
package protowalk

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrMalformed is any decoding failure, wrapped with what was wrong: the
// bytes are not a message.
var ErrMalformed = errors.New("malformed protobuf")

// Fields calls f with each varint and length-delimited field of a message:
// its number, wire type, and value (varint) or bytes (length-delimited).
// Fixed-width fields and groups are checked and skipped.
func Fields(b []byte, f func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return malformed(n)
		}
		if !num.IsValid() {
			return fmt.Errorf("%w: field number %d", ErrMalformed, num)
		}
		b = b[n:]
		var v uint64
		var bs []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			bs, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return malformed(n)
		}
		b = b[n:]
		if typ == protowire.VarintType || typ == protowire.BytesType {
			if err := f(num, typ, v, bs); err != nil {
				return err
			}
		}
	}
	return nil
}

// malformed is ErrMalformed with what protowire found wrong.
func malformed(n int) error { return fmt.Errorf("%w: %v", ErrMalformed, protowire.ParseError(n)) }

// String sets dst to b, which must be UTF-8.
func String(dst *string, b []byte) error {
	if err := Valid(b); err != nil {
		return err
	}
	*dst = string(b)
	return nil
}

// Valid checks that a string field's bytes are UTF-8, without keeping them.
func Valid(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: a string is not UTF-8", ErrMalformed)
	}
	return nil
}

// SintEntry decodes one entry of a map<string, sint64> field: key = 1,
// value = 2, either of which may be missing (its zero value). A key found
// in known (a table of strings keyed by themselves, read only; nil for
// none) is known's string rather than a new one: a reading's measurement
// names come from a short list, and a string each was an allocation each.
func SintEntry(b []byte, known map[string]string) (key string, val int64, err error) {
	err = Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			if s, ok := known[string(bs)]; ok {
				key = s
				return nil
			}
			return String(&key, bs)
		case num == 2 && typ == protowire.VarintType:
			val = protowire.DecodeZigZag(v)
		}
		return nil
	})
	return key, val, err
}

// AppendString appends field n, a string, as proto.Marshal writes a proto3
// field: left out when empty.
func AppendString(b []byte, n protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
}

// AppendBytes appends field n, bytes, left out when empty.
func AppendBytes(b []byte, n protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), v)
}

// SizeBytes is the size AppendBytes gives field n holding v.
func SizeBytes(n protowire.Number, v []byte) int {
	if len(v) == 0 {
		return 0
	}
	return protowire.SizeTag(n) + protowire.SizeBytes(len(v))
}
