package ingest

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per key (a device, a client address),
// created on first use, at most maxKeys of them. Past that it first forgets
// the buckets that are full again: a new bucket is full, so forgetting them
// changes nothing. Only if that frees too little (more keys active at once
// than it holds) does it forget the least recently used ones, which then
// start with a full bucket. Memory stays bounded whatever the clients do.
type limiters struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	maxKeys int
	buckets map[string]*bucket
}

type bucket struct {
	*rate.Limiter
	used time.Time
}

const maxKeys = 1 << 17

func newLimiters(perSec float64, burst int) *limiters {
	if perSec <= 0 {
		return nil // no limit
	}
	return &limiters{perSec: rate.Limit(perSec), burst: burst, maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

func (l *limiters) get(key string, now time.Time) *rate.Limiter {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		b = &bucket{Limiter: rate.NewLimiter(l.perSec, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	return b.Limiter
}

// evict forgets the full buckets, then, if more than 7/8 of maxKeys are
// left, the least recently used down to that.
func (l *limiters) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	keep := l.maxKeys * 7 / 8
	if len(l.buckets) <= keep {
		return
	}
	keys := make([]string, 0, len(l.buckets))
	for k := range l.buckets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return l.buckets[a].used.Compare(l.buckets[b].used) })
	for _, k := range keys[:len(keys)-keep] {
		delete(l.buckets, k)
	}
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
		r := l.get(key, now).ReserveN(now, k)
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

// clientKey is the address a request comes from (without its port). Behind
// a load balancer every request comes from the balancer: when the
// connection is from a trusted proxy, the client is the rightmost address
// of X-Forwarded-For that is not a trusted proxy itself (the ones to its
// left were written by the client and prove nothing).
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !isTrusted(host, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // not an address: the chain is broken here
		}
		if !isTrusted(hop, trusted) {
			return hop
		}
	}
	return host
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseProxies parses ingest.trustedProxies: CIDRs or single addresses.
func parseProxies(ps []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range ps {
		if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("ingest: trustedProxies: %q is neither an address nor a CIDR", p)
		}
		out = append(out, prefix.Masked())
	}
	return out, nil
}

// limitClient applies ingest.clientRate to a request (HTTP: one token a
// request; gRPC: one a call or stream opened, r carrying its peer and
// headers), before its body is read: a flooding client costs next to
// nothing. It returns the 429 refusal when the client is over its rate.
func (s *Service) limitClient(r *http.Request) (verdict, bool) {
	if s.clients == nil {
		return verdict{}, false
	}
	client := clientKey(r, s.proxies)
	if wait := s.clients.take(map[string]int{client: 1}); wait > 0 {
		v := refuse(http.StatusTooManyRequests, CodeRateLimited, "more than %g requests per second from %s", s.cfg.ClientRate, client)
		v.retry = wait
		return v, true
	}
	return verdict{}, false
}
