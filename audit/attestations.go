package audit

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Attestations is what checking the makers' attestations of an epoch's
// paid devices found.
type Attestations struct {
	Verified   int // attestations that verify under their maker's key
	Unrecorded int // devices whose record predates the registry keeping it
}

// checkAttestations checks the attestation of every device with a valid
// reading in epoch: by a maker of makers.parquet, over the device's key and
// kind as its record (devices.parquet, loaded into conn) has them, under that
// maker's key. A device with no record, or an attestation that does not
// verify, is a difference.
func checkAttestations(ctx context.Context, conn driver.Conn, dir string, epoch uint64, differ func(string, ...any)) (Attestations, error) {
	var out Attestations
	makers, err := readParquet[Maker](dir, MakersFile)
	if err != nil {
		return out, err
	}
	makerKeys := make(map[string]string, len(makers))
	for _, m := range makers {
		makerKeys[m.MakerID] = m.PublicKey
	}
	rows, err := conn.Query(ctx, sqlPaidDevices, epoch)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var d Device
		var recorded bool
		if err := rows.Scan(&d.DeviceID, &recorded, &d.PublicKey, &d.Kind, &d.MakerID, &d.Attestation); err != nil {
			return out, err
		}
		switch {
		case !recorded:
			differ("device %s: valid readings in epoch %d, but no record in %s", d.DeviceID, epoch, DevicesFile)
		case d.Attestation == "":
			out.Unrecorded++
		default:
			if why := attestationFault(d, makerKeys); why != "" {
				differ("device %s: %s", d.DeviceID, why)
				continue
			}
			out.Verified++
		}
	}
	return out, rows.Err()
}

// attestationFault says why d's attestation does not hold, or returns "".
func attestationFault(d Device, makerKeys map[string]string) string {
	makerHex, ok := makerKeys[d.MakerID]
	if !ok {
		return fmt.Sprintf("its maker %q is not in %s", d.MakerID, MakersFile)
	}
	makerPub, err1 := hex.DecodeString(makerHex)
	devicePub, err2 := hex.DecodeString(d.PublicKey)
	sig, err3 := hex.DecodeString(d.Attestation)
	kind, known := pb.ResourceKind_value[d.Kind]
	if err1 != nil || err2 != nil || err3 != nil || !known {
		return "its key, kind, attestation or maker key is malformed"
	}
	a := &pb.Attestation{MakerId: d.MakerID, Signature: sig}
	if pb.VerifyAttestation(a, makerPub, devicePub, pb.ResourceKind(kind)) != nil {
		return fmt.Sprintf("its attestation does not verify under maker %q's key for its key and kind %s", d.MakerID, d.Kind)
	}
	return ""
}
