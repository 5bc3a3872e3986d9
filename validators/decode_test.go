package validators

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// decodeSeeds are raw records of each shape: signed v2 readings (with a
// witness, a position, no measurements, fields repeated, unknown fields), a
// v1 reading, a trusted LoRaWAN reading, and broken ones.
func decodeSeeds() [][]byte {
	reading := func(r *pb.Reading) []byte { b, _ := proto.Marshal(r); return b }
	full := reading(&pb.Reading{DeviceId: "ws-00001", Seq: 7, EventTimeMs: 1_795_000_000_000, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": -12_345, "humidity_pct": 40_000, "": 1},
		Location:     &pb.Location{LatE7: -387_000_000, LonE7: 91_000_000}})
	witness := reading(&pb.Reading{DeviceId: "hs-1", Seq: 9, Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT, Witness: &pb.Witness{BeaconDeviceId: "hs-2", BeaconSeq: 4}})
	// The location and a measurement given twice, and a field no reading has.
	merged := append(append([]byte{}, full...), reading(&pb.Reading{Location: &pb.Location{LonE7: 5}, Measurements: map[string]int64{"humidity_pct": 1}})...)
	merged = protowire.AppendVarint(protowire.AppendTag(merged, 99, protowire.VarintType), 3)
	raw := func(r *pb.RawReading) []byte { b, _ := proto.Marshal(r); return b }
	v2 := func(body []byte) []byte {
		return raw(&pb.RawReading{Owner: "0xabc", ReceivedAtMs: 1_795_000_000_200, SignedV2: &pb.SignedReadingV2{Reading: body, Signature: make([]byte, 64)}})
	}
	return [][]byte{
		v2(full), v2(witness), v2(merged), v2(nil), v2([]byte{0xff}), v2(reading(&pb.Reading{DeviceId: "ws-\xff"})),
		append(v2(full), v2(witness)...), // every field twice: the second wins, messages merge
		raw(&pb.RawReading{Signed: &pb.SignedReading{Reading: &pb.Reading{DeviceId: "ws-1", Seq: 3}, Signature: []byte{1}}, Owner: "0x1"}),
		raw(&pb.RawReading{TrustedReading: full, Uplink: &pb.Uplink{NetworkServer: "cs-eu", FCnt: 2}}),
		append(v2(full), raw(&pb.RawReading{TrustedReading: witness})...),
		raw(&pb.RawReading{Owner: "0x2"}),
		{}, {0x22, 0x02, 0xc3}, {0x0a},
	}
}

// FuzzUnmarshalRawMatchesProto holds unmarshalRaw's hand-written path to
// proto.Unmarshal's: the same bytes fail in both or in neither, and decode
// to the same message but for unknown fields, which the hand path drops.
func FuzzUnmarshalRawMatchesProto(f *testing.F) {
	for _, b := range decodeSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, got := &pb.RawReading{}, &pb.RawReading{}
		wantErr, err := unmarshalRawProto(b, want), unmarshalRaw(b, got)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("unmarshalRaw: %v; through proto.Unmarshal: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		discardUnknown(want.ProtoReflect())
		discardUnknown(got.ProtoReflect()) // (records not v2 went through proto.Unmarshal too)
		if !proto.Equal(got, want) {
			t.Fatalf("unmarshalRaw gives %v; proto.Unmarshal %v", got, want)
		}
	})
}

// TestDecodeV2TakesTheSignedRecords: the seeds ingest writes for signed v2
// readings go the hand-written way (the fuzz target above would pass with
// every record through proto.Unmarshal), v1 readings, trusted readings and
// records without a reading do not.
func TestDecodeV2TakesTheSignedRecords(t *testing.T) {
	seeds := decodeSeeds()
	// Broken bytes are refused by hand too (seeds 4, 5, 12 and 13).
	for i, want := range []bool{true, true, true, true, true, true, true, false, false, false, false, false, true, true} {
		err := decodeV2(seeds[i], &pb.RawReading{})
		if got := err != errNotV2; got != want {
			t.Errorf("seed %d: decodeV2 %v; want it taken: %v", i, err, want)
		}
	}
}

// discardUnknown drops the unknown fields of m and of every message in it.
func discardUnknown(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool { discardUnknown(v.Message()); return true })
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				discardUnknown(v.List().Get(i).Message())
			}
		case !fd.IsMap() && !fd.IsList() && fd.Message() != nil:
			discardUnknown(v.Message())
		}
		return true
	})
	m.SetUnknown(nil)
}
