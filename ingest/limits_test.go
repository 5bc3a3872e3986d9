package ingest

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
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
