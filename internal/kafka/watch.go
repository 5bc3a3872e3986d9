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

// Watch records the lag of role's consumer group every interval and
// registers role's readiness check that it is at most c.ReadyMaxLag (when
// set), until ctx ends. (Whether Kafka answers at all is the outage watch's
// check, <role>/kafka.)
func Watch(ctx context.Context, c Config, role, group string, interval time.Duration) error {
	cl, err := kgo.NewClient(c.Opts()...)
	if err != nil {
		return err
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
