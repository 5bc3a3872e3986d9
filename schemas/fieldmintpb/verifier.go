package fieldmintpb

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Verifier verifies the signatures of concurrent callers together, in
// chunks sized to the share of bad signatures it has seen lately.
//
// Together: a batch's multi-scalar multiplication costs less a signature
// the larger it is (a fifth less at 500 than at 100), and a request brings
// only its own batch (100 readings, say). A caller queues its batch and,
// while fewer than parallel verifications run, takes every batch waiting
// (up to maxMerged signatures) and verifies them as one; a caller whose
// batch another took waits for it. Nothing waits for company: batches
// merge when they queue up, which they do once verification has every
// core it may use. With all of ingest's cores it never has them (ingest
// spends a third of its CPU elsewhere), so by default it gets half: on two
// cores `bench ingest` merged 1.1 batches a verification with two and 5
// with one, and did 26% more readings a CPU-second, at the same
// throughput and a lower p99.
//
// Chunks: a chunk that fails is checked again one signature at a time,
// which costs about as much once more, so one bad signature spoils its
// whole chunk. chunkSize picks, from the measured costs, the chunk that is
// cheapest at the recent bad share: whole batches while none are bad,
// smaller chunks as they rise. A sender of bad signatures spoils only its
// chunk's share of other devices' work.
type Verifier struct {
	badPPM atomic.Int64  // bad signatures per million, averaged over about verifierWindow signatures
	slots  chan struct{} // a token per verification running
	mu     sync.Mutex
	queue  []*verifyJob // batches waiting, oldest first
	// What Stats reports.
	verifications, batches, signatures, bad atomic.Int64
}

// VerifierStats counts a Verifier's work since it was made.
type VerifierStats struct {
	Verifications int64   // verifications run, each of one or more callers' batches
	Batches       int64   // callers' batches verified
	Signatures    int64   // signatures verified
	Bad           int64   // of those, the ones that did not verify
	BadShare      float64 // the recent share of bad signatures the chunks are sized by
}

// Stats returns the counts so far.
func (v *Verifier) Stats() VerifierStats {
	return VerifierStats{Verifications: v.verifications.Load(), Batches: v.batches.Load(), Signatures: v.signatures.Load(),
		Bad: v.bad.Load(), BadShare: float64(v.badPPM.Load()) / 1e6}
}

// NewVerifier returns a Verifier that runs at most parallel verifications
// at once (when 0, half of GOMAXPROCS, at least one). It is safe for
// concurrent use.
func NewVerifier(parallel int) *Verifier {
	if parallel <= 0 {
		parallel = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &Verifier{slots: make(chan struct{}, parallel)}
}

const (
	// verifierWindow is how many signatures the bad share is averaged over.
	verifierWindow = 5_000
	// maxMerged bounds the signatures verified as one: a caller whose batch
	// is merged waits for all of them (about 6 ms at 512).
	maxMerged = 512
)

type verifyJob struct {
	msgs, sigs [][]byte
	keys       []*Key
	all        bool
	valid      []bool
	done       chan struct{}
}

// Verify is VerifyBatch, verified with other callers' batches: whether all
// are valid, and which are.
func (v *Verifier) Verify(msgs, sigs [][]byte, keys []*Key) (bool, []bool) {
	if len(msgs) == 0 || len(msgs) != len(keys) || len(sigs) != len(keys) {
		return VerifyBatch(msgs, sigs, keys) // its answer to nothing, or its panic
	}
	j := &verifyJob{msgs: msgs, sigs: sigs, keys: keys, done: make(chan struct{})}
	v.mu.Lock()
	v.queue = append(v.queue, j)
	v.mu.Unlock()
	for {
		select {
		case <-j.done:
			return j.all, j.valid
		default:
		}
		select {
		case <-j.done:
			return j.all, j.valid
		case v.slots <- struct{}{}:
			jobs := v.take()
			if len(jobs) > 0 {
				v.verify(jobs)
			}
			<-v.slots
			if len(jobs) == 0 { // another caller took this batch
				<-j.done
				return j.all, j.valid
			}
		}
	}
}

// take removes the oldest waiting batches, up to maxMerged signatures (at
// least one batch).
func (v *Verifier) take() []*verifyJob {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, sigs := 0, 0
	for n < len(v.queue) && (n == 0 || sigs+len(v.queue[n].msgs) <= maxMerged) {
		sigs += len(v.queue[n].msgs)
		n++
	}
	jobs := v.queue[:n:n]
	v.queue = v.queue[n:]
	return jobs
}

// verify verifies jobs as one set, in chunks, and answers each.
func (v *Verifier) verify(jobs []*verifyJob) {
	msgs, sigs, keys := jobs[0].msgs, jobs[0].sigs, jobs[0].keys
	if len(jobs) > 1 {
		msgs, sigs, keys = nil, nil, nil
		for _, j := range jobs {
			msgs, sigs, keys = append(msgs, j.msgs...), append(sigs, j.sigs...), append(keys, j.keys...)
		}
	}
	n := len(msgs)
	size := chunkSize(v.badPPM.Load(), n)
	valid, bad := make([]bool, 0, n), 0
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		ok, each := VerifyBatch(msgs[lo:hi], sigs[lo:hi], keys[lo:hi])
		valid = append(valid, each...)
		if !ok {
			for _, good := range each {
				if !good {
					bad++
				}
			}
		}
	}
	v.observe(bad, n)
	v.verifications.Add(1)
	v.batches.Add(int64(len(jobs)))
	v.signatures.Add(int64(n))
	v.bad.Add(int64(bad))
	for _, j := range jobs {
		j.valid, valid = valid[:len(j.msgs):len(j.msgs)], valid[len(j.msgs):]
		j.all = true
		for _, good := range j.valid {
			j.all = j.all && good
		}
		close(j.done)
	}
}

// observe moves the bad share toward this set's, by its weight in the
// window. Concurrent verifications may overwrite one another's update: the
// share is a guide to a chunk size, not a count.
func (v *Verifier) observe(bad, n int) {
	n = min(n, verifierWindow)
	r := v.badPPM.Load()
	v.badPPM.Store(r + (int64(bad)*1_000_000/int64(n)-r)*int64(n)/verifierWindow)
}

// batchCost is what a signature costs in a batch of k, relative to a batch
// of 100 (BenchmarkVerifyBatchSizes, one core); failedCost is what each
// signature of a failed chunk costs on top, checked one by one.
var batchCost = []struct{ k, cost int }{{8, 132}, {16, 115}, {25, 112}, {50, 108}, {100, 100}, {200, 88}, {300, 88}, {400, 88}, {512, 85}}

const failedCost = 90 // BenchmarkVerifyChunks/failed

// chunkSize is the chunk size for n signatures at a bad share of ppm per
// million: of the measured sizes up to n, and n itself (at the cost of the
// largest measured size below it), the one whose cost, with the chance
// that a chunk holds a bad signature, is least; the larger on a tie.
// (Floating point sizes chunks; it never decides a verdict.)
func chunkSize(ppm int64, n int) int {
	p := float64(ppm) / 1e6
	spoiled := func(k int) float64 { return (1 - math.Pow(1-p, float64(k))) * failedCost }
	best, least, below := n, math.Inf(1), math.Inf(1)
	for _, c := range batchCost {
		if c.k > n {
			break
		}
		below = float64(c.cost)
		if cost := below + spoiled(c.k); cost <= least {
			best, least = c.k, cost
		}
	}
	if below+spoiled(n) <= least {
		return n
	}
	return best
}
