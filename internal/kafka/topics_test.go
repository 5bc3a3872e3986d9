package kafka

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTopicsInSync: with a replication of 3, every topic is created with
// min.insync.replicas 2, so that acks=all means two brokers have a record;
// with one replica (dev) the broker's default stays.
func TestTopicsInSync(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := context.Background()
	for _, tc := range []struct {
		prefix string
		repl   int16
		want   string
	}{{"three.", 3, "2"}, {"one.", 1, ""}} {
		cfg := Config{Brokers: c.ListenAddrs(), TopicPrefix: tc.prefix, Partitions: 2, Replication: tc.repl}
		if err := EnsureTopics(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		cl, err := kgo.NewClient(cfg.Opts()...)
		if err != nil {
			t.Fatal(err)
		}
		tops := cfg.Topics()
		configs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, tops.Devices, tops.Makers, tops.Raw, tops.Valid, tops.Rejected, tops.Epochs)
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range configs {
			got := ""
			for _, kv := range rc.Configs {
				if kv.Key == "min.insync.replicas" && kv.Value != nil && kv.Source == kmsg.ConfigSourceDynamicTopicConfig {
					got = *kv.Value
				}
			}
			if got != tc.want {
				t.Errorf("replication %d: topic %s has min.insync.replicas %q set, want %q", tc.repl, rc.Name, got, tc.want)
			}
		}
	}
}
