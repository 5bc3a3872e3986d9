package aggregator

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// fromProto is what decode must produce, taken from proto.Unmarshal's result.
func fromProto(t *testing.T, b []byte, rejected bool) (record, bool) {
	var rd *pb.Reading
	var r record
	if rejected {
		v := &pb.RejectedReading{}
		if proto.Unmarshal(b, v) != nil {
			return r, false
		}
		rd, r.owner, r.receivedMs, r.reason, r.detail = v.Reading, v.Owner, v.ReceivedAtMs, v.Reason, v.Detail
		r.body, r.signature, r.canonical = v.ReadingBytes, v.Signature, v.Canonical
		r.uplink, r.trustedBy = uplinkOf(v.Uplink), v.TrustedBy
	} else {
		v := &pb.ValidReading{}
		if proto.Unmarshal(b, v) != nil {
			return r, false
		}
		rd, r.owner, r.receivedMs = v.Reading, v.Owner, v.ReceivedAtMs
		r.body, r.signature, r.canonical = v.ReadingBytes, v.Signature, v.Canonical
		r.hasAsserted, r.alat, r.alon = v.AssertedLocation != nil, v.GetAssertedLocation().GetLatE7(), v.GetAssertedLocation().GetLonE7()
		r.uplink, r.trustedBy = uplinkOf(v.Uplink), v.TrustedBy
	}
	if rd == nil && len(r.body) > 0 {
		rd = &pb.Reading{}
		if proto.Unmarshal(r.body, rd) != nil {
			return r, false
		}
	}
	r.hasReading = rd != nil
	r.deviceID, r.seq, r.eventMs, r.kind = rd.GetDeviceId(), rd.GetSeq(), rd.GetEventTimeMs(), rd.GetKind()
	for k, v := range rd.GetMeasurements() {
		r.measurements = append(r.measurements, measurement{Key: k, Value: v})
	}
	r.lat, r.lon, r.hasLocation = rd.GetLocation().GetLatE7(), rd.GetLocation().GetLonE7(), rd.GetLocation() != nil
	r.witnessOf, r.witnessSeq = rd.GetWitness().GetBeaconDeviceId(), rd.GetWitness().GetBeaconSeq()
	return r, true
}

func uplinkOf(u *pb.Uplink) uplink {
	out := uplink{deduplicationID: u.GetDeduplicationId(), fCnt: u.GetFCnt(), fPort: u.GetFPort()}
	for _, g := range u.GetGateways() {
		out.gateways, out.rssi, out.snr = append(out.gateways, g.GatewayId), append(out.rssi, clamp16(g.RssiDbm)), append(out.snr, clamp16(g.SnrDb10))
	}
	return out
}

func sameRecord(a, b record) bool {
	return a.trustedBy == b.trustedBy && a.uplink.deduplicationID == b.uplink.deduplicationID && a.uplink.fCnt == b.uplink.fCnt && a.uplink.fPort == b.uplink.fPort &&
		slices.Equal(a.uplink.gateways, b.uplink.gateways) && slices.Equal(a.uplink.rssi, b.uplink.rssi) && slices.Equal(a.uplink.snr, b.uplink.snr) &&
		a.hasReading == b.hasReading && a.deviceID == b.deviceID && a.seq == b.seq && a.eventMs == b.eventMs &&
		a.kind == b.kind && a.lat == b.lat && a.lon == b.lon && a.hasLocation == b.hasLocation && a.owner == b.owner && a.receivedMs == b.receivedMs &&
		a.hasAsserted == b.hasAsserted && a.alat == b.alat && a.alon == b.alon && a.witnessOf == b.witnessOf && a.witnessSeq == b.witnessSeq &&
		bytes.Equal(a.body, b.body) && bytes.Equal(a.signature, b.signature) && a.canonical == b.canonical && a.reason == b.reason && a.detail == b.detail && maps.Equal(measurementMap(a.measurements), measurementMap(b.measurements)) && len(a.measurements) == len(b.measurements)
}

func seeds() [][]byte {
	rd := &pb.Reading{DeviceId: "weather-1", Seq: 42, EventTimeMs: 1_795_000_000_123, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": -21_500, "humidity_pct": 55_000}, Location: &pb.Location{LatE7: -473_000_000, LonE7: 85_000_000}}
	v, _ := proto.Marshal(&pb.ValidReading{Reading: rd, Owner: "0xabc", ReceivedAtMs: 1_795_000_000_456, Signature: []byte{1, 2}})
	body, _ := proto.Marshal(rd)
	signed, _ := proto.Marshal(&pb.ValidReading{ReadingBytes: body, Owner: "0xabc", ReceivedAtMs: 7, Signature: []byte{4, 5}, Canonical: true})
	signedRej, _ := proto.Marshal(&pb.RejectedReading{ReadingBytes: body, Reason: "CLONED_STREAM", Signature: []byte{6}})
	both, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{DeviceId: "old"}, ReadingBytes: body})
	badBody, _ := proto.Marshal(&pb.ValidReading{ReadingBytes: []byte{0x0a, 0x02, 0xff, 0xfe}})
	r, _ := proto.Marshal(&pb.RejectedReading{Reading: rd, Owner: "0xabc", ReceivedAtMs: 9, Reason: "OUT_OF_RANGE", Detail: "x=1", Signature: []byte{3}})
	empty, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{}})
	heard, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{DeviceId: "hotspot-1", Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT,
		Witness: &pb.Witness{BeaconDeviceId: "hotspot-2", BeaconSeq: 77}}})
	placed, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{DeviceId: "weather-2"}, AssertedLocation: &pb.Location{LatE7: 387_000_000, LonE7: -91_000_000}})
	up := &pb.Uplink{NetworkServer: "cs", DeduplicationId: "3ac7e3c4", DevEui: "0101010101010101", FCnt: 7, FPort: 1,
		Gateways: []*pb.UplinkGateway{{GatewayId: "0016c001f153a14c", RssiDbm: -36, SnrDb10: 105}, {GatewayId: "g2", RssiDbm: -120, SnrDb10: -75}}}
	trusted, _ := proto.Marshal(&pb.ValidReading{ReadingBytes: body, Owner: "0xabc", Uplink: up, TrustedBy: "cs"})
	trustedRej, _ := proto.Marshal(&pb.RejectedReading{ReadingBytes: body, Reason: "CLOCK_STALE", Uplink: up, TrustedBy: "cs"})
	return [][]byte{v, r, empty, placed, heard, signed, signedRej, both, badBody, append(append([]byte{}, v...), v...), {0x0a, 0x02, 0x0a, 0x80}, {0x08, 0x01}, {0x0a, 0x03, 0x32, 0x01, 0x10}, trusted, trustedRej}
}

func TestDecodeMatchesProto(t *testing.T) {
	for i, b := range seeds() {
		for _, rejected := range []bool{false, true} {
			want, ok := fromProto(t, b, rejected)
			var got record
			err := got.decode(b, rejected)
			if (err == nil) != ok {
				t.Fatalf("seed %d (rejected %v): decode error %v, proto ok %v", i, rejected, err, ok)
			}
			if ok && !sameRecord(got, want) {
				t.Fatalf("seed %d (rejected %v): decoded %+v, proto says %+v", i, rejected, got, want)
			}
		}
	}
	// The first seed holds every field: check a few outright.
	var r record
	if err := r.decode(seeds()[0], false); err != nil || r.lat != -473_000_000 || measurementMap(r.measurements)["temperature_c"] != -21_500 || r.kind != pb.ResourceKind_RESOURCE_KIND_WEATHER {
		t.Fatalf("decoded %+v, %v", r, err)
	}
	// A reading carried as its signed bytes alone.
	if err := r.decode(seeds()[5], false); err != nil || r.deviceID != "weather-1" || r.seq != 42 || !r.canonical || len(r.body) == 0 || string(r.signature) != "\x04\x05" {
		t.Fatalf("signed bytes: %+v, %v", r, err)
	}
	// A reading without a position, placed by the registry's.
	if err := r.decode(seeds()[3], false); err != nil || r.hasLocation || !r.hasAsserted || r.alat != 387_000_000 || r.alon != -91_000_000 {
		t.Fatalf("asserted location: %+v, %v", r, err)
	}
	// A LoRaWAN uplink's reading that its network server vouches for.
	s := seeds()
	if err := r.decode(s[len(s)-2], false); err != nil || r.trustedBy != "cs" || r.uplink.deduplicationID != "3ac7e3c4" || r.uplink.fCnt != 7 ||
		!slices.Equal(r.uplink.gateways, []string{"0016c001f153a14c", "g2"}) || !slices.Equal(r.uplink.rssi, []int16{-36, -120}) || !slices.Equal(r.uplink.snr, []int16{105, -75}) {
		t.Fatalf("uplink: %+v, %v", r, err)
	}
}

// FuzzDecodeMatchesProto holds the hand-written decoder to proto.Unmarshal:
// the same bytes are accepted or refused by both, and accepted ones give the
// same fields.
func FuzzDecodeMatchesProto(f *testing.F) {
	for _, b := range seeds() {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, rejected bool) {
		want, ok := fromProto(t, b, rejected)
		var got record
		err := got.decode(b, rejected)
		if (err == nil) != ok {
			t.Fatalf("decode error %v, proto.Unmarshal ok %v", err, ok)
		}
		if ok && !sameRecord(got, want) {
			t.Fatalf("decoded %+v, proto.Unmarshal gives %+v", got, want)
		}
	})
}

// measurementMap is ms as a map (the order they came in aside).
func measurementMap(ms []measurement) map[string]int64 {
	m := make(map[string]int64, len(ms))
	for _, kv := range ms {
		m[kv.Key] = kv.Value
	}
	return m
}
