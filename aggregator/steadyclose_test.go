package aggregator

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestEpochsCloseUnderSteadyRejections: while validators keep deciding
// rejections, the rejected topic always holds records the aggregator has
// not stored yet. An epoch whose valid readings are all in must still close
// (once the rejections decided by then are stored), not wait for the stream
// to stop: under a steady stream it would never close.
func TestEpochsCloseUnderSteadyRejections(t *testing.T) {
	e := newEnv(t)
	e.cfg.BatchSize = 500                                                       // the production default's order: the aggregator keeps up with the stream below
	base := time.Now().Truncate(10 * time.Second).Add(-time.Minute).UnixMilli() // start of an epoch
	epoch := uint64(base / 10_000)
	e.start(t)
	for p := range int32(2) {
		e.sendValid(t, p, fmt.Sprintf("d%d", p), 1, base+1_000)
	}
	// The stream of rejections (of the next epoch, 200 a second) never
	// pauses for longer than it takes the aggregator to store a block.
	var sent atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for seq := uint64(1); ctx.Err() == nil; seq++ {
			e.sendRejected(t, int32(seq%2), "cheat", seq, base+12_000, "OUT_OF_RANGE")
			sent.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, func() error {
		if sent.Load() < 100 {
			return fmt.Errorf("%d rejections sent", sent.Load())
		}
		return nil
	})
	// The valid readings move past the epoch's end plus lateness.
	for p := range int32(2) {
		e.sendValid(t, p, fmt.Sprintf("d%d", p), 2, base+12_000)
	}
	before := sent.Load()
	e.waitCount(t, 1, "SELECT count() FROM epochs WHERE epoch = ?", epoch)
	if after := sent.Load(); after-before < 10 {
		t.Fatalf("the stream of rejections stalled (%d sent while waiting): the test proves nothing", after-before)
	}
	// What the cut counts is stored.
	if n := e.count(t, "SELECT count() FROM readings WHERE status = 'rejected'"); n == 0 {
		t.Fatal("no rejection stored")
	}
}
