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
	store := func(device string, seq uint64, wire uint8, body, sig []byte) {
		t.Helper()
		e(`INSERT INTO readings (device_id, seq, epoch, status, reading_bytes, signature, wire, kafka_topic, kafka_offset)
			VALUES (?, ?, ?, 'valid', ?, ?, ?, 'valid', ?)`, device, seq, uint64(epoch), string(body), string(sig), wire, seq)
	}
	reading := func(device string, seq uint64) *pb.Reading {
		return &pb.Reading{DeviceId: device, Seq: seq, EventTimeMs: 1_795_000_000_000 + int64(seq), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
			Measurements: map[string]int64{"temperature_c": 20_000 + int64(seq)}}
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

	s, err := settler.CheckSignatures(ctx, conn, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if s.Verified != 2 || s.Bad != 3 || s.Unsigned != 1 {
		t.Fatalf("%+v: want 2 verified (v2 #1, v1 #4), 3 bad (altered, another reading's bytes, no key), 1 stored before", s)
	}
	if !strings.HasPrefix(s.FirstBad, "d #2: ") {
		t.Fatalf("first bad %q, want d #2", s.FirstBad)
	}
}
