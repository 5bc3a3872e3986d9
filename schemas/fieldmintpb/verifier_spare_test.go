//go:build linux

package fieldmintpb

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

const schedIdle = 5 // SCHED_IDLE, sched(7)

// idleThreads counts this process's threads at SCHED_IDLE: the policy is
// the 41st field of /proc/self/task/TID/stat (proc(5)), the 39th after the
// command's closing parenthesis. ended leaves out the main thread: a
// goroutine that ends locked to it parks it for good (Go cannot end a
// process's main thread), where any other thread ends.
func idleThreads(t *testing.T, ended bool) int {
	t.Helper()
	stats, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread ended
		}
		fields := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
		if ended && filepath.Base(filepath.Dir(path)) == strconv.Itoa(os.Getpid()) {
			continue
		}
		if policy, _ := strconv.Atoi(string(fields[38])); policy == schedIdle {
			n++
		}
	}
	return n
}

// TestSpareVerification: a spare verification runs on a thread at idle
// priority, verifies a waiting batch while the ordinary verification is
// busy (with the verdicts VerifyBatch gives), leaves batches alone while
// it is not, and ends its thread at Close.
func TestSpareVerification(t *testing.T) {
	rs, pubs := signedBatch(t, 40)
	keys := expand(t, pubs)
	msgs, sigs := v1Signed(rs)
	sigs[7] = slices.Clone(sigs[7])
	sigs[7][3] ^= 1
	wantAll, want := VerifyBatch(msgs, sigs, keys)

	before := idleThreads(t, false) // a test before may have parked the main thread at idle
	v := NewVerifier(1)
	if err := v.StartSpare(2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	if n := idleThreads(t, false) - before; n != 2 {
		t.Fatalf("%d threads at idle priority after StartSpare(2), want 2", n)
	}

	v.slots <- struct{}{} // the one ordinary verification is busy
	type verdict struct {
		all  bool
		each []bool
	}
	got := make(chan verdict, 1)
	go func() {
		all, each := v.Verify(msgs, sigs, keys)
		got <- verdict{all, each}
	}()
	select {
	case g := <-got:
		if g.all != wantAll || !slices.Equal(g.each, want) {
			t.Fatalf("spare verification says %v %v, VerifyBatch %v %v", g.all, g.each, wantAll, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a batch waited 30 s with a spare verification idle")
	}
	<-v.slots
	if st := v.Stats(); st.Spare != 1 || st.Verifications != 1 || st.Bad != 1 {
		t.Fatalf("after one batch verified while the slot was busy: %+v, want one spare verification", st)
	}

	if all, each := v.Verify(msgs, sigs, keys); all != wantAll || !slices.Equal(each, want) {
		t.Fatalf("with the slot free: %v %v, want %v %v", all, each, wantAll, want)
	}
	if st := v.Stats(); st.Spare != 1 || st.Verifications != 2 {
		t.Fatalf("after a batch verified with the slot free: %+v, want it verified by its caller", st)
	}

	v.Close()
	deadline := time.Now().Add(10 * time.Second)
	for idleThreads(t, true) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d threads at idle priority 10 s after Close, want none but the main thread", idleThreads(t, true))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if all, _ := v.Verify(msgs[:5], sigs[:5], keys[:5]); !all {
		t.Fatal("after Close, a clean batch did not verify")
	}
}
