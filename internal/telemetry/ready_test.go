package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// TestReadyz: /readyz answers 200 while every check passes and 503 naming
// the failing check once one fails; /healthz stays 200 (a dependency's
// outage must not get the process restarted); a removed check no longer
// counts.
func TestReadyz(t *testing.T) {
	mux := http.NewServeMux()
	HealthHandlers(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	var kafkaDown error
	defer AddCheck("test/clickhouse", func(context.Context) error { return nil })()
	removeKafka := AddCheck("test/kafka", func(context.Context) error { return kafkaDown })
	if code, body := get("/readyz"); code != 200 || body["ready"] != true {
		t.Fatalf("all up: %d %v", code, body)
	}
	kafkaDown = errors.New("dial tcp 127.0.0.1:9092: connection refused")
	code, body := get("/readyz")
	if code != 503 || body["ready"] != false {
		t.Fatalf("kafka down: %d %v", code, body)
	}
	checks, _ := body["checks"].([]any)
	if len(checks) != 2 || checks[1].(map[string]any)["name"] != "test/kafka" || checks[1].(map[string]any)["result"] != kafkaDown.Error() {
		t.Fatalf("kafka down: checks %v", checks)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d while kafka is down, want 200", code)
	}
	removeKafka()
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("after removing the failing check: %d", code)
	}
}

// TestPprof: the runtime's profiles are served on the metrics address only
// when telemetry.pprof asks for them, and asking without that address is a
// configuration error.
func TestPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		addr := freeport.Addr()
		stop, err := Start(context.Background(), Config{MetricsListen: addr, Pprof: on, TraceSampling: 0.01}, "test")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		stop(context.Background())
		if served := resp.StatusCode == 200 && strings.Contains(string(body), "heap profile"); served != on {
			t.Fatalf("pprof %v: /debug/pprof/heap answered %d %.60q", on, resp.StatusCode, body)
		}
	}
	if err := (Config{Pprof: true}).Validate(); err == nil || !strings.Contains(err.Error(), "metricsListen") {
		t.Fatalf("pprof without metricsListen: %v", err)
	}
}
