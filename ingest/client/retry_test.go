package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestRetriesHonourRetryAfter: a 429 and a 503 with Retry-After are retried
// after the wait they ask for, with the same body; a 4xx refusal is not
// retried; OnRetry hears of each retried failure.
func TestRetriesHonourRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	answers := []func(http.ResponseWriter){
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"code":"RATE_LIMITED","message":"slow down"}`))
		},
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"code":"BROKER_UNAVAILABLE","message":"retry"}`))
		},
		func(w http.ResponseWriter) {
			w.Write([]byte(`{"accepted":1,"rejected":0,"results":[{"status":"accepted"}]}`))
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		n := len(at)
		mu.Unlock()
		if n > len(answers) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"code":"MALFORMED","message":"no"}`))
			return
		}
		answers[n-1](w)
	}))
	defer srv.Close()
	var retried []string
	c := &Client{URL: srv.URL, OnRetry: func(err error) {
		var e *Error
		if errors.As(err, &e) {
			retried = append(retried, e.Code)
		}
	}}
	res, err := c.Send(context.Background(), []*pb.SignedReadingV2{{Reading: []byte("\x0a\x01d")}})
	if err != nil || res.Accepted != 1 {
		t.Fatalf("send: %+v %v", res, err)
	}
	if len(at) != 3 || len(retried) != 2 || retried[0] != "RATE_LIMITED" || retried[1] != "BROKER_UNAVAILABLE" {
		t.Fatalf("%d requests, retries %v", len(at), retried)
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < time.Second {
			t.Fatalf("retry %d came %s after the refusal that asked for 1 s", i, gap)
		}
	}
	// A refusal that retrying cannot fix is returned at once.
	_, err = c.Send(context.Background(), []*pb.SignedReadingV2{{Reading: []byte("\x0a\x01d")}})
	var e *Error
	if !errors.As(err, &e) || e.Code != "MALFORMED" || e.Retryable() || len(at) != 4 {
		t.Fatalf("a 400: %v after %d requests", err, len(at))
	}
}
