package ingest

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per key (a device, a client address),
// created on first use. When it holds more than maxKeys buckets it starts
// afresh: a forgotten key merely gets a full bucket again, and memory stays
// bounded whatever the number of clients.
type limiters struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

const maxKeys = 1 << 17

func newLimiters(perSec float64, burst int) *limiters {
	if perSec <= 0 {
		return nil // no limit
	}
	return &limiters{perSec: rate.Limit(perSec), burst: burst, buckets: map[string]*rate.Limiter{}}
}

func (l *limiters) get(key string) *rate.Limiter {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxKeys {
			clear(l.buckets)
		}
		b = rate.NewLimiter(l.perSec, l.burst)
		l.buckets[key] = b
	}
	return b
}

// take takes n[key] tokens from each key's bucket, all or none, and returns
// 0, or how long to wait before the same request could pass.
func (l *limiters) take(n map[string]int) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var taken []*rate.Reservation
	for key, k := range n {
		r := l.get(key).ReserveN(now, k)
		if !r.OK() {
			// More than the burst at once: never allowed; wait as for a full bucket.
			for _, t := range taken {
				t.CancelAt(now)
			}
			return time.Duration(float64(k) / float64(l.perSec) * float64(time.Second))
		}
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			return d
		}
		taken = append(taken, r)
	}
	return 0
}

// clientKey is the address a request comes from (without its port).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateLimited answers 429 with a Retry-After of whole seconds, at least 1.
func rateLimited(w http.ResponseWriter, wait time.Duration, format string, args ...any) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	writeJSON(w, http.StatusTooManyRequests, Error{Code: CodeRateLimited, Message: fmt.Sprintf(format, args...)})
}
