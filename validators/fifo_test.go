package validators

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The queue holds what a plain slice does under random pushes, expiries at
// the front, undos at the back and compactions, and lets go of what it
// dropped.
func TestFifo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q fifo[*int]
	var want []*int
	for step := range 100_000 {
		switch op := rng.IntN(10); {
		case op < 5:
			v := step
			q.push(&v)
			want = append(want, &v)
		case op < 8 && len(want) > 0:
			q.dropFront()
			want = want[1:]
		case op < 9 && len(want) > 0:
			q.popBack()
			want = want[:len(want)-1]
		default:
			q.compact()
			if q.head > 0 && q.head >= len(q.s)/2 {
				t.Fatalf("step %d: head %d of %d after compact: half or more dropped and not compacted", step, q.head, len(q.s))
			}
		}
		if q.len() != len(want) || (len(want) > 0 && q.front() != want[0]) {
			t.Fatalf("step %d: %d queued, want %d", step, q.len(), len(want))
		}
		if step%997 == 0 && !slices.Equal(q.items(), want) {
			t.Fatalf("step %d: the queue differs from the slice", step)
		}
		// Nothing outside s[head:] is held: dropped entries can be freed.
		for i, p := range q.s[:q.head] {
			if p != nil {
				t.Fatalf("step %d: dropped entry %d still held", step, i)
			}
		}
	}
}

// BenchmarkCloneWindowCommit: a transaction's clone entries added to a
// full window (600,000 entries: 30,000 readings a second kept 20 s, as in
// `bench pipeline`) and the commit expiring as many. One op is one reading.
func BenchmarkCloneWindowCommit(b *testing.B) {
	const window, perTxn = 600_000, 1_600
	x := newCross()
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("ws-%05d", i)
	}
	ms := int64(0)
	add := func() {
		ms++
		x.addClone(uint64(ms)*0x9e3779b97f4a7c15, ids[ms%int64(len(ids))], ms)
	}
	for range window {
		add()
	}
	cloneWindow := time.Duration(window/2) * time.Millisecond // entries are kept twice the window
	x.commit(ms, cloneWindow, time.Minute)
	b.ResetTimer()
	for i := range b.N {
		add()
		if i%perTxn == perTxn-1 {
			x.commit(ms, cloneWindow, time.Minute)
		}
	}
	b.ReportMetric(float64(x.cloneQ.len()), "entries")
}
