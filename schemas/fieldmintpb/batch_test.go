package fieldmintpb

import (
	"crypto/ed25519"
	"fmt"
	"testing"
)

func signedBatch(t testing.TB, n int) ([]*SignedReading, []ed25519.PublicKey) {
	keys := make([]ed25519.PrivateKey, 10)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
	}
	rs := make([]*SignedReading, n)
	pubs := make([]ed25519.PublicKey, n)
	for i := range rs {
		k := keys[i%len(keys)]
		s, err := Sign(&Reading{DeviceId: fmt.Sprintf("d%d", i%len(keys)), Seq: uint64(i + 1), EventTimeMs: 1_700_000_000_000 + int64(i),
			Kind: ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": int64(20_000 + i)}}, k)
		if err != nil {
			t.Fatal(err)
		}
		rs[i], pubs[i] = s, k.Public().(ed25519.PublicKey)
	}
	return rs, pubs
}

func TestVerifyBatch(t *testing.T) {
	rs, pubs := signedBatch(t, 100)
	if bad, err := VerifyBatch(rs, pubs); bad != -1 || err != nil {
		t.Fatalf("a valid batch: first bad %d, %v", bad, err)
	}
	rs[37].Signature[5] ^= 1
	if bad, err := VerifyBatch(rs, pubs); bad != 37 || err != nil {
		t.Fatalf("a corrupted signature at 37: first bad %d, %v", bad, err)
	}
	rs[37].Signature[5] ^= 1
	pubs[5], pubs[6] = pubs[6], pubs[5] // readings 5 and 6 come from different devices
	if bad, err := VerifyBatch(rs, pubs); bad != 5 || err != nil {
		t.Fatalf("the wrong key for reading 5: first bad %d, %v", bad, err)
	}
	pubs[5], pubs[6] = pubs[6], pubs[5]
	rs[80].Reading.Seq++ // signed content changed after signing
	if bad, err := VerifyBatch(rs, pubs); bad != 80 || err != nil {
		t.Fatalf("a reading changed after signing at 80: first bad %d, %v", bad, err)
	}
	if _, err := VerifyBatch(rs, pubs[:3]); err == nil {
		t.Fatal("mismatched keys accepted")
	}
}

// BenchmarkVerify compares verifying a batch of 1000 signed readings one by
// one (the standard library) and as a batch (ed25519consensus).
func BenchmarkVerify(b *testing.B) {
	rs, pubs := signedBatch(b, 1000)
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			for i, r := range rs {
				msg, _ := CanonicalBytes(r.Reading)
				if !ed25519.Verify(pubs[i], msg, r.Signature) {
					b.Fatal("bad")
				}
			}
		}
		b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "readings/s")
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			if bad, err := VerifyBatch(rs, pubs); bad != -1 || err != nil {
				b.Fatal(bad, err)
			}
		}
		b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "readings/s")
	})
}
