package aggregator

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
)

// metrics are the aggregator's counters, exported by internal/telemetry.
type metrics struct {
	rows    metric.Int64Counter     // rows inserted into readings, by source topic
	inserts metric.Int64Counter     // INSERT blocks committed
	epochs  metric.Int64Counter     // epochs closed
	stopped metric.Int64Counter     // devices an information check left unpaid, by reason
	scoring metric.Float64Histogram // seconds from an epoch's cut to its scored_epochs row
}

func newMetrics() metrics {
	m := telemetry.Meter()
	rows, _ := m.Int64Counter("fieldmint.aggregator.rows", metric.WithDescription("readings stored in ClickHouse, by source (valid, rejected)"))
	inserts, _ := m.Int64Counter("fieldmint.aggregator.inserts", metric.WithDescription("INSERT blocks stored in ClickHouse"))
	epochs, _ := m.Int64Counter("fieldmint.aggregator.epochs_closed", metric.WithDescription("epochs closed by this instance"))
	stopped, _ := m.Int64Counter("fieldmint.aggregator.devices_stopped",
		metric.WithDescription("device-epochs an information check left unpaid (a stream without information of its own), by reason"))
	scoring, _ := m.Float64Histogram("fieldmint.aggregator.epoch_scoring", metric.WithUnit("s"),
		metric.WithDescription("time to score an epoch: its cut, the information checks and the device scores, stored"),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
	return metrics{rows: rows, inserts: inserts, epochs: epochs, stopped: stopped, scoring: scoring}
}

// count adds one stored block of records.
func (m metrics) count(ctx context.Context, recs []*kgo.Record, validTopic string) {
	valid := 0
	for _, r := range recs {
		if r.Topic == validTopic {
			valid++
		}
	}
	m.rows.Add(ctx, int64(valid), metric.WithAttributes(attribute.String("source", "valid")))
	m.rows.Add(ctx, int64(len(recs)-valid), metric.WithAttributes(attribute.String("source", "rejected")))
	m.inserts.Add(ctx, 1)
}

// countStopped adds an epoch's verdicts of the information checks.
func (m metrics) countStopped(ctx context.Context, stop map[string]string) {
	by := map[string]int64{}
	for _, reason := range stop {
		by[reason]++
	}
	for reason, n := range by {
		m.stopped.Add(ctx, n, metric.WithAttributes(attribute.String("reason", reason)))
	}
}
