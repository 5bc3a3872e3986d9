package ingest

import (
	"context"
	"net/http"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// metrics are ingest's counters, exported by internal/telemetry.
type metrics struct {
	requests metric.Int64Counter // by route and reason code ("OK" when none)
	readings metric.Int64Counter // by outcome (accepted, rejected) and reason code
	// MQTT (ingest/mqtt.go)
	mqttConnects  metric.Int64Counter     // CONNECTs, by reason code (OK: admitted)
	mqttPublishes metric.Int64Counter     // publishes judged, by reason code (OK: readings accepted, maybe not all: the rejected ones are in fieldmint.ingest.readings)
	mqttAck       metric.Float64Histogram // seconds from a QoS 1 publish read to its PUBACK (or refusal)
	// gRPC (ingest/grpc.go)
	grpcBatches metric.Int64Counter       // batches judged, by rpc and reason code (OK: readings accepted, maybe not all: the rejected ones are in fieldmint.ingest.readings)
	grpcStreams metric.Int64UpDownCounter // streams open
	grpcAck     metric.Float64Histogram   // seconds from a stream's batch taken to its acknowledgement
	// LoRaWAN (ingest/chirpstack.go)
	uplinks metric.Int64Counter // uplink events judged, by source (http, mqtt) and reason code (OK: stored, IGNORED: not an uplink)
}

func newMetrics() metrics {
	m := telemetry.Meter()
	requests, _ := m.Int64Counter("fieldmint.ingest.requests", metric.WithDescription("requests answered, by route and reason code (OK: none)"))
	readings, _ := m.Int64Counter("fieldmint.ingest.readings", metric.WithDescription("readings judged one by one, by outcome and reason code"))
	connects, _ := m.Int64Counter("fieldmint.ingest.mqtt.connects", metric.WithDescription("MQTT CONNECTs, by reason code (OK: admitted)"))
	publishes, _ := m.Int64Counter("fieldmint.ingest.mqtt.publishes", metric.WithDescription("MQTT publishes judged, by reason code (OK: readings accepted, maybe not all: the rejected ones are in fieldmint.ingest.readings)"))
	ack, _ := m.Float64Histogram("fieldmint.ingest.mqtt.puback.duration", metric.WithUnit("s"),
		metric.WithDescription("from a QoS 1 publish read to its PUBACK, which waits for Kafka"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	batches, _ := m.Int64Counter("fieldmint.ingest.grpc.batches", metric.WithDescription("gRPC batches judged, by rpc and reason code (OK: readings accepted, maybe not all: the rejected ones are in fieldmint.ingest.readings)"))
	streams, _ := m.Int64UpDownCounter("fieldmint.ingest.grpc.streams", metric.WithDescription("gRPC streams open"))
	grpcAck, _ := m.Float64Histogram("fieldmint.ingest.grpc.ack.duration", metric.WithUnit("s"),
		metric.WithDescription("from a stream's batch taken to its acknowledgement, which waits for Kafka"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	uplinks, _ := m.Int64Counter("fieldmint.ingest.lorawan.uplinks", metric.WithDescription("LoRaWAN network server events judged, by source (http, mqtt) and reason code (OK: the uplink's reading accepted; IGNORED: not an uplink)"))
	return metrics{uplinks: uplinks, requests: requests, readings: readings, mqttConnects: connects, mqttPublishes: publishes, mqttAck: ack,
		grpcBatches: batches, grpcStreams: streams, grpcAck: grpcAck}
}

// countGRPC counts a batch judged over gRPC.
func (m metrics) countGRPC(ctx context.Context, rpc, code string) {
	m.grpcBatches.Add(ctx, 1, metric.WithAttributes(attribute.String("rpc", rpc), attribute.String("reason", orOK(code))))
}

// observeSignatures exports the verifier's counts: signatures by outcome,
// verifications and the requests' batches in them (batches over
// verifications is how many a verification merged: ingest.verifiers tunes
// it), and the bad share its chunks are sized by, until unregistered.
func (m metrics) observeSignatures(v *pb.Verifier) metric.Registration {
	meter := telemetry.Meter()
	signatures, _ := meter.Int64ObservableCounter("fieldmint.ingest.signatures", metric.WithDescription("reading signatures verified, by outcome (valid, bad)"))
	verifications, _ := meter.Int64ObservableCounter("fieldmint.ingest.signature.verifications", metric.WithDescription("signature verifications run, each over one or more requests' batches"))
	batches, _ := meter.Int64ObservableCounter("fieldmint.ingest.signature.batches", metric.WithDescription("requests' batches of signatures verified (over verifications: batches a verification merged)"))
	share, _ := meter.Float64ObservableGauge("fieldmint.ingest.signature.bad_share", metric.WithDescription("recent share of signatures that did not verify, which sizes the verifier's chunks"))
	valid, bad := metric.WithAttributes(attribute.String("outcome", "valid")), metric.WithAttributes(attribute.String("outcome", "bad"))
	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := v.Stats()
		o.ObserveInt64(signatures, st.Signatures-st.Bad, valid)
		o.ObserveInt64(signatures, st.Bad, bad)
		o.ObserveInt64(verifications, st.Verifications)
		o.ObserveInt64(batches, st.Batches)
		o.ObserveFloat64(share, st.BadShare)
		return nil
	}, signatures, verifications, batches, share)
	if err != nil {
		return nil
	}
	return reg
}

// observeConnections exports the broker's count of connected devices.
func (m metrics) observeConnections(n *int64) {
	telemetry.Meter().Int64ObservableGauge("fieldmint.ingest.mqtt.connections", metric.WithDescription("MQTT devices connected"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(atomic.LoadInt64(n))
			return nil
		}))
}

func reasonAttr(code string) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String("reason", code))
}

// countResults counts a judged batch's readings.
func (m metrics) countResults(ctx context.Context, res *BatchResult) {
	if res.Accepted > 0 {
		m.readings.Add(ctx, int64(res.Accepted), metric.WithAttributes(attribute.String("outcome", "accepted"), attribute.String("reason", "")))
	}
	if res.Rejected == 0 {
		return
	}
	byCode := map[string]int64{}
	for _, r := range res.Results {
		if r.Code != "" {
			byCode[r.Code]++
		}
	}
	for code, n := range byCode {
		m.readings.Add(ctx, n, metric.WithAttributes(attribute.String("outcome", "rejected"), attribute.String("reason", code)))
	}
}

// codeWriter remembers the reason code of the answer, for the request counter.
type codeWriter struct {
	http.ResponseWriter
	code string
}

// Unwrap lets http.ResponseController reach the connection.
func (w *codeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends what was written: a gRPC stream's messages as they are made.
func (w *codeWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func setCode(w http.ResponseWriter, code string) {
	if cw, ok := w.(*codeWriter); ok && code != "" {
		cw.code = code
	}
}

// instrument wraps the routes: a server span per request (continuing the
// caller's traceparent, so a gateway's trace runs on into Kafka), and the
// request counter.
func (s *Service) instrument(mux *http.ServeMux) http.Handler {
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &codeWriter{ResponseWriter: w, code: "OK"}
		mux.ServeHTTP(cw, r)
		s.metrics.requests.Add(r.Context(), 1, metric.WithAttributes(attribute.String("route", r.Pattern), attribute.String("code", cw.code)))
	})
	return otelhttp.NewHandler(counted, "ingest", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		return r.Method + " " + r.URL.Path
	}))
}
