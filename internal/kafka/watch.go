package kafka

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
)

var lagGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.kafka.consumer_lag",
	metric.WithDescription("records a consumer group has still to read, by group and topic, summed over partitions (transaction markers count one each)"))

// Reachable is a readiness check: the client reaches a broker.
func Reachable(cl *kgo.Client) telemetry.Check {
	// Ping asks the first broker that answers for the cluster's metadata.
	return func(ctx context.Context) error { return cl.Ping(ctx) }
}

// Watch registers role's readiness check that Kafka is reachable and, for a
// consumer group's role, records the group's lag every interval and checks
// it is at most c.ReadyMaxLag (when set); all until ctx ends.
func Watch(ctx context.Context, c Config, role, group string, interval time.Duration) error {
	cl, err := kgo.NewClient(c.Opts()...)
	if err != nil {
		return err
	}
	removeReachable := telemetry.AddCheck(role+"/kafka", Reachable(cl))
	if group == "" {
		context.AfterFunc(ctx, func() { removeReachable(); cl.Close() })
		return nil
	}
	var lag atomic.Int64
	removeLag := telemetry.AddCheck(role+"/lag", func(context.Context) error {
		if n := lag.Load(); c.ReadyMaxLag > 0 && n > c.ReadyMaxLag {
			return fmt.Errorf("consumer group %s is %d records behind (kafka.readyMaxLag %d)", group, n, c.ReadyMaxLag)
		}
		return nil
	})
	go func() {
		defer cl.Close()
		defer removeReachable()
		defer removeLag()
		adm := kadm.NewClient(cl)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if lags, err := adm.Lag(ctx, group); err == nil {
				var total int64
				for _, tl := range lags[group].Lag.TotalByTopic().Sorted() {
					lagGauge.Record(ctx, tl.Lag, metric.WithAttributes(attribute.String("group", group), attribute.String("topic", tl.Topic)))
					total += tl.Lag
				}
				lag.Store(total)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}
