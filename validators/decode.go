package validators

import (
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/protowalk"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// unmarshalRaw decodes a raw record. A v2 reading (bytes as the device sent
// them, verified by ingest) is decoded into Signed, so that the checks see
// one shape; its bytes stay in SignedV2 for the audit trail. So is a reading
// a LoRaWAN network server vouches for (TrustedReading, no signature).
//
// The records ingest writes for signed v2 readings are decoded by hand
// (decodeV2): proto.Unmarshal's reflection, and the map it builds through
// it, were a sixth of a validator's CPU in the pipeline. Anything else (a
// v1 reading, a LoRaWAN uplink) goes through proto.Unmarshal.
// FuzzUnmarshalRawMatchesProto holds the two to the same results.
func unmarshalRaw(b []byte, raw *pb.RawReading) error {
	if err := decodeV2(b, raw); err != errNotV2 {
		return err
	}
	*raw = pb.RawReading{}
	return unmarshalRawProto(b, raw)
}

// unmarshalRawProto is unmarshalRaw through proto.Unmarshal, for any record.
func unmarshalRawProto(b []byte, raw *pb.RawReading) error {
	if err := proto.Unmarshal(b, raw); err != nil {
		return err
	}
	var body, sig []byte
	switch v2, t := raw.GetSignedV2(), raw.GetTrustedReading(); {
	case v2 != nil:
		body, sig = v2.GetReading(), v2.GetSignature()
	case t != nil:
		body = t
	default:
		return nil // v1: Signed as sent
	}
	r := &pb.Reading{}
	if err := proto.Unmarshal(body, r); err != nil {
		return err
	}
	raw.Signed = &pb.SignedReading{Reading: r, Signature: sig}
	return nil
}

// errNotV2 says a record is not one decodeV2 takes.
var errNotV2 = errors.New("not a signed v2 record")

// decodeV2 decodes a record holding a signed v2 reading and no v1 reading,
// trusted reading or uplink (RawReading fields 1, 5, 6), or returns
// errNotV2. Its byte slices alias b.
func decodeV2(b []byte, raw *pb.RawReading) error {
	var d *decodedV2 // made with the signed reading: no other record needs it
	err := protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case (num == 1 || num == 5 || num == 6) && typ == protowire.BytesType:
			return errNotV2
		case num == 2 && typ == protowire.BytesType:
			return protowalk.String(&raw.Owner, bs)
		case num == 3 && typ == protowire.VarintType:
			raw.ReceivedAtMs = int64(v)
		case num == 4 && typ == protowire.BytesType:
			if d == nil {
				d = new(decodedV2) // a repeated message field merges
			}
			return protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, _ uint64, bs []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					d.v2.Reading = bs
				case num == 2 && typ == protowire.BytesType:
					d.v2.Signature = bs
				}
				return nil
			})
		}
		return nil
	})
	if err == nil && d == nil {
		err = errNotV2
	}
	if err != nil {
		return err
	}
	if err := decodeReading(d.v2.Reading, &d.reading); err != nil {
		return err
	}
	d.signed.Reading, d.signed.Signature = &d.reading, d.v2.Signature
	raw.SignedV2, raw.Signed = &d.v2, &d.signed
	return nil
}

// decodedV2 is what decodeV2 makes of a record, in one allocation rather
// than three (the validator's allocations were a sixth of its CPU).
type decodedV2 struct {
	v2      pb.SignedReadingV2
	reading pb.Reading
	signed  pb.SignedReading
}

// decodeReading merges an encoded Reading into r, as proto.Unmarshal does
// but for the unknown fields, which it drops (a reading is never encoded
// again from its decoded form: its signed bytes travel on).
func decodeReading(b []byte, r *pb.Reading) error {
	return protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			return protowalk.String(&r.DeviceId, bs)
		case num == 2 && typ == protowire.VarintType:
			r.Seq = v
		case num == 3 && typ == protowire.VarintType:
			r.EventTimeMs = int64(v)
		case num == 4 && typ == protowire.VarintType:
			r.Kind = pb.ResourceKind(int32(v))
		case num == 5 && typ == protowire.BytesType:
			return decodeMeasurement(bs, r)
		case num == 6 && typ == protowire.BytesType:
			if r.Location == nil {
				r.Location = &pb.Location{}
			}
			return protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
				x := int32(protowire.DecodeZigZag(v & math.MaxUint32)) // sint32
				switch {
				case num == 1 && typ == protowire.VarintType:
					r.Location.LatE7 = x
				case num == 2 && typ == protowire.VarintType:
					r.Location.LonE7 = x
				}
				return nil
			})
		case num == 7 && typ == protowire.BytesType:
			if r.Witness == nil {
				r.Witness = &pb.Witness{}
			}
			return protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					return protowalk.String(&r.Witness.BeaconDeviceId, bs)
				case num == 2 && typ == protowire.VarintType:
					r.Witness.BeaconSeq = v
				}
				return nil
			})
		}
		return nil
	})
}

// knownNames are the measurement names of the default rules: a reading's
// name found here is this string, not a new one (three allocations a
// weather reading); other names are allocated as before. Read only.
var knownNames = func() map[string]string {
	names := map[string]string{}
	for _, k := range DefaultRules() {
		for name := range k.Measurements {
			names[name] = name
		}
	}
	return names
}()

// decodeMeasurement adds one map entry to r's measurements.
func decodeMeasurement(b []byte, r *pb.Reading) error {
	key, val, err := protowalk.SintEntry(b, knownNames)
	if err != nil {
		return err
	}
	if r.Measurements == nil {
		r.Measurements = make(map[string]int64, 4)
	}
	r.Measurements[key] = val
	return nil
}
