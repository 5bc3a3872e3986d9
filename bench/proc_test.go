package bench

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// The bench reads ingest's CPU time and peak memory from /proc; check the
// parsing on this process, which has used some of both.
func TestProcFigures(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	if cpu := CPU(os.Getpid()); cpu < 20*time.Millisecond || cpu > time.Hour {
		t.Fatalf("CPU = %s after 50 ms of spinning", cpu)
	}
	// Touch 64 MB: the peak resident set is at least that afterwards.
	big := make([]byte, 64<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	if rss := PeakRSS(os.Getpid()); rss < 64<<20 || rss > 64<<30 {
		t.Fatalf("PeakRSS = %d bytes after touching 64 MB", rss)
	}
	runtime.KeepAlive(big)
	if CPU(0) != 0 {
		t.Fatal("CPU(0) must be 0 (no process of ours)")
	}
}
