// Package stats holds the one percentile rule the benches and the load
// generator report latencies by.
package stats

import (
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0-100) of d by the nearest-rank
// rule on the sorted values (the value below which p percent fall), 0 for
// no values. d is sorted in place.
func Percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	if !slices.IsSorted(d) {
		slices.Sort(d)
	}
	return d[min(len(d)*p/100, len(d)-1)]
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
