package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestInstrumented: a proof request is counted in otelhttp's request
// duration histogram (its scope, name and buckets) with its route and
// status, as every other route is by otelhttp itself; a request whose
// traceparent is sampled gets a server span with the route and status, one
// that is not gets none.
func TestInstrumented(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	mp, tp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())))
	oldM, oldT, oldP := otel.GetMeterProvider(), otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetMeterProvider(mp)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetMeterProvider(oldM); otel.SetTracerProvider(oldT); otel.SetTextMapPropagator(oldP) })

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rewards/{address}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("address") == "0xbad" {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		w.Write([]byte("{}"))
	})
	mux.HandleFunc("GET /v1/epochs", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("[]")) })
	h := instrumented(mux)
	for _, req := range []struct {
		path, traceparent string
	}{{"/v1/rewards/0xabc", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}, {"/v1/rewards/0xbad", ""}, {"/v1/epochs", ""}} {
		r := httptest.NewRequest(http.MethodGet, req.path, nil)
		if req.traceparent != "" {
			r.Header.Set("traceparent", req.traceparent)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{} // route status -> requests
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			if sm.Scope.Name != "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp" || m.Unit != "s" {
				t.Errorf("request duration in scope %q, unit %q", sm.Scope.Name, m.Unit)
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				route, _ := dp.Attributes.Value(attribute.Key("http.route"))
				status, _ := dp.Attributes.Value(attribute.Key("http.response.status_code"))
				counts[route.String()+" "+status.String()] += dp.Count
				if len(dp.Bounds) != 14 || dp.Bounds[0] != 0.005 {
					t.Errorf("buckets %v, want otelhttp's", dp.Bounds)
				}
			}
		}
	}
	want := map[string]uint64{proofRoute + " 200": 1, proofRoute + " 502": 1, "/v1/epochs 200": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("requests %v, want %v", counts, want)
			break
		}
	}
	ended := spans.Ended()
	if len(ended) != 1 || ended[0].Name() != "GET "+proofRoute || ended[0].Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("spans %v, want the sampled proof request's", ended)
	}
	var status attribute.Value
	for _, a := range ended[0].Attributes() {
		if a.Key == "http.response.status_code" {
			status = a.Value
		}
	}
	if status.AsInt64() != 200 {
		t.Errorf("span status attribute %v", status)
	}
}
