package validators

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// metrics are the validators' counters, exported by internal/telemetry.
type metrics struct {
	readings metric.Int64Counter // committed decisions by outcome, reason and kind
}

func newMetrics() metrics {
	readings, _ := telemetry.Meter().Int64Counter("fieldmint.validator.readings",
		metric.WithDescription("readings decided (committed), by outcome (valid, rejected), reason code and resource kind"))
	return metrics{readings: readings}
}

// count adds a committed transaction's decisions, grouped first: a
// transaction holds thousands of readings but few distinct outcomes.
func (m metrics) count(ctx context.Context, out []decided) {
	type key struct {
		reason string
		kind   pb.ResourceKind // named once a key: Kind.String() looks it up in the descriptor
	}
	n := map[key]int64{}
	for _, d := range out {
		n[key{d.d.Reason, d.reading.GetKind()}]++
	}
	for k, c := range n {
		outcome := "valid"
		if k.reason != "" {
			outcome = "rejected"
		}
		m.readings.Add(ctx, c, metric.WithAttributes(attribute.String("outcome", outcome), attribute.String("reason", k.reason), attribute.String("kind", k.kind.String())))
	}
}
