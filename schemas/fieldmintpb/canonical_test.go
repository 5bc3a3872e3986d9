package fieldmintpb

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"
)

// vectorReading is the reading of the published test vector
// (docs/wire-format.md).
func vectorReading() *Reading {
	return &Reading{
		DeviceId:     "d1",
		Seq:          7,
		EventTimeMs:  1700000000000,
		Kind:         ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temp": 21500, "hum": -1},
		Location:     &Location{LatE7: 1, LonE7: -1},
	}
}

// handAssembled is vectorReading's canonical bytes, assembled here field by
// field from the protobuf encoding rules.
func handAssembled() []byte {
	want := []byte(SigningDomain)
	want = append(want, 0x0a, 2, 'd', '1') // 1: device_id
	want = append(want, 0x10, 7)           // 2: seq
	// 3: event_time_ms varint 1700000000000
	want = append(want, 0x18, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31)
	want = append(want, 0x20, 2) // 4: kind
	// 5: map entries sorted by key: "hum" -> zigzag(-1)=1, "temp" -> zigzag(21500)=43000
	want = append(want, 0x2a, 7, 0x0a, 3, 'h', 'u', 'm', 0x10, 1)
	want = append(want, 0x2a, 10, 0x0a, 4, 't', 'e', 'm', 'p', 0x10, 0xf8, 0xcf, 0x02)
	want = append(want, 0x32, 4, 0x08, 2, 0x10, 1) // 6: location, zigzag(1)=2, zigzag(-1)=1
	return want
}

// The canonical bytes are checked against a hand-assembled protobuf encoding,
// so that firmware in any language can reproduce them.
func TestCanonicalBytesVector(t *testing.T) {
	got, err := CanonicalBytes(vectorReading())
	if err != nil {
		t.Fatal(err)
	}
	if want := handAssembled(); !bytes.Equal(got, want) {
		t.Fatalf("canonical bytes\n got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(want))
	}
}

func TestSignVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	r := &Reading{DeviceId: "d1", Seq: 1, EventTimeMs: 1, Kind: ResourceKind_RESOURCE_KIND_ENERGY}
	s, err := Sign(r, priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(s, pub); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	if err := Verify(s, otherPub); err == nil {
		t.Fatal("signature verified under another key")
	}
	s.Reading.Seq = 2
	if err := Verify(s, pub); err == nil {
		t.Fatal("signature verified after the reading changed")
	}
	s.Signature = s.Signature[:10]
	if err := Verify(s, pub); err == nil {
		t.Fatal("truncated signature verified")
	}
}
