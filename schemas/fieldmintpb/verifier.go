package fieldmintpb

import "sync/atomic"

// Verifier verifies batches of signatures in chunks sized to the share of
// bad signatures it has seen lately. A chunk is checked in one multi-scalar
// multiplication and, only when it fails, again one signature at a time,
// which costs about as much once more: one bad signature spoils its whole
// chunk. With none bad, a whole batch of 100 is cheapest (13.3 µs a
// signature on the reference machine, chunks of 25 13.8); with 1 bad in
// 200, as in the pipeline bench, 39% of batches of 100 fail and cost 19.4
// µs a signature, chunks of 25 15.8; with 1 in 100, 22.9 against 16.9 in
// chunks of 12 (BenchmarkVerifyChunks). A sender of bad signatures also
// spoils only its chunk's share of other devices' work, not a whole batch.
//
// The zero Verifier is ready; it is safe for concurrent use.
type Verifier struct {
	badPPM atomic.Int64 // bad signatures per million, averaged over about verifierWindow signatures
}

// verifierWindow is how many signatures the bad share is averaged over.
const verifierWindow = 5_000

// Verify is VerifyBatch in chunks: whether all are valid, and which are.
func (v *Verifier) Verify(msgs, sigs [][]byte, keys []*Key) (bool, []bool) {
	n := len(msgs)
	if n == 0 {
		return VerifyBatch(msgs, sigs, keys)
	}
	size := chunkSize(v.badPPM.Load(), n)
	all, valid := true, make([]bool, 0, n)
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		ok, each := VerifyBatch(msgs[lo:hi], sigs[lo:hi], keys[lo:hi])
		all = all && ok
		valid = append(valid, each...)
	}
	bad := 0
	if !all {
		for _, ok := range valid {
			if !ok {
				bad++
			}
		}
	}
	v.observe(bad, n)
	return all, valid
}

// observe moves the bad share toward this batch's, by its weight in the
// window. Concurrent batches may overwrite one another's update: the share
// is a guide to a chunk size, not a count.
func (v *Verifier) observe(bad, n int) {
	n = min(n, verifierWindow)
	r := v.badPPM.Load()
	v.badPPM.Store(r + (int64(bad)*1_000_000/int64(n)-r)*int64(n)/verifierWindow)
}

// chunkSize is the chunk size for a batch of n at a bad share of ppm
// parts per million: the cheapest measured by BenchmarkVerifyChunks.
func chunkSize(ppm int64, n int) int {
	switch {
	case ppm < 500:
		return n
	case ppm < 8_000:
		return 25
	case ppm < 20_000:
		return 16
	default:
		return 8
	}
}
