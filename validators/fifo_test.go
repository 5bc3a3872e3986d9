package validators

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The queue holds what a plain slice does under random pushes, expiries at
// the front and undos at the back, across its blocks' edges, and lets go of
// what it dropped.
func TestFifo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var q fifo[*int]
	var want []*int
	most, emptied := 0, 0
	for step := range 600_000 {
		// Phases that grow, shrink from the front and shrink from the back
		// (pushes, drops and pops in tenths), so that the queue spans many
		// blocks and empties now and then.
		mix := [3][2]int{{7, 9}, {3, 9}, {3, 4}}[step/100_000%3]
		switch op := rng.IntN(10); {
		case op < mix[0]:
			v := step
			q.push(&v)
			want = append(want, &v)
		case op < mix[1] && len(want) > 0:
			q.dropFront()
			want = want[1:]
		case len(want) > 0:
			q.popBack()
			want = want[:len(want)-1]
		}
		most = max(most, len(q.blocks))
		if len(want) == 0 {
			emptied++
		}
		if q.len() != len(want) || (len(want) > 0 && q.front() != want[0]) {
			t.Fatalf("step %d: %d queued, want %d", step, q.len(), len(want))
		}
		if step%997 == 0 && !slices.Equal(q.items(), want) {
			t.Fatalf("step %d: the queue differs from the slice", step)
		}
		if step%101 != 0 {
			continue
		}
		// Nothing dropped is held: dropped entries can be freed.
		held := q.spare[:cap(q.spare)]
		if len(q.blocks) > 0 {
			held = append(slices.Clone(held), q.blocks[0][:q.head]...)
		}
		for i, p := range held {
			if p != nil {
				t.Fatalf("step %d: dropped entry %d still held", step, i)
			}
		}
		for i, b := range q.blocks {
			if cap(b) != fifoBlock || (i < len(q.blocks)-1 && len(b) != fifoBlock) || len(b) == 0 {
				t.Fatalf("step %d: block %d of %d holds %d of %d", step, i, len(q.blocks), len(b), cap(b))
			}
		}
	}
	if most < 8 || emptied < 2 {
		t.Fatalf("the queue spanned at most %d blocks and was empty %d times: the test missed the blocks' edges", most, emptied)
	}
}

// BenchmarkCloneWindowFill: the clone window filling from empty, as after
// a validator's start or takeover (two million entries: 34,000 readings a
// second kept twice the 30 s window). One op is one reading.
func BenchmarkCloneWindowFill(b *testing.B) {
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("ws-%05d", i)
	}
	var x *cross
	for i := range b.N {
		if i%2_000_000 == 0 {
			x = newCross()
		}
		x.addClone(uint64(i)*0x9e3779b97f4a7c15, ids[i%len(ids)], int64(i))
		if i%1_600 == 1_599 {
			x.commit(int64(i), time.Hour, time.Minute) // nothing expires yet
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
