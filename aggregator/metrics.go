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
	rows    metric.Int64Counter // rows inserted into readings, by source topic
	inserts metric.Int64Counter // INSERT blocks committed
	epochs  metric.Int64Counter // epochs closed
}

func newMetrics() metrics {
	m := telemetry.Meter()
	rows, _ := m.Int64Counter("fieldmint.aggregator.rows", metric.WithDescription("readings stored in ClickHouse, by source (valid, rejected)"))
	inserts, _ := m.Int64Counter("fieldmint.aggregator.inserts", metric.WithDescription("INSERT blocks stored in ClickHouse"))
	epochs, _ := m.Int64Counter("fieldmint.aggregator.epochs_closed", metric.WithDescription("epochs closed by this instance"))
	return metrics{rows: rows, inserts: inserts, epochs: epochs}
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
