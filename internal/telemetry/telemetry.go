// Package telemetry sets up OpenTelemetry for fieldmint's roles: traces and
// metrics exported over OTLP/HTTP to a collector, metrics also served for
// Prometheus to scrape, and the Kafka hooks that carry a reading's trace
// context in record headers (W3C traceparent) from ingest's HTTP request
// through the validators to the aggregator's ClickHouse INSERT.
//
// The state is process-wide, like OpenTelemetry's own globals: Start once per
// process (fieldmint dev runs every role in one process and starts it once).
// Without Start, metrics go nowhere and no trace context is carried, at no
// cost to the hot paths.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Config of telemetry, shared by every role.
type Config struct {
	OTLPEndpoint    string        `yaml:"otlpEndpoint" help:"OTLP/HTTP collector URL (e.g. http://otel-collector:4318): traces and metrics are exported there; empty: no export"`
	MetricsListen   string        `yaml:"metricsListen" help:"address serving Prometheus metrics at /metrics; empty: not served"`
	TraceSampling   float64       `yaml:"traceSampling" help:"share of requests without a traceparent header that start a trace, 0-1 (a device's own sampled traceparent is always followed); needs otlpEndpoint"`
	MetricsInterval time.Duration `yaml:"metricsInterval" help:"how often metrics are pushed over OTLP"`
	Pprof           bool          `yaml:"pprof" help:"also serve Go's runtime profiles at /debug/pprof/ on metricsListen (CPU, heap, goroutines: go tool pprof URL); keep that address private"`
	// OutageAlertAfter is exported as fieldmint_dependency_alert_after_seconds,
	// which the FieldmintDependencyAway alert compares the outage with.
	OutageAlertAfter time.Duration `yaml:"outageAlertAfter" help:"how long a dependency (Kafka, ClickHouse, the chain's RPC) may be away before the FieldmintDependencyAway alert fires"`
}

// DefaultConfig returns the defaults: nothing exported, metrics not served,
// 1% of requests traced once an endpoint is set.
func DefaultConfig() Config {
	return Config{TraceSampling: 0.01, MetricsInterval: 15 * time.Second, OutageAlertAfter: 5 * time.Minute}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.TraceSampling < 0 || c.TraceSampling > 1 {
		return fmt.Errorf("telemetry: traceSampling %g must be within 0-1", c.TraceSampling)
	}
	if c.Pprof && c.MetricsListen == "" {
		return errors.New("telemetry: pprof is served on metricsListen: set it too")
	}
	if c.OutageAlertAfter < 0 {
		return errors.New("telemetry: outageAlertAfter must be a positive duration, e.g. 5m (0: 5m)")
	}
	if c.OTLPEndpoint != "" && c.MetricsInterval <= 0 {
		return errors.New("telemetry: metricsInterval must be positive")
	}
	return nil
}

// tracing is set once a tracer provider is installed: only then do Kafka
// clients carry trace context, because kotel's per-record hooks build span
// attributes for every record even under a no-op tracer.
var tracing atomic.Bool

// Tracing reports whether trace context is being carried.
func Tracing() bool { return tracing.Load() }

// Tracer is fieldmint's tracer.
func Tracer() trace.Tracer { return otel.Tracer("github.com/fieldmint/fieldmint") }

// Meter is fieldmint's meter.
func Meter() metric.Meter { return otel.Meter("github.com/fieldmint/fieldmint") }

// Start installs the providers cfg asks for and serves /metrics, /healthz
// and /readyz (HealthHandlers) on cfg.MetricsListen. The
// returned function flushes and stops them.
func Start(ctx context.Context, cfg Config, service string) (func(context.Context) error, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))
	var stops []func(context.Context) error
	stop := func(ctx context.Context) error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i](ctx))
		}
		return errors.Join(errs...)
	}
	readers := []sdkmetric.Option{sdkmetric.WithResource(res)}
	if cfg.MetricsListen != "" {
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, err
		}
		readers = append(readers, sdkmetric.WithReader(exp))
		ln, err := net.Listen("tcp", cfg.MetricsListen)
		if err != nil {
			return nil, fmt.Errorf("telemetry: metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		HealthHandlers(mux)
		if cfg.Pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		stops = append(stops, srv.Shutdown)
	}
	if cfg.OTLPEndpoint != "" {
		mexp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(cfg.OTLPEndpoint+"/v1/metrics"))
		if err != nil {
			stop(ctx)
			return nil, fmt.Errorf("telemetry: OTLP metrics: %w", err)
		}
		readers = append(readers, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp, sdkmetric.WithInterval(cfg.MetricsInterval))))
		texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.OTLPEndpoint+"/v1/traces"))
		if err != nil {
			stop(ctx)
			return nil, fmt.Errorf("telemetry: OTLP traces: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(texp),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.TraceSampling))))
		stops = append(stops, tp.Shutdown)
		UseTracerProvider(tp)
	}
	if len(readers) > 1 {
		mp := sdkmetric.NewMeterProvider(readers...)
		stops = append(stops, mp.Shutdown)
		otel.SetMeterProvider(mp)
	}
	return stop, nil
}

// UseTracerProvider installs tp (Start does; tests pass a recorder) and
// turns on trace propagation through Kafka.
func UseTracerProvider(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	tracing.Store(true)
}

// KafkaHooks are the hooks every Kafka client gets: broker metrics always,
// and with tracing on, a span per produced and fetched record that carries
// the trace context in the record's headers.
func KafkaHooks() []kgo.Hook {
	opts := []kotel.Opt{kotel.WithMeter(kotel.NewMeter(kotel.MeterProvider(otel.GetMeterProvider())))}
	if tracing.Load() {
		opts = append(opts, kotel.WithTracer(kafkaTracer()))
	}
	return kotel.NewKotel(opts...).Hooks()
}

func kafkaTracer() *kotel.Tracer {
	return kotel.NewTracer(kotel.TracerProvider(otel.GetTracerProvider()), kotel.TracerPropagator(propagation.TraceContext{}))
}

// ProcessSpan starts a span under a consumed record's trace, or returns
// rec's context and nil when the record is not traced (the usual case).
// name says what is done with it ("validate", "clickhouse insert").
func ProcessSpan(rec *kgo.Record, name string) (context.Context, trace.Span) {
	if rec.Context == nil || !trace.SpanContextFromContext(rec.Context).IsSampled() {
		return rec.Context, nil
	}
	return Tracer().Start(rec.Context, name, trace.WithSpanKind(trace.SpanKindConsumer))
}
