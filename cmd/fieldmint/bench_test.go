//go:build !nodev

package main

import (
	"os"
	"strings"
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
	if cpu := procCPU(os.Getpid()); cpu < 20*time.Millisecond || cpu > time.Hour {
		t.Fatalf("procCPU = %s after 50 ms of spinning", cpu)
	}
	rss := procPeakRSS(os.Getpid())
	if !strings.HasSuffix(rss, " MB") || rss == "0 MB" {
		t.Fatalf("procPeakRSS = %q", rss)
	}
	if procCPU(0) != 0 {
		t.Fatal("procCPU(0) must be 0 (no process of ours)")
	}
}
