package settler

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Signatures is what checking the stored signatures of an epoch's valid
// readings found.
type Signatures struct {
	Verified uint64 // signatures that verify under the device's registered key
	Unsigned uint64 // rows stored before readings kept their signed bytes (wire 0)
	// Rows a LoRaWAN network server vouched for (wire 3): no device
	// signature, but their bytes were checked to be the row's reading.
	Trusted  uint64
	Bad      uint64 // signatures that do not verify, or bytes that are not the row's reading
	FirstBad string // the first bad one in (device, seq) order, for people
	firstAt  int    // its row
}

// CheckSignatures verifies the signature of every valid reading of epoch
// from ClickHouse alone: the stored bytes under the domain of their wire
// format, against the device's registered key, and that the bytes are the
// reading the row says (device and sequence number).
func CheckSignatures(ctx context.Context, conn driver.Conn, epoch uint64) (Signatures, error) {
	var out Signatures
	rows, err := conn.Query(ctx, sqlSignedReadings, epoch)
	if err != nil {
		return out, fmt.Errorf("verify: read epoch %d's signed readings: %w", epoch, err)
	}
	defer rows.Close()
	const batch = 4096
	var msgs, sigs [][]byte
	var keys []*pb.Key
	var names []string
	var at []int // the rows in the batch
	row := -1
	flush := func() {
		if len(msgs) == 0 {
			return
		}
		_, each := pb.VerifyBatch(msgs, sigs, keys)
		for i, ok := range each {
			if ok {
				out.Verified++
			} else {
				out.bad(at[i], names[i]+": the signature does not verify under its device's key")
			}
		}
		msgs, sigs, keys, names, at = msgs[:0], sigs[:0], keys[:0], names[:0], at[:0]
	}
	for rows.Next() {
		row++
		var sr storedReading
		var body, sig, hexKey string
		if err := rows.Scan(&sr.device, &sr.seq, &sr.wire, &body, &sig, &hexKey,
			&sr.eventMs, &sr.kind, &sr.measurements, &sr.lat, &sr.lon, &sr.witnessOf, &sr.witnessSeq); err != nil {
			return out, err
		}
		wire, name := sr.wire, fmt.Sprintf("%s #%d", sr.device, sr.seq)
		msg, why := signedMessage(sr, []byte(body))
		switch {
		case wire == 0:
			out.Unsigned++
			continue
		case why != "":
			out.bad(row, name+": "+why)
			continue
		case wire == 3:
			out.Trusted++
			continue
		}
		key, err := deviceKey(hexKey)
		if err != nil {
			out.bad(row, name+": "+err.Error())
			continue
		}
		msgs, sigs, keys, names, at = append(msgs, msg), append(sigs, []byte(sig)), append(keys, key), append(names, name), append(at, row)
		if len(msgs) == batch {
			flush()
		}
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	flush()
	return out, nil
}

func (s *Signatures) bad(row int, why string) {
	if s.Bad == 0 || row < s.firstAt {
		s.FirstBad, s.firstAt = why, row
	}
	s.Bad++
}

// storedReading is what a stored row says of its reading.
type storedReading struct {
	device       string
	seq          uint64
	wire         uint8
	eventMs      int64
	kind         string
	measurements map[string]int64
	lat, lon     int32
	witnessOf    string
	witnessSeq   uint64
}

// signedMessage is what the device signed for a stored row, or why the
// stored bytes are not the row's reading: every column the scores read
// (time, kind, measurements, position, witness) must be what the signed
// bytes say, so that a row edited after the fact cannot pass on the
// strength of bytes it no longer matches.
func signedMessage(row storedReading, body []byte) ([]byte, string) {
	if row.wire == 0 {
		return nil, ""
	}
	if row.wire < 1 || row.wire > 3 {
		return nil, fmt.Sprintf("unknown wire format %d", row.wire)
	}
	r := &pb.Reading{}
	if err := proto.Unmarshal(body, r); err != nil {
		return nil, "the stored bytes do not decode: " + err.Error()
	}
	if r.DeviceId != row.device || r.Seq != row.seq {
		return nil, fmt.Sprintf("the stored bytes are reading %s #%d", r.DeviceId, r.Seq)
	}
	if why := sameReading(r, row); why != "" {
		return nil, "column " + why + " does not match the signed bytes"
	}
	switch row.wire {
	case 2:
		return pb.SignedBytesV2(body), ""
	case 3:
		return nil, "" // trusted by its network server: nothing signed
	}
	return append([]byte(pb.SigningDomain), body...), "" // v1: the canonical encoding, as stored
}

// sameReading names the first column of row (as readings names it) that is not what r says, or
// returns "". A reading without a position is stored at its device's
// asserted one, which the bytes do not hold.
func sameReading(r *pb.Reading, row storedReading) string {
	switch {
	case r.EventTimeMs != row.eventMs:
		return "event_time"
	case r.Kind.String() != row.kind:
		return "kind"
	case !maps.Equal(r.Measurements, row.measurements) && len(r.Measurements)+len(row.measurements) > 0:
		return "measurements"
	case r.Location != nil && (r.Location.LatE7 != row.lat || r.Location.LonE7 != row.lon):
		return "lat_e7/lon_e7"
	case r.GetWitness().GetBeaconDeviceId() != row.witnessOf || r.GetWitness().GetBeaconSeq() != row.witnessSeq:
		return "witness_of/witness_seq"
	}
	return ""
}

// deviceKey is a device's registered key as devices stores it (hex).
func deviceKey(hexKey string) (*pb.Key, error) {
	if hexKey == "" {
		return nil, errors.New("its device is not in the registry")
	}
	raw, err := hex.DecodeString(hexKey)
	if err != nil {
		return nil, fmt.Errorf("its device's registered key is not hex: %w", err)
	}
	return pb.ExpandKey(raw)
}
