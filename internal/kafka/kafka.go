// Package kafka holds what every stage shares about Kafka: the topic names,
// client options and topic creation.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/fieldmint/fieldmint/internal/config"
	"github.com/fieldmint/fieldmint/internal/telemetry"
)

// Config says where Kafka is and how fieldmint's topics are named.
type Config struct {
	Brokers     []string `yaml:"brokers" help:"seed brokers, comma-separated host:port"`
	TopicPrefix string   `yaml:"topicPrefix" help:"prefix of every topic name"`
	// Independent operators (docs/decentralization.md) share the inputs and
	// the votes, and each keeps the topics its own validators and
	// aggregator write.
	SharedTopicPrefix string `yaml:"sharedTopicPrefix" help:"prefix of the topics independent operators share (raw readings, the device and maker registries, the settlers' votes); empty: topicPrefix"`
	Partitions        int32  `yaml:"partitions" help:"partitions of each topic when fieldmint creates it (the same for all reading topics)"`
	Replication       int16  `yaml:"replication" help:"replication factor of topics fieldmint creates (-1: broker default)"`
	// A member that dies without leaving (kill -9, a lost node) holds its
	// partitions until this passes; the broker bounds it (6 s to 30 min by
	// default).
	SessionTimeout time.Duration `yaml:"sessionTimeout" help:"how long a consumer-group member may go silent before its partitions move to others; a rebalance waits at most twice this for a member that died during it"`
	ReadyMaxLag    int64         `yaml:"readyMaxLag" help:"records a validator's or aggregator's consumer group may lag before /readyz reports it not ready (0: lag never does)"`
	// Managed Kafka (MSK, Confluent Cloud, Aiven, Strimzi with listeners
	// secured) wants TLS, and SASL over it.
	TLS  config.TLS `yaml:"tls"`
	SASL SASL       `yaml:"sasl"`
}

// SASL authenticates the client to the brokers.
type SASL struct {
	Mechanism string `yaml:"mechanism" help:"SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)"`
	User      string `yaml:"user" help:"SASL user name"`
	Password  string `yaml:"password" help:"SASL password (prefer the environment variable)" secret:"true"`
}

// mechanism returns the SASL mechanism, or nil when SASL is off.
func (s SASL) mechanism() (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "":
		if s.User != "" || s.Password != "" {
			return nil, errors.New("kafka.sasl: user or password set without a mechanism: set kafka.sasl.mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return nil, nil
	case "PLAIN":
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka: brokers are required")
	}
	if c.Partitions < 1 {
		return errors.New("kafka: partitions must be at least 1")
	}
	if c.Replication < -1 {
		return errors.New("kafka: replication must be a replica count, or -1 or 0 for the broker's default")
	}
	if c.ReadyMaxLag < 0 {
		return errors.New("kafka: readyMaxLag must be 0 (off) or a record count")
	}
	if _, err := c.TLS.Config(); err != nil {
		return fmt.Errorf("kafka.%w", err)
	}
	if _, err := c.SASL.mechanism(); err != nil {
		return err
	}
	if c.SASL.Mechanism == "PLAIN" && !c.TLS.Enabled {
		return errors.New("kafka.sasl: PLAIN sends the password as it is: enable kafka.tls")
	}
	return nil
}

// Topics are the topic names of one deployment.
type Topics struct {
	Devices  string // compacted device registry
	Makers   string // compacted registry of makers
	Raw      string // readings accepted by ingest
	Valid    string // readings that passed validation
	Rejected string // readings refused by validation
	Epochs   string // epoch-closed records
	Votes    string // compacted settlers' votes, keyed by epoch, round and signer
}

// Topics returns the prefixed topic names: the shared ones (what ingest
// writes, and the votes) under sharedTopicPrefix, the operator's own
// (what its validators and aggregator write) under topicPrefix.
func (c Config) Topics() Topics {
	p, shared := c.TopicPrefix, c.SharedTopicPrefix
	if shared == "" {
		shared = p
	}
	return Topics{Devices: shared + "devices", Makers: shared + "makers", Raw: shared + "readings.raw", Votes: shared + "settlement.votes",
		Valid: p + "readings.valid", Rejected: p + "readings.rejected", Epochs: p + "epochs"}
}

// Opts returns the options every client starts from. Records are keyed by
// device id; ingest partitions readings by their device's region
// (RegionPartitioner), so a device stays in one partition, with the other
// devices of its region; the validators write partition p of the valid and
// rejected topics from raw partition p. The
// telemetry hooks count broker traffic and, when tracing, carry each
// record's trace context in its headers.
//
// Validate reports a TLS or SASL setting that cannot work; should one reach
// Opts anyway, every dial fails with its error.
func (c Config) Opts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.WithHooks(telemetry.KafkaHooks()...)}
	tlsCfg, err := c.TLS.Config()
	if err != nil {
		return append(opts, kgo.Dialer(func(context.Context, string, string) (net.Conn, error) { return nil, fmt.Errorf("kafka.%w", err) }))
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	mech, err := c.SASL.mechanism()
	if err != nil {
		return append(opts, kgo.Dialer(func(context.Context, string, string) (net.Conn, error) { return nil, err }))
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return opts
}

// GroupOpts returns the options of a consumer group member.
func (c Config) GroupOpts(group string) []kgo.Opt {
	opts := []kgo.Opt{kgo.ConsumerGroup(group)}
	if c.SessionTimeout > 0 {
		// A member that dies during a rebalance holds the group until the
		// rebalance timeout (60 s by default), however short its session:
		// bound it by the session timeout too. Members must finish what they
		// do on revocation (a validator's transaction) within it.
		opts = append(opts, kgo.SessionTimeout(c.SessionTimeout), kgo.HeartbeatInterval(max(c.SessionTimeout/6, 100*time.Millisecond)),
			kgo.RebalanceTimeout(2*c.SessionTimeout))
	}
	return opts
}

// EnsureTopics creates fieldmint's topics if they do not exist. The reading
// topics all get the same partition count so that partition p of each holds
// the same devices.
func EnsureTopics(ctx context.Context, c Config) error {
	cl, err := kgo.NewClient(c.Opts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	t := c.Topics()
	repl := c.Replication
	if repl == 0 {
		repl = -1
	}
	compact := "compact"
	registry, data := map[string]*string{"cleanup.policy": &compact}, map[string]*string{}
	// acks=all is only as strong as the replicas that must have a record:
	// with three or more, a 2xx needs two in sync (a broker may die, not two).
	if repl >= 3 {
		two := "2"
		registry["min.insync.replicas"], data["min.insync.replicas"] = &two, &two
	}
	if err := create(ctx, adm, 1, repl, registry, t.Devices, t.Makers, t.Votes); err != nil {
		return err
	}
	if err := create(ctx, adm, c.Partitions, repl, data, t.Raw, t.Valid, t.Rejected); err != nil {
		return err
	}
	return create(ctx, adm, 1, repl, data, t.Epochs)
}

func create(ctx context.Context, adm *kadm.Client, partitions int32, repl int16, configs map[string]*string, topics ...string) error {
	resp, err := adm.CreateTopics(ctx, partitions, repl, configs, topics...)
	if err != nil {
		return fmt.Errorf("kafka: create topics: %w", err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka: create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// RegionHeader names the record header holding a reading's region: the
// 1-degree grid square of its device's asserted location. Readings are
// partitioned by it, so that one validator sees every device of a region
// together and can compare them (clones, Sybil clusters, witnesses).
const RegionHeader = "fm-region"

// Region is the region key of a position in degrees times 1e7: the whole
// degrees of latitude and longitude, rounded down ("38,-10"). About 111 km
// by 87 km at 38° N.
func Region(latE7, lonE7 int32) string {
	return string(AppendRegion(nil, latE7, lonE7))
}

// AppendRegion appends Region(latE7, lonE7) to b.
func AppendRegion(b []byte, latE7, lonE7 int32) []byte {
	floorDeg := func(e7 int32) int64 {
		d := int64(e7) / 1e7
		if int64(e7)%1e7 < 0 {
			d--
		}
		return d
	}
	b = strconv.AppendInt(b, floorDeg(latE7), 10)
	return strconv.AppendInt(append(b, ','), floorDeg(lonE7), 10)
}

// RegionPartitioner partitions a record carrying RegionHeader as Kafka's
// default partitioner would a record keyed by the region (murmur2 of it,
// modulo the partition count), and any other record by its key as usual.
func RegionPartitioner() kgo.Partitioner { return regionPartitioner{kgo.StickyKeyPartitioner(nil)} }

type regionPartitioner struct{ byKey kgo.Partitioner }

func (p regionPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	return regionTopicPartitioner{p.byKey.ForTopic(t)}
}

type regionTopicPartitioner struct{ byKey kgo.TopicPartitioner }

func (p regionTopicPartitioner) RequiresConsistency(r *kgo.Record) bool { return true }

func (p regionTopicPartitioner) Partition(r *kgo.Record, n int) int {
	for _, h := range r.Headers {
		if h.Key == RegionHeader {
			return p.byKey.Partition(&kgo.Record{Key: h.Value}, n)
		}
	}
	return p.byKey.Partition(r, n)
}
