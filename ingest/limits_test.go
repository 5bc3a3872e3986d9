package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// TestRateLimits: a device over its rate gets 429 RATE_LIMITED with a
// Retry-After and has nothing written; a client over its request rate is
// refused before its body is read.
func TestRateLimits(t *testing.T) {
	f := newFixtureWith(t, func(c *Config) { c.DeviceRate, c.DeviceBurst = 0.5, 5 })
	if code, e := f.post(t, "/v1/readings", "application/x-protobuf", f.batch(1, 2, 3, 4, 5)); code != 200 {
		t.Fatalf("a burst within the limit: %d %+v", code, e)
	}
	before := rawRecords(t, f.kc)
	resp, err := http.Post(f.srv.URL+"/v1/readings", "application/x-protobuf", bytes.NewReader(f.batch(6, 7)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || wait < 1 {
		t.Fatalf("over the device's rate: %d, Retry-After %q; want 429 and at least 1 s", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code, e := f.post(t, "/v1/readings", "application/x-protobuf", f.batch(6, 7)); code != http.StatusTooManyRequests || e.Code != CodeRateLimited {
		t.Fatalf("over the device's rate: %d %+v, want 429 %s", code, e, CodeRateLimited)
	}
	if n := rawRecords(t, f.kc) - before; n != 0 {
		t.Fatalf("%d readings of rate-limited requests written to Kafka", n)
	}

	// A burst of 4: the fixture's maker and its registration, then two
	// requests.
	g := newFixtureWith(t, func(c *Config) { c.ClientRate, c.ClientBurst = 0.1, 4 })
	codes := []int{}
	for range 3 {
		code, _ := g.post(t, "/v1/readings", "application/x-protobuf", []byte("not even protobuf"))
		codes = append(codes, code)
	}
	if codes[0] != 400 || codes[1] != 400 || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("a client past its burst: codes %v, want 400 400 429", codes)
	}
}

// TestClientKeyBehindProxies: behind a trusted load balancer the client is
// the rightmost untrusted X-Forwarded-For hop; from anywhere else the header
// is the client's own claim and ignored.
func TestClientKeyBehindProxies(t *testing.T) {
	trusted, err := parseProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ remote, xff, want string }{
		{"10.1.2.3:5000", "203.0.113.9", "203.0.113.9"},                         // one balancer
		{"10.1.2.3:5000", "198.51.100.1, 203.0.113.9, 10.9.9.9", "203.0.113.9"}, // two hops of ours, a forged left part
		{"192.0.2.7:443", "203.0.113.9", "203.0.113.9"},                         // a single trusted address
		{"203.0.113.50:5000", "198.51.100.1", "203.0.113.50"},                   // not a proxy: its header is ignored
		{"10.1.2.3:5000", "", "10.1.2.3"},                                       // a balancer's own request
		{"10.1.2.3:5000", "garbage, 10.2.2.2", "10.1.2.3"},                      // a broken chain: the balancer
		{"[::ffff:10.1.2.3]:5000", "2001:db8::1", "2001:db8::1"},                // IPv4-mapped balancer, IPv6 client
	} {
		r := httptest.NewRequest(http.MethodPost, "/v1/readings", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientKey(r, trusted); got != c.want {
			t.Errorf("from %s with X-Forwarded-For %q: client %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	if _, err := parseProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad CIDR accepted")
	}
}

// TestLimitersForgetFullBucketsFirst: past maxKeys the buckets that are
// full again are forgotten first (a new one would be the same), so a device
// that spent its burst keeps its empty bucket; only when every bucket is in
// use are the least recently used forgotten.
func TestLimitersForgetFullBucketsFirst(t *testing.T) {
	l := newLimiters(1, 10)
	l.maxKeys = 8
	if l.take(map[string]int{"spender": 10}) != 0 {
		t.Fatal("a burst of 10 refused")
	}
	for i := range 7 {
		l.get(fmt.Sprintf("idle-%d", i), time.Now()) // full buckets
	}
	l.take(map[string]int{"newcomer": 1}) // the ninth key: the idle ones go
	if _, kept := l.buckets["spender"]; !kept || len(l.buckets) != 2 {
		t.Fatalf("after eviction: %d buckets, spender kept %v; want spender and newcomer", len(l.buckets), kept)
	}
	if wait := l.take(map[string]int{"spender": 1}); wait == 0 {
		t.Fatal("the spender got a fresh bucket back")
	}
	// Every bucket in use: the least recently used go, down to 7/8.
	for i := range 8 {
		l.take(map[string]int{fmt.Sprintf("busy-%d", i): 5})
		time.Sleep(time.Millisecond)
	}
	if len(l.buckets) > l.maxKeys {
		t.Fatalf("%d buckets kept, more than maxKeys %d", len(l.buckets), l.maxKeys)
	}
	if _, kept := l.buckets["busy-7"]; !kept {
		t.Fatal("the most recently used bucket was forgotten")
	}
}
