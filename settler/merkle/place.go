package merkle

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// placeBits is how many leading bits of a leaf's hash choose its bucket.
const placeBits = 12

// placeLeaves puts the leaves, given by hash in value order, into the tree
// in hash order (sorted leaf s at node 2n-2-s; equal leaves, a value given
// twice, in the order given, as in OpenZeppelin's library) and records each
// value's node in index. leaves must not overlap nodes[n-1:].
//
// A bucket sort on every CPU: Keccak hashes are uniform, so their first 12
// bits cut the leaves into 4,096 buckets of about n/4,096. Each worker counts
// its share of the leaves by bucket and scatters a 16-byte entry for each
// (the hash's first 8 bytes, the value's index) to its bucket's place; then
// each sorts and places a contiguous range of buckets. Sorting a part on
// each CPU and merging the parts, as before, left the merge to one CPU, a
// fifth of building a tree of 200k leaves, and moved 40-byte entries.
func placeLeaves(leaves, nodes []common.Hash, index []int) {
	n := len(leaves)
	const buckets = 1 << placeBits
	workers := workersFor(n)
	share := func(w int) (int, int) { return w * n / workers, (w + 1) * n / workers }
	keyOf := func(i int) uint64 { return binary.BigEndian.Uint64(leaves[i][:8]) }
	bucketOf := func(key uint64) int { return int(key >> (64 - placeBits)) }
	type entry struct {
		key  uint64 // the hash's first 8 bytes, big-endian: its order
		orig int
	}
	byHash := func(a, b entry) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		if c := bytes.Compare(leaves[a.orig][8:], leaves[b.orig][8:]); c != 0 {
			return c
		}
		return cmp.Compare(a.orig, b.orig)
	}

	next := make([][buckets]int, workers) // counts, then where a worker's next leaf of each bucket goes
	run(workers, func(w int) {
		from, to := share(w)
		for i := from; i < to; i++ {
			next[w][bucketOf(keyOf(i))]++
		}
	})
	var starts [buckets + 1]int
	at := 0
	for b := range buckets {
		starts[b] = at
		for w := range workers {
			at, next[w][b] = at+next[w][b], at
		}
	}
	starts[buckets] = n
	sorted := make([]entry, n)
	run(workers, func(w int) {
		from, to := share(w)
		for i := from; i < to; i++ {
			key := keyOf(i)
			b := bucketOf(key)
			sorted[next[w][b]] = entry{key, i}
			next[w][b]++
		}
	})
	run(workers, func(w int) {
		for b := w * buckets / workers; b < (w+1)*buckets/workers; b++ {
			bucket := sorted[starts[b]:starts[b+1]]
			slices.SortFunc(bucket, byHash)
			for j, e := range bucket {
				idx := 2*n - 2 - (starts[b] + j)
				nodes[idx] = leaves[e.orig]
				index[e.orig] = idx
			}
		}
	})
}
