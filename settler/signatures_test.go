package settler_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/settler"
)

// TestStoredSignaturesVerify: a stored reading's signature verifies from
// ClickHouse alone (the bytes, the signature, the device's registered key),
// in both wire formats; a row whose bytes or signature were altered, whose
// bytes are another reading, or whose device has no key, is bad, and a row
// stored before readings kept their bytes is counted apart.
func TestStoredSignaturesVerify(t *testing.T) {
	conn, _ := testenv.ClickHouseConn(t)
	ctx := context.Background()
	pub, key, _ := ed25519.GenerateKey(nil)
	e := func(q string, args ...any) {
		t.Helper()
		if err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	e("INSERT INTO devices (device_id, public_key, kafka_offset) VALUES ('d', ?, 1)", fmt.Sprintf("%x", pub))
	const epoch = 7
	reading := func(device string, seq uint64) *pb.Reading {
		return &pb.Reading{DeviceId: device, Seq: seq, EventTimeMs: 1_795_000_000_000 + int64(seq), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
			Measurements: map[string]int64{"temperature_c": 20_000 + int64(seq)}, Location: &pb.Location{LatE7: 525_200_000, LonE7: 134_050_000}}
	}
	// A row as the aggregator stores it: the reading's columns and its bytes.
	store := func(device string, seq uint64, wire uint8, body, sig []byte) {
		t.Helper()
		r := reading(device, seq)
		e(`INSERT INTO readings (device_id, seq, event_time, epoch, kind, measurements, lat_e7, lon_e7, status, reading_bytes, signature, wire, kafka_topic, kafka_offset)
			VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, 'valid', ?, ?, ?, 'valid', ?)`, device, seq, r.EventTimeMs, uint64(epoch), r.Kind.String(),
			r.Measurements, r.Location.LatE7, r.Location.LonE7, string(body), string(sig), wire, seq)
	}
	// Wire format v2: the bytes as sent, and their signature.
	for seq := uint64(1); seq <= 3; seq++ {
		s, err := pb.SignV2(reading("d", seq), key)
		if err != nil {
			t.Fatal(err)
		}
		body, sig := s.Reading, s.Signature
		switch seq {
		case 2: // one byte of the stored reading altered
			body = append([]byte{}, body...)
			body[len(body)-1] ^= 1
		case 3: // the signed bytes of reading 1 stored as reading 3
			one, _ := pb.SignV2(reading("d", 1), key)
			body, sig = one.Reading, one.Signature
		}
		store("d", seq, 2, body, sig)
	}
	// Wire format v1: the canonical encoding, signed under the v1 domain.
	v1, err := pb.Sign(reading("d", 4), key)
	if err != nil {
		t.Fatal(err)
	}
	canonical, _ := proto.MarshalOptions{Deterministic: true}.Marshal(v1.Reading)
	store("d", 4, 1, canonical, v1.Signature)
	// A device nobody registered, and a row from before the bytes were kept.
	ghost, _ := pb.SignV2(reading("ghost", 1), key)
	store("ghost", 1, 2, ghost.Reading, ghost.Signature)
	store("d", 5, 0, nil, nil)
	// Its bytes and signature intact, but a column edited after the fact.
	six, _ := pb.SignV2(reading("d", 6), key)
	store("d", 6, 2, six.Reading, six.Signature)
	e("ALTER TABLE readings UPDATE measurements = map('temperature_c', 99000) WHERE device_id = 'd' AND seq = 6 SETTINGS mutations_sync = 1")

	s, err := settler.CheckSignatures(ctx, conn, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if s.Verified != 2 || s.Bad != 4 || s.Unsigned != 1 {
		t.Fatalf("%+v: want 2 verified (v2 #1, v1 #4), 4 bad (altered, another reading's bytes, no key, an edited column), 1 stored before", s)
	}
	if !strings.HasPrefix(s.FirstBad, "d #2: ") {
		t.Fatalf("first bad %q, want d #2", s.FirstBad)
	}
	// With the others gone, the edited row is named, with its column.
	e("ALTER TABLE readings DELETE WHERE seq IN (2, 3) OR device_id = 'ghost' SETTINGS mutations_sync = 1")
	if s, err = settler.CheckSignatures(ctx, conn, epoch); err != nil || s.Bad != 1 || s.FirstBad != "d #6: column measurements does not match the signed bytes" {
		t.Fatalf("%+v, %v: want d #6 named for its measurements", s, err)
	}
}
