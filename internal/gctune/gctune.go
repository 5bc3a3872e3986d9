// Package gctune sets the Go garbage collector of a fieldmint process:
// collections half as often as Go's default, bounded by the container's
// memory limit.
//
// The roles keep large, long-lived heaps (a validator's device states and
// clone window, an aggregator's block, ingest's batch verifiers), which the
// collector marks again every cycle: its background workers were 5% of
// ingest's CPU, 11% of a validator's and 12% of the aggregator's in the
// pipeline's profiles. With GOGC 200 the heap grows to three times what is
// live before a collection, instead of twice, for about half the
// collections (docs/performance.md, "The collector, the clone window's
// queue and the driver's boxes": 2 to 3 µs less a reading in the pipeline
// at a fixed rate, no difference saturated; 25 to 150 MB more peak RSS a
// role; 400 cost twice the memory and saved no more).
//
// The memory limit makes that safe in a container: GOMEMLIMIT, unless set,
// is 90% of the cgroup's memory limit (github.com/KimMachineGun/automemlimit
// reads it, cgroup v1 or v2), so a heap nearing the limit is collected
// harder rather than killed. Without a limit (a laptop) nothing bounds the
// heap but GOGC, as with Go's defaults. GOGC and GOMEMLIMIT in the
// environment win, as the Go runtime documents; AUTOMEMLIMIT=off leaves the
// limit alone.
package gctune

import (
	"errors"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// Percent is GOGC when the environment does not set it.
const Percent = 200

// Settings are what Apply left in force.
type Settings struct {
	Percent  int   // GOGC; negative: off
	MemLimit int64 // bytes; math.MaxInt64: none
	Err      error // reading the cgroup's limit failed (the limit is then unchanged)
}

// Apply sets GOGC and GOMEMLIMIT where the environment does not, and says
// what is in force.
func Apply() Settings {
	var s Settings
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
	s.Percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(s.Percent)
	s.MemLimit, s.Err = memlimit.Set(memlimit.WithRatio(0.9), memlimit.WithProvider(memlimit.FromCgroup))
	if errors.Is(s.Err, memlimit.ErrNoCgroup) || errors.Is(s.Err, memlimit.ErrCgroupsNotSupported) {
		s.Err = nil // no container: no limit to read
	}
	return s
}
