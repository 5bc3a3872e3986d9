package fieldmintpb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// spoiled returns copies of sigs with each broken at rate p (seeded), and
// how many were broken.
func spoiled(r *rand.Rand, sigs [][]byte, p float64) ([][]byte, int) {
	out, n := slices.Clone(sigs), 0
	for i := range out {
		if r.Float64() < p {
			out[i] = slices.Clone(out[i])
			out[i][3] ^= 1
			n++
		}
	}
	return out, n
}

// TestVerifierAgrees holds the chunked verdicts to VerifyBatch's over
// batches of many sizes, at every chunk size the Verifier picks.
func TestVerifierAgrees(t *testing.T) {
	rs, pubs := signedBatch(t, 130)
	keys := expand(t, pubs)
	msgs, sigs := v1Signed(rs)
	r := rand.New(rand.NewPCG(7, 8))
	for _, ppm := range []int64{0, 1_000, 10_000, 50_000} {
		for _, n := range []int{0, 1, 7, 8, 16, 25, 26, 99, 130} {
			bad, nbad := spoiled(r, sigs[:n], 0.05)
			var v Verifier
			v.badPPM.Store(ppm)
			all, each := v.Verify(msgs[:n], bad, keys[:n])
			wantAll, want := VerifyBatch(msgs[:n], bad, keys[:n])
			if all != wantAll || !slices.Equal(each, want) || (n > 0 && all != (nbad == 0)) {
				t.Fatalf("share %d ppm, batch of %d with %d broken: Verifier says %v %v, VerifyBatch %v %v", ppm, n, nbad, all, each, wantAll, want)
			}
		}
	}
}

// TestVerifierFollowsBadShare: clean batches verify whole; a run of bad
// signatures shrinks the chunks, as far as the share calls for; clean
// batches bring the whole batch back.
func TestVerifierFollowsBadShare(t *testing.T) {
	rs, pubs := signedBatch(t, 100)
	keys := expand(t, pubs)
	msgs, sigs := v1Signed(rs)
	r := rand.New(rand.NewPCG(1, 2))
	var v Verifier
	feed := func(p float64, batches int) int {
		for range batches {
			bad, _ := spoiled(r, sigs, p)
			v.Verify(msgs, bad, keys)
		}
		return chunkSize(v.badPPM.Load(), len(msgs))
	}
	for _, step := range []struct {
		p       float64
		batches int
		want    int
	}{{0, 50, 100}, {0.005, 300, 25}, {0.012, 300, 16}, {0.1, 100, 8}, {0, 300, 100}} {
		if got := feed(step.p, step.batches); got != step.want {
			t.Fatalf("after %d batches with a share %v broken: chunks of %d (share %d ppm), want %d", step.batches, step.p, got, v.badPPM.Load(), step.want)
		}
	}
}

// BenchmarkVerifyChunks measures a batch of 100 verified in chunks of each
// size, and by the Verifier, with signatures broken at several rates: the
// figures chunkSize's steps come from.
func BenchmarkVerifyChunks(b *testing.B) {
	rs, pubs := signedBatch(b, 100)
	keys := expand(b, pubs)
	msgs, sigs := v1Signed(rs)
	for _, p := range []float64{0, 0.002, 0.005, 0.01, 0.05} {
		r := rand.New(rand.NewPCG(1, 2))
		batches := make([][][]byte, 256)
		for i := range batches {
			batches[i], _ = spoiled(r, sigs, p)
		}
		for _, size := range []int{0, 100, 50, 25, 16, 8} {
			name := fmt.Sprintf("bad=%v/chunk=%d", p, size)
			if size == 0 {
				name = fmt.Sprintf("bad=%v/verifier", p)
			}
			b.Run(name, func(b *testing.B) {
				var v Verifier
				n := 0
				for b.Loop() {
					s := batches[n%len(batches)]
					if size == 0 {
						v.Verify(msgs, s, keys)
					}
					for lo := 0; size > 0 && lo < len(s); lo += size {
						hi := min(lo+size, len(s))
						VerifyBatch(msgs[lo:hi], s[lo:hi], keys[lo:hi])
					}
					n++
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n*len(msgs)), "µs/signature")
			})
		}
	}
}
