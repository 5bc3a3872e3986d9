package telemetry

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"
)

// A Check reports whether a dependency a role needs is usable: Kafka or
// ClickHouse reachable, the chain's RPC answering, consumer lag under a bound.
type Check func(ctx context.Context) error

var (
	checksMu sync.Mutex
	checks   = map[string]Check{}
)

// AddCheck registers a readiness check under name ("validate/kafka"); a
// later check of the same name replaces it. It returns the function that
// removes it, for a role that stops while the process goes on (tests, the
// dev stack).
func AddCheck(name string, c Check) (remove func()) {
	checksMu.Lock()
	defer checksMu.Unlock()
	checks[name] = c
	return func() {
		checksMu.Lock()
		defer checksMu.Unlock()
		delete(checks, name)
	}
}

// Ready runs every check, at most 2 s each, all at once, and returns each
// one's result: "ok" or the error's text.
func Ready(ctx context.Context) (map[string]string, bool) {
	checksMu.Lock()
	run := make(map[string]Check, len(checks))
	for name, c := range checks {
		run[name] = c
	}
	checksMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	results, ok := map[string]string{}, true
	for name, c := range run {
		wg.Go(func() {
			res := "ok"
			if err := c(ctx); err != nil {
				res = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			results[name] = res
			ok = ok && res == "ok"
		})
	}
	wg.Wait()
	return results, ok
}

// HealthHandlers adds GET /healthz (liveness: the process serves; a
// dependency's outage must not restart it) and GET /readyz (readiness:
// every check passes; 503 with the failing ones otherwise) to mux.
func HealthHandlers(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		results, ok := Ready(r.Context())
		names := make([]string, 0, len(results))
		for n := range results {
			names = append(names, n)
		}
		sort.Strings(names)
		type check struct {
			Name   string `json:"name"`
			Result string `json:"result"`
		}
		body := struct {
			Ready  bool    `json:"ready"`
			Checks []check `json:"checks"`
		}{Ready: ok, Checks: []check{}}
		for _, n := range names {
			body.Checks = append(body.Checks, check{n, results[n]})
		}
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(body)
	})
}
