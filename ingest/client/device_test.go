package client

import (
	"crypto/ed25519"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestDeviceKeepsTheSequence: every reading a Device signs has a higher
// sequence number than the last, verifies under the device key, and a
// restored sequence number goes on from where the saved one stopped.
func TestDeviceKeepsTheSequence(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	before := uint64(time.Now().UnixMicro())
	d := NewDevice("d1", pb.ResourceKind_RESOURCE_KIND_WEATHER, key)
	if d.Seq() < before {
		t.Fatalf("a fresh device starts at %d, below the time in microseconds %d: it could reuse a past run's numbers", d.Seq(), before)
	}
	var last uint64
	for i := range 5 {
		s, err := d.Reading(time.Now(), map[string]int64{"temperature_c": int64(20_000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		seq := decoded(t, s).Seq
		if seq <= last || seq != d.Seq() {
			t.Fatalf("reading %d: seq %d after %d (device says %d)", i, seq, last, d.Seq())
		}
		last = seq
		if err := pb.VerifyV2(s, key.Public().(ed25519.PublicKey)); err != nil {
			t.Fatalf("reading %d does not verify: %v", i, err)
		}
		v1, err := d.ReadingV1(time.Now(), map[string]int64{"temperature_c": int64(20_000 + i)})
		if err != nil || v1.Reading.Seq != seq+1 || pb.Verify(v1, key.Public().(ed25519.PublicKey)) != nil {
			t.Fatalf("v1 reading after seq %d: %v, %v", seq, v1, err)
		}
		last = v1.Reading.Seq
	}
	saved := d.Seq()
	restored := NewDevice("d1", pb.ResourceKind_RESOURCE_KIND_WEATHER, key)
	restored.SetSeq(saved)
	if s, _ := restored.Reading(time.Now(), map[string]int64{"temperature_c": 1}); decoded(t, s).Seq != saved+1 {
		t.Fatalf("after SetSeq(%d) the next reading has seq %d", saved, decoded(t, s).Seq)
	}
}

// decoded is the reading a v2 signed reading carries.
func decoded(t *testing.T, s *pb.SignedReadingV2) *pb.Reading {
	t.Helper()
	r := &pb.Reading{}
	if err := proto.Unmarshal(s.Reading, r); err != nil {
		t.Fatal(err)
	}
	return r
}
