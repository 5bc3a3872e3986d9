package settler

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Signatures is what checking the stored signatures of an epoch's valid
// readings found.
type Signatures struct {
	Verified uint64 // signatures that verify under the device's registered key
	Unsigned uint64 // rows stored before readings kept their signed bytes (wire 0)
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
		var device string
		var seq uint64
		var wire uint8
		var body, sig string
		var hexKey string
		if err := rows.Scan(&device, &seq, &wire, &body, &sig, &hexKey); err != nil {
			return out, err
		}
		name := fmt.Sprintf("%s #%d", device, seq)
		msg, why := signedMessage(device, seq, wire, []byte(body))
		switch {
		case wire == 0:
			out.Unsigned++
			continue
		case why != "":
			out.bad(row, name+": "+why)
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

// signedMessage is what the device signed for a stored row, or why the
// stored bytes are not the row's reading.
func signedMessage(device string, seq uint64, wire uint8, body []byte) ([]byte, string) {
	if wire == 0 {
		return nil, ""
	}
	if wire != 1 && wire != 2 {
		return nil, fmt.Sprintf("unknown wire format %d", wire)
	}
	r := &pb.Reading{}
	if err := proto.Unmarshal(body, r); err != nil {
		return nil, "the stored bytes do not decode: " + err.Error()
	}
	if r.DeviceId != device || r.Seq != seq {
		return nil, fmt.Sprintf("the stored bytes are reading %s #%d", r.DeviceId, r.Seq)
	}
	if wire == 2 {
		return pb.SignedBytesV2(body), ""
	}
	return append([]byte(pb.SigningDomain), body...), "" // v1: the canonical encoding, as stored
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
