package aggregator

import (
	"math"

	"github.com/ClickHouse/ch-go/proto"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/fieldmint/fieldmint/internal/protowalk"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// record is what the aggregator keeps of a ValidReading or RejectedReading.
//
// Decoding by hand: proto.Unmarshal builds three messages, a map and their
// strings for every record, and that was a third of the aggregator's time.
// This decoder fills a reused value and follows protobuf's rules (unknown
// fields and wrong wire types skipped, repeated fields merged, last value
// wins, strings must be UTF-8); FuzzDecodeMatchesProto holds it to
// proto.Unmarshal on arbitrary bytes.
type record struct {
	hasReading   bool
	deviceID     string
	seq          uint64
	eventMs      int64
	kind         pb.ResourceKind
	measurements []measurement // in the order first seen; a repeated name's last value
	lat, lon     int32
	hasLocation  bool // the reading carries a position
	witnessOf    string
	witnessSeq   uint64
	owner        string
	receivedMs   int64
	// The reading as its signature covers it (after the domain prefix), and
	// the signature: stored so that anyone can verify a row.
	body, signature []byte
	canonical       bool // body is a v1 reading's canonical encoding
	// ValidReading's asserted location (the registry's when decided).
	hasAsserted bool
	alat, alon  int32
	reason      string // RejectedReading
	detail      string // RejectedReading
	// The LoRaWAN uplink that carried the reading, and the network server
	// that vouches for it when its device did not sign it.
	uplink    uplink
	trustedBy string
}

// uplink is what the readings table keeps of a pb.Uplink.
type uplink struct {
	deduplicationID string
	fCnt, fPort     uint32
	gateways        []string
	rssi, snr       []int16
}

// decode parses a ValidReading (rejected false) or a RejectedReading into r.
// The reading is decoded from the signed bytes the record carries, unless
// the record has it decoded (field 1: validators from before the bytes
// carried every reading, and undecodable records' stand-ins); bytes that
// do not decode as a Reading make the record malformed.
func (r *record) decode(b []byte, rejected bool) error {
	*r = record{measurements: r.measurements[:0]} // its memory reused
	err := r.fields(b, rejected)
	if err == nil && !r.hasReading && len(r.body) > 0 {
		r.hasReading = true
		err = r.decodeReading(r.body)
	}
	return err
}

func (r *record) fields(b []byte, rejected bool) error {
	return protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			r.hasReading = true
			return r.decodeReading(bs)
		case num == 2 && typ == protowire.BytesType:
			return protowalk.String(&r.owner, bs)
		case num == 3 && typ == protowire.VarintType:
			r.receivedMs = int64(v)
		case num == 5 && typ == protowire.BytesType && !rejected, num == 6 && typ == protowire.BytesType && rejected:
			r.signature = bs
		case num == 7 && typ == protowire.BytesType:
			r.body = bs
		case num == 8 && typ == protowire.VarintType:
			r.canonical = v != 0
		case num == 6 && typ == protowire.BytesType && !rejected:
			r.hasAsserted = true
			return decodeLocation(bs, &r.alat, &r.alon)
		case num == 4 && typ == protowire.BytesType && rejected:
			return protowalk.String(&r.reason, bs)
		case num == 5 && typ == protowire.BytesType && rejected:
			return protowalk.String(&r.detail, bs)
		case num == 9 && typ == protowire.BytesType:
			return r.uplink.decode(bs)
		case num == 10 && typ == protowire.BytesType:
			return protowalk.String(&r.trustedBy, bs)
		}
		return nil
	})
}

// decode merges an encoded pb.Uplink into u.
func (u *uplink) decode(b []byte) error {
	return protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		var ignored string
		switch {
		case (num == 1 || num == 3) && typ == protowire.BytesType:
			return protowalk.String(&ignored, bs) // the network server (trusted_by says it when it matters) and the DevEUI (the device id says it)
		case num == 2 && typ == protowire.BytesType:
			return protowalk.String(&u.deduplicationID, bs)
		case num == 4 && typ == protowire.VarintType:
			u.fCnt = uint32(v)
		case num == 5 && typ == protowire.VarintType:
			u.fPort = uint32(v)
		case num == 8 && typ == protowire.BytesType:
			var id string
			var rssi, snr int32
			err := protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					return protowalk.String(&id, bs)
				case num == 2 && typ == protowire.VarintType:
					rssi = int32(protowire.DecodeZigZag(v & math.MaxUint32))
				case num == 3 && typ == protowire.VarintType:
					snr = int32(protowire.DecodeZigZag(v & math.MaxUint32))
				}
				return nil
			})
			u.gateways, u.rssi, u.snr = append(u.gateways, id), append(u.rssi, clamp16(rssi)), append(u.snr, clamp16(snr))
			return err
		}
		return nil
	})
}

// clamp16 fits a gateway's rssi or snr into the column's Int16.
func clamp16(v int32) int16 { return int16(max(math.MinInt16, min(math.MaxInt16, v))) }

func (r *record) decodeReading(b []byte) error {
	return protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			return protowalk.String(&r.deviceID, bs)
		case num == 2 && typ == protowire.VarintType:
			r.seq = v
		case num == 3 && typ == protowire.VarintType:
			r.eventMs = int64(v)
		case num == 4 && typ == protowire.VarintType:
			r.kind = pb.ResourceKind(int32(v))
		case num == 5 && typ == protowire.BytesType:
			return r.decodeMeasurement(bs)
		case num == 6 && typ == protowire.BytesType:
			r.hasLocation = true
			return decodeLocation(bs, &r.lat, &r.lon)
		case num == 7 && typ == protowire.BytesType:
			// A hotspot's witness of a beacon: scoring pays coverage by it.
			return protowalk.Fields(bs, func(num protowire.Number, typ protowire.Type, v uint64, bs []byte) error {
				switch {
				case num == 1 && typ == protowire.BytesType:
					return protowalk.String(&r.witnessOf, bs)
				case num == 2 && typ == protowire.VarintType:
					r.witnessSeq = v
				}
				return nil
			})
		}
		return nil
	})
}

// decodeLocation parses a Location (sint32 lat_e7 = 1, lon_e7 = 2) into
// lat and lon; a repeated Location merges into the values so far.
func decodeLocation(b []byte, lat, lon *int32) error {
	return protowalk.Fields(b, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
		if typ == protowire.VarintType && (num == 1 || num == 2) {
			x := int32(protowire.DecodeZigZag(v & math.MaxUint32))
			if num == 1 {
				*lat = x
			} else {
				*lon = x
			}
		}
		return nil
	})
}

// knownNames are the measurement names the default scoring knows: a
// reading's name found here is this string, not a new one. Read only.
var knownNames = func() map[string]string {
	names := map[string]string{}
	for _, k := range DefaultScoring().Kinds {
		for name := range k.Measurements {
			names[name] = name
		}
	}
	return names
}()

func (r *record) decodeMeasurement(b []byte) error {
	key, val, err := protowalk.SintEntry(b, knownNames)
	if err != nil {
		return err
	}
	// A protobuf map's repeated key keeps its last value. A reading has a
	// handful of measurements: a scan beats a Go map, which was a fifth of
	// the aggregator's CPU to build for every record.
	for i := range r.measurements {
		if r.measurements[i].Key == key {
			r.measurements[i].Value = val
			return nil
		}
	}
	r.measurements = append(r.measurements, measurement{Key: key, Value: val})
	return nil
}

// measurement is a reading's measurement, as the measurements Map column
// takes it.
type measurement = proto.KV[string, int64]
