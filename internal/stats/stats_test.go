package stats

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    int
		want time.Duration
	}{{0, time.Millisecond}, {50, 51 * time.Millisecond}, {99, 100 * time.Millisecond}, {100, 100 * time.Millisecond}} {
		if got := Percentile(d, c.p); got != c.want {
			t.Errorf("p%d of 1..100 ms: %s, want %s", c.p, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]time.Duration{7}, 99) != 7 {
		t.Error("empty or one value")
	}
	if Ms(1500*time.Microsecond) != 1.5 {
		t.Error("Ms")
	}
}
