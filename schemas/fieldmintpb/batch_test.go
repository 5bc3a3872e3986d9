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

func expand(t testing.TB, pubs []ed25519.PublicKey) []*Key {
	out := make([]*Key, len(pubs))
	for i, p := range pubs {
		k, err := ExpandKey(p)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = k
	}
	return out
}

// v1Signed returns what each v1 reading's signature covers, and the signatures.
func v1Signed(rs []*SignedReading) (msgs, sigs [][]byte) {
	for _, r := range rs {
		msg, _ := CanonicalBytes(r.GetReading())
		msgs, sigs = append(msgs, msg), append(sigs, r.GetSignature())
	}
	return msgs, sigs
}

// bad lists the readings VerifyBatch finds invalid; it fails the test when
// the batch verdict disagrees with the per-reading one.
func bad(t testing.TB, rs []*SignedReading, keys []*Key) []int {
	t.Helper()
	msgs, sigs := v1Signed(rs)
	all, valid := VerifyBatch(msgs, sigs, keys)
	var out []int
	for i, ok := range valid {
		if !ok {
			out = append(out, i)
		}
		if (Verify(rs[i], ed25519.PublicKey(keyBytes(keys[i]))) == nil) != ok {
			t.Fatalf("reading %d: batch says valid=%v, single verification disagrees", i, ok)
		}
	}
	if all != (len(out) == 0) {
		t.Fatalf("batch verdict %v with invalid readings %v", all, out)
	}
	return out
}

func keyBytes(k *Key) []byte {
	if k == nil {
		return nil
	}
	y := k.CompressedY()
	return y[:]
}

func TestVerifyBatch(t *testing.T) {
	rs, pubs := signedBatch(t, 100)
	keys := expand(t, pubs)
	if got := bad(t, rs, keys); got != nil {
		t.Fatalf("a valid batch: bad %v", got)
	}
	rs[37].Signature[5] ^= 1
	rs[90].Signature[60] ^= 1
	if got := bad(t, rs, keys); fmt.Sprint(got) != "[37 90]" {
		t.Fatalf("corrupted signatures at 37 and 90: bad %v", got)
	}
	rs[37].Signature[5] ^= 1
	rs[90].Signature[60] ^= 1
	keys[5], keys[6] = keys[6], keys[5] // readings 5 and 6 come from different devices
	if got := bad(t, rs, keys); fmt.Sprint(got) != "[5 6]" {
		t.Fatalf("swapped keys of 5 and 6: bad %v", got)
	}
	keys[5], keys[6] = keys[6], keys[5]
	rs[80].Reading.Seq++ // signed content changed after signing
	keys[3] = nil        // an unknown key
	if got := bad(t, rs, keys); fmt.Sprint(got) != "[3 80]" {
		t.Fatalf("changed reading at 80, no key for 3: bad %v", got)
	}
}

// BenchmarkVerify compares verifying a batch of 1000 signed readings one by
// one (the standard library) and as a batch (curve25519-voi, keys expanded
// once as the registry does).
func BenchmarkVerify(b *testing.B) {
	rs, pubs := signedBatch(b, 1000)
	keys := expand(b, pubs)
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
		msgs, sigs := v1Signed(rs)
		for b.Loop() {
			if all, _ := VerifyBatch(msgs, sigs, keys); !all {
				b.Fatal("bad")
			}
		}
		b.ReportMetric(float64(len(rs)*b.N)/b.Elapsed().Seconds(), "readings/s")
	})
}
