package roles_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/roles"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/validators"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	os.Exit(m.Run())
}

// collector stands in for an OpenTelemetry collector: it accepts OTLP/HTTP
// protobuf exports and keeps what it was sent. (No collector binary is
// packaged for these machines; the exporters under test are the real ones.)
type collector struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	metrics map[string]bool // metric names received
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.URL.Path {
	case "/v1/traces":
		var req colltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		out, _ := proto.Marshal(&colltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	case "/v1/metrics":
		var req collmetrics.ExportMetricsServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					c.metrics[m.Name] = true
				}
			}
		}
		out, _ := proto.Marshal(&collmetrics.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	default:
		http.NotFound(w, r)
	}
}

// TestOneTraceFromHTTPToClickHouse runs ingest, a validator and the
// aggregator on kfake and ClickHouse with telemetry exporting over OTLP and
// serving Prometheus. A batch of three readings (two valid, one dated in the
// future) plus a forged one makes one trace: the HTTP request, each reading's
// publish to the raw topic, its validation, its publish to the valid or
// rejected topic and its ClickHouse INSERT, each span a descendant of the
// request's. The counters show each outcome with its reason code, both on
// /metrics and at the collector.
func TestOneTraceFromHTTPToClickHouse(t *testing.T) {
	coll := &collector{metrics: map[string]bool{}}
	collSrv := httptest.NewServer(coll)
	t.Cleanup(collSrv.Close)
	metricsAddr := freeport.Addr()
	ctx := context.Background()
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{OTLPEndpoint: collSrv.URL, MetricsListen: metricsAddr, TraceSampling: 1, MetricsInterval: time.Hour}, "fieldmint-test")
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			stopTelemetry(ctx)
		}
	})

	conn, chCfg := testenv.ClickHouseConn(t)
	cfg := roles.Defaults()
	cfg.Aggregate.EpochLength, cfg.Aggregate.AllowedLateness, cfg.Aggregate.IdleTimeout = 30*time.Second, 5*time.Second, 30*time.Second
	cfg.Aggregate.FlushInterval = 500 * time.Millisecond
	cfg.Kafka.Brokers, cfg.Kafka.TopicPrefix, cfg.Kafka.Partitions = testenv.Kafka(t), "tel.", 1
	cfg.ClickHouse = chCfg
	cfg.Ingest.Listen = freeport.Addr()
	admin, _ := crypto.GenerateKey()
	cfg.Ingest.Admins = []string{crypto.PubkeyToAddress(admin.PublicKey).Hex()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, run := range []func(context.Context, roles.Config, *slog.Logger) error{roles.RunIngest, roles.RunValidate, roles.RunAggregate} {
		testenv.Go(t, func(ctx context.Context) error { return run(ctx, cfg, log) })
	}
	sendTraced(t, ctx, cfg, admin)
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, func() error {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&n); err != nil || n != 3 {
			return fmt.Errorf("%d readings in ClickHouse (%v), want 3", n, err)
		}
		return nil
	})

	checkMetrics(t, "http://"+metricsAddr+"/metrics")
	// Flush everything to the collector.
	stopped = true
	if err := stopTelemetry(ctx); err != nil {
		t.Fatalf("telemetry shutdown: %v", err)
	}
	coll.mu.Lock()
	defer coll.mu.Unlock()
	for _, name := range []string{"fieldmint.ingest.readings", "fieldmint.validator.readings", "fieldmint.aggregator.rows"} {
		if !coll.metrics[name] {
			t.Errorf("metric %s never reached the collector", name)
		}
	}
	checkTrace(t, coll.spans)
}

// sendTraced registers a maker and a device, and sends three readings (the
// third dated an hour ahead, so rejected by the validators) and a forgery
// (refused by ingest) in one batch.
func sendTraced(t *testing.T, ctx context.Context, cfg roles.Config, admin *ecdsa.PrivateKey) {
	sdk := &client.Client{URL: "http://" + cfg.Ingest.Listen, Network: cfg.Ingest.Network}
	waitHealthy(t, sdk.URL)
	_, key, _ := ed25519.GenerateKey(nil)
	_, makerKey, _ := ed25519.GenerateKey(nil)
	maker := client.Maker{ID: "m", Key: makerKey}
	if err := sdk.AddMaker(ctx, maker.ID, "a maker", makerKey.Public().(ed25519.PublicKey), client.OwnerKey(admin)); err != nil {
		t.Fatal(err)
	}
	ownerKey, _ := crypto.GenerateKey()
	d := &pb.Device{DeviceId: "ws-1", PublicKey: key.Public().(ed25519.PublicKey), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &pb.Location{LatE7: 387_000_000, LonE7: -91_000_000}}
	if err := sdk.Register(ctx, d, key, maker.Attest(d.PublicKey, d.Kind), client.OwnerKey(ownerKey)); err != nil {
		t.Fatal(err)
	}
	dv := client.NewDevice("ws-1", pb.ResourceKind_RESOURCE_KIND_WEATHER, key)
	now := time.Now()
	var batch []*pb.SignedReadingV2
	for _, at := range []time.Time{now, now.Add(time.Second), now.Add(time.Hour)} {
		s, err := dv.Reading(at, map[string]int64{"temperature_c": 21_500})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, s)
	}
	_, otherKey, _ := ed25519.GenerateKey(nil)
	forged, _ := client.NewDevice("ws-1", pb.ResourceKind_RESOURCE_KIND_WEATHER, otherKey).Reading(now, map[string]int64{"temperature_c": 1})
	res, err := sdk.Send(ctx, append(batch, forged))
	if err != nil || res.Accepted != 3 || res.Results[3].Code != ingest.CodeBadSignature {
		t.Fatalf("send: %+v %v", res, err)
	}

}

// checkMetrics: Prometheus sees the outcomes with their reason codes, and
// otelhttp's request metrics and kotel's broker metrics are there too.
func checkMetrics(t *testing.T, url string) {
	want := map[string]float64{
		`fieldmint_ingest_readings_total{outcome="accepted",reason=""}`:                                                                     3,
		`fieldmint_ingest_readings_total{outcome="rejected",reason="BAD_SIGNATURE"}`:                                                        1,
		`fieldmint_validator_readings_total{kind="RESOURCE_KIND_WEATHER",outcome="valid",reason=""}`:                                        2,
		`fieldmint_validator_readings_total{kind="RESOURCE_KIND_WEATHER",outcome="rejected",reason="` + validators.ReasonClockFuture + `"}`: 1,
		`fieldmint_aggregator_rows_total{source="valid"}`:                                                                                   2,
		`fieldmint_aggregator_rows_total{source="rejected"}`:                                                                                1,
		`fieldmint_ingest_requests_total{code="OK",route="/v2/readings"}`:                                                                   1,
		`fieldmint_ingest_requests_total{code="OK",route="/v1/devices"}`:                                                                    1,
	}
	// The verifier's counts are observed from every ingest service made in
	// this process (other tests' too, whose callbacks the global meter keeps):
	// at least this test's.
	atLeast := map[string]float64{
		`fieldmint_ingest_signatures_total{outcome="valid"}`: 3,
		`fieldmint_ingest_signatures_total{outcome="bad"}`:   1,
		`fieldmint_ingest_signature_verifications_total{}`:   1,
		`fieldmint_ingest_signature_batches_total{}`:         1,
	}
	// The aggregator counts a block after its INSERT: poll a little.
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		got, missing := scrape(t, url), ""
		for series, v := range want {
			if got[series] != v {
				missing += fmt.Sprintf("\n%s = %v, want %v", series, got[series], v)
			}
		}
		for series, v := range atLeast {
			if got[series] < v {
				missing += fmt.Sprintf("\n%s = %v, want at least %v", series, got[series], v)
			}
		}
		if missing != "" {
			return fmt.Errorf("/metrics:%s", missing)
		}
		return nil
	})

	// otelhttp's request metrics and kotel's broker metrics are there too.
	families := map[string]bool{}
	for series := range scrape(t, url) {
		families[strings.SplitN(series, "{", 2)[0]] = true
	}
	for _, f := range []string{"http_server_request_duration_seconds", "messaging_kafka_produce_records_count_total", "messaging_kafka_fetch_records_count_total"} {
		if !families[f] {
			t.Errorf("/metrics has no %s", f)
		}
	}
}

// checkTrace: every span of the readings request's trace descends from the
// request's span, and each stage's spans are there, as many as readings.
func checkTrace(t *testing.T, spans []*tracepb.Span) {
	var request *tracepb.Span
	for _, s := range spans {
		if s.Name == "POST /v2/readings" {
			request = s
		}
	}
	if request == nil {
		t.Fatalf("no span of the readings request among %d", len(spans))
	}
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		if string(s.TraceId) == string(request.TraceId) {
			byID[string(s.SpanId)] = s
		}
	}
	// Every span of the trace descends from the request's span.
	names := map[string]int{}
	for _, s := range byID {
		names[s.Name]++
		p := s
		for len(p.ParentSpanId) > 0 && byID[string(p.ParentSpanId)] != nil {
			p = byID[string(p.ParentSpanId)]
		}
		if p != request {
			t.Errorf("span %q is not under the request's span", s.Name)
		}
	}
	for name, n := range map[string]int{
		"tel.readings.raw publish": 3, "validate": 3, "tel.readings.valid publish": 2,
		"tel.readings.rejected publish": 1, "clickhouse insert": 3,
	} {
		if names[name] != n {
			t.Errorf("%d %q spans in the request's trace, want %d (all: %v)", names[name], name, n, names)
		}
	}
}

// scrape reads a Prometheus endpoint into series -> value, a series written
// as name{label="value",...} with labels in name order, without the
// exporter's otel_scope_* labels.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.Metric {
			labels := ""
			for _, l := range m.Label {
				if len(l.GetName()) > 10 && l.GetName()[:10] == "otel_scope" {
					continue
				}
				if labels != "" {
					labels += ","
				}
				labels += l.GetName() + `="` + l.GetValue() + `"`
			}
			v := m.GetCounter().GetValue()
			out[name+"{"+labels+"}"] = v
		}
	}
	return out
}
