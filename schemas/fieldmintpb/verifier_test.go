package fieldmintpb

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

// TestVerifierAgrees holds the Verifier's verdicts to VerifyBatch's over
// batches of many sizes, at every chunk size it picks.
func TestVerifierAgrees(t *testing.T) {
	rs, pubs := signedBatch(t, 130)
	keys := expand(t, pubs)
	msgs, sigs := v1Signed(rs)
	r := rand.New(rand.NewPCG(7, 8))
	for _, ppm := range []int64{0, 1_000, 10_000, 50_000, 300_000} {
		for _, n := range []int{0, 1, 7, 8, 16, 25, 26, 99, 130} {
			bad, nbad := spoiled(r, sigs[:n], 0.05)
			v := NewVerifier(0)
			v.badPPM.Store(ppm)
			all, each := v.Verify(msgs[:n], bad, keys[:n])
			wantAll, want := VerifyBatch(msgs[:n], bad, keys[:n])
			if all != wantAll || !slices.Equal(each, want) || (n > 0 && all != (nbad == 0)) {
				t.Fatalf("share %d ppm, batch of %d with %d broken: Verifier says %v %v, VerifyBatch %v %v", ppm, n, nbad, all, each, wantAll, want)
			}
		}
	}
}

// TestVerifierMerges: callers at once, more than the verifications allowed
// to run, get their own verdicts when their batches are verified together.
func TestVerifierMerges(t *testing.T) {
	rs, pubs := signedBatch(t, 60)
	keys := expand(t, pubs)
	msgs, sigs := v1Signed(rs)
	v := NewVerifier(1)
	var wg sync.WaitGroup
	var sent, broken atomic.Int64
	errs := make(chan error, 400)
	for c := range 16 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), 3))
			for range 25 {
				n := 1 + r.IntN(len(msgs))
				bad, nbad := spoiled(r, sigs[:n], 0.03)
				sent.Add(int64(n))
				broken.Add(int64(nbad))
				all, each := v.Verify(msgs[:n], bad, keys[:n])
				if wantAll, want := VerifyBatch(msgs[:n], bad, keys[:n]); all != wantAll || !slices.Equal(each, want) {
					errs <- fmt.Errorf("a batch of %d: Verifier says %v %v, VerifyBatch %v %v", n, all, each, wantAll, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := v.Stats()
	if st.Batches != 16*25 || st.Verifications >= st.Batches || st.Signatures != sent.Load() || st.Bad != broken.Load() {
		t.Fatalf("16 callers, 25 batches each, one verification at a time: %+v; want every batch counted and some verified with another's", st)
	}
}

// TestVerifierFollowsBadShare: clean batches verify whole; a run of bad
// signatures shrinks the chunks, the more the more are bad; clean batches
// bring the whole batch back.
func TestVerifierFollowsBadShare(t *testing.T) {
	rs, pubs := signedBatch(t, 100)
	keys := expand(t, pubs)
	msgs, sigs := v1Signed(rs)
	r := rand.New(rand.NewPCG(1, 2))
	v := NewVerifier(0)
	feed := func(p float64, batches int) int {
		for range batches {
			bad, _ := spoiled(r, sigs, p)
			v.Verify(msgs, bad, keys)
		}
		return chunkSize(v.badPPM.Load(), len(msgs))
	}
	for _, step := range []struct {
		p        float64
		batches  int
		min, max int
	}{{0, 50, 100, 100}, {0.005, 300, 16, 50}, {0.1, 100, 1, 16}, {0, 300, 100, 100}} {
		if got := feed(step.p, step.batches); got < step.min || got > step.max {
			t.Fatalf("after %d batches with a share %v broken: chunks of %d (share %d ppm), want %d to %d", step.batches, step.p, got, v.badPPM.Load(), step.min, step.max)
		}
	}
}

// TestChunkSize: whole batches when nothing is bad, never larger chunks
// for a larger bad share up to 1 in 20 (beyond that nearly every chunk
// fails whatever its size, and fewer, larger ones cost less), and small
// batches whole.
func TestChunkSize(t *testing.T) {
	for _, n := range []int{1, 7, 8, 99, 100, 150, 512, 2000} {
		if got := chunkSize(0, n); got != n {
			t.Errorf("nothing bad, %d signatures: chunks of %d", n, got)
		}
		last := n
		for ppm := int64(0); ppm <= 50_000; ppm += 500 {
			got := chunkSize(ppm, n)
			if got > last || got < 1 || got > n {
				t.Fatalf("%d signatures at %d ppm bad: chunks of %d after %d at a smaller share", n, ppm, got, last)
			}
			last = got
		}
	}
	if got := chunkSize(1_000_000, 6); got != 6 {
		t.Errorf("6 signatures, all bad: chunks of %d; no smaller size is measured", got)
	}
}

// BenchmarkVerifyBatchSizes measures a signature's cost in a batch of each
// size: batchCost's figures.
func BenchmarkVerifyBatchSizes(b *testing.B) {
	rs, pubs := signedBatch(b, 512)
	keys := expand(b, pubs)
	msgs, sigs := v1Signed(rs)
	for _, c := range batchCost {
		b.Run(fmt.Sprint(c.k), func(b *testing.B) {
			n := 0
			for b.Loop() {
				VerifyBatch(msgs[:c.k], sigs[:c.k], keys[:c.k])
				n += c.k
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n)/1000, "µs/signature")
		})
	}
}

// BenchmarkVerifyChunks measures a batch of 100 verified in chunks of each
// size, and by a Verifier, with signatures broken at several rates; with
// "failed", what a failed batch of 100 costs a signature (failedCost).
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
				v, n := NewVerifier(1), 0
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
	b.Run("failed", func(b *testing.B) {
		bad := slices.Clone(sigs)
		bad[50] = slices.Clone(bad[50])
		bad[50][3] ^= 1
		for b.Loop() {
			VerifyBatch(msgs, bad, keys)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/signature")
	})
}

// BenchmarkVerifierConcurrent: 16 callers at once with batches of 100, as
// ingest's requests are, verified by a Verifier running a verification on
// every core (merged) or each alone.
func BenchmarkVerifierConcurrent(b *testing.B) {
	rs, pubs := signedBatch(b, 100)
	keys := expand(b, pubs)
	msgs, sigs := v1Signed(rs)
	for _, merged := range []bool{false, true} {
		b.Run(fmt.Sprintf("merged=%v", merged), func(b *testing.B) {
			v := NewVerifier(runtime.GOMAXPROCS(0))
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if merged {
						v.Verify(msgs, sigs, keys)
					} else {
						VerifyBatch(msgs, sigs, keys)
					}
				}
			})
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(msgs)), "µs/signature")
		})
	}
}
