// Package validators decides every raw reading: valid, or rejected with one
// reason code from the catalog in checks.go. Instances are stateless members
// of one consumer group: the per-device history the checks need lives in
// memory and is rebuilt from the valid topic when partitions are assigned.
// Consume-decide-produce runs in Kafka transactions, so a crash neither loses
// nor duplicates a decision.
package validators

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/registry"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Config of a validator instance.
type Config struct {
	Group      string        `yaml:"group" help:"consumer group shared by all validator instances"`
	InstanceID string        `yaml:"instanceId" help:"transactional id, unique per running instance and kept across its restarts, so a restart fences the transaction its crash left open (empty: hostname-pid)"`
	MaxFuture  time.Duration `yaml:"maxFuture" help:"how far a reading's event time may be ahead of the ingest clock"`
	MaxPast    time.Duration `yaml:"maxPast" help:"how far a reading's event time may be behind the ingest clock"`
	RulesFile  string        `yaml:"rulesFile" help:"YAML file of per-kind thresholds overriding the defaults (see validators/README.md); empty: the defaults"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Group: "fieldmint-validators", MaxFuture: 2 * time.Minute, MaxPast: time.Hour}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Group == "" || c.MaxFuture <= 0 || c.MaxPast <= 0 {
		return errors.New("validate: group, maxFuture and maxPast are required")
	}
	return nil
}

// Service is one validator instance.
type Service struct {
	cfg    Config
	kc     kafka.Config
	topics kafka.Topics
	rules  map[pb.ResourceKind]KindRules
	reg    *registry.Registry // devices' state (denylist, deactivation) and asserted locations
	log    *slog.Logger

	mu         sync.Mutex
	checkers   map[int32]*Checker // per assigned partition
	rebuildErr error              // set by the assignment callback; stops Run
	metrics    metrics
	// OnDecision, if set, is called for every committed decision (tests).
	OnDecision func(r *pb.Reading, d Decision)
}

// New creates a validator instance.
func New(cfg Config, kc kafka.Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.InstanceID == "" {
		host, _ := os.Hostname()
		cfg.InstanceID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	rules, err := LoadRules(cfg.RulesFile)
	if err != nil {
		return nil, err
	}
	reg, err := registry.New(kc, log)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, kc: kc, topics: kc.Topics(), rules: rules, reg: reg, log: log, checkers: map[int32]*Checker{}, metrics: newMetrics()}, nil
}

// Run consumes until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.reg.Close()
	// The registry first: a denylisting ingest applied must be seen here.
	if err := s.reg.Sync(ctx); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	rctx, stopRegistry := context.WithCancel(ctx)
	defer stopRegistry()
	go s.reg.Run(rctx)
	sess, err := kgo.NewGroupTransactSession(append(append(s.kc.Opts(), s.kc.GroupOpts(s.cfg.Group)...),
		kgo.TransactionalID("fieldmint-validator-"+s.cfg.InstanceID),
		kgo.ConsumeTopics(s.topics.Raw),
		// Only committed raw records; group offsets are always fetched stable
		// (franz-go requires it), so none skips past an open transaction.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Output partition = input partition, so partition p of the valid
		// topic is exactly the history of the devices of raw partition p.
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.OnPartitionsAssigned(s.assigned),
		kgo.OnPartitionsRevoked(s.revoked),
		kgo.OnPartitionsLost(s.revoked),
	)...)
	if err != nil {
		return err
	}
	defer sess.Close()
	for {
		fetches := sess.PollRecords(ctx, 5000)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		s.mu.Lock()
		rerr := s.rebuildErr
		s.mu.Unlock()
		if rerr != nil {
			return rerr
		}
		fetches.EachError(func(t string, p int32, err error) {
			s.log.Warn("validator fetch", "topic", t, "partition", p, "err", err)
		})
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := s.process(ctx, sess, fetches); err != nil {
			return err
		}
	}
}

type decided struct {
	reading *pb.Reading
	d       Decision
}

func (s *Service) process(ctx context.Context, sess *kgo.GroupTransactSession, fetches kgo.Fetches) error {
	if err := sess.Begin(); err != nil {
		return fmt.Errorf("validate: begin transaction: %w", err)
	}
	promise := kgo.AbortingFirstErrPromise(sess.Client())
	var out []decided
	var spans []trace.Span // of the traced readings (few: traces are sampled)
	s.mu.Lock()
	fetches.EachRecord(func(rec *kgo.Record) {
		c := s.checkers[rec.Partition]
		if c == nil { // assigned while this fetch was in flight: cannot happen in a session, be safe
			c = s.newChecker()
			s.checkers[rec.Partition] = c
		}
		value, topic, dec := s.decide(c, rec)
		out = append(out, dec)
		// The decision continues the reading's trace, and the decided record
		// carries it on to the aggregator.
		pctx, span := telemetry.ProcessSpan(rec, "validate")
		if span != nil {
			span.SetAttributes(attribute.String("fieldmint.reason", dec.d.Reason))
			spans = append(spans, span)
		}
		// Dated as the raw record (ingest's time of receipt), not now: a
		// rebuild finds the history it needs by these timestamps.
		sess.Produce(ctx, &kgo.Record{Topic: topic, Partition: rec.Partition, Key: rec.Key, Value: value, Headers: rec.Headers, Timestamp: rec.Timestamp, Context: pctx}, promise.Promise())
	})
	s.mu.Unlock()
	committed, err := sess.End(ctx, promise.Err() == nil)
	for _, span := range spans {
		span.End()
	}
	s.mu.Lock()
	for _, c := range s.checkers {
		if committed {
			c.Commit()
		} else {
			c.Abort()
		}
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("validate: end transaction: %w", err)
	}
	if !committed {
		s.log.Info("validate: transaction aborted, records will be decided again", "records", len(out), "produceErr", promise.Err())
		return nil
	}
	s.metrics.count(ctx, out)
	if s.OnDecision != nil {
		for _, d := range out {
			s.OnDecision(d.reading, d.d)
		}
	}
	return nil
}

func (s *Service) decide(c *Checker, rec *kgo.Record) ([]byte, string, decided) {
	raw := &pb.RawReading{}
	var d Decision
	if err := unmarshalRaw(rec.Value, raw); err != nil || raw.GetSigned().GetReading() == nil {
		d = Decision{Reason: ReasonUndecodable, Detail: fmt.Sprintf("raw record at offset %d does not decode", rec.Offset)}
		raw = &pb.RawReading{Signed: &pb.SignedReading{Reading: &pb.Reading{DeviceId: string(rec.Key)}}, ReceivedAtMs: rec.Timestamp.UnixMilli()}
	} else {
		d = c.Check(raw, s.reg.Get(raw.Signed.Reading.DeviceId))
	}
	r := raw.Signed.Reading
	var value []byte
	topic := s.topics.Valid
	if d.Reason == "" {
		value, _ = proto.Marshal(&pb.ValidReading{Reading: r, Owner: raw.Owner, ReceivedAtMs: raw.ReceivedAtMs, Score: d.Score, Signature: raw.Signed.Signature,
			AssertedLocation: s.reg.Get(r.DeviceId).GetLocation(), ReadingBytes: raw.GetSignedV2().GetReading()})
	} else {
		topic = s.topics.Rejected
		value, _ = proto.Marshal(&pb.RejectedReading{Reading: r, Owner: raw.Owner, ReceivedAtMs: raw.ReceivedAtMs, Reason: d.Reason, Detail: d.Detail, Signature: raw.Signed.Signature,
			ReadingBytes: raw.GetSignedV2().GetReading()})
	}
	return value, topic, decided{reading: r, d: d}
}

// unmarshalRaw decodes a raw record. A v2 reading (bytes as the device sent
// them, verified by ingest) is decoded into Signed, so that the checks see
// one shape; its bytes stay in SignedV2 for the audit trail.
func unmarshalRaw(b []byte, raw *pb.RawReading) error {
	if err := proto.Unmarshal(b, raw); err != nil {
		return err
	}
	if v2 := raw.GetSignedV2(); v2 != nil {
		r := &pb.Reading{}
		if err := proto.Unmarshal(v2.GetReading(), r); err != nil {
			return err
		}
		raw.Signed = &pb.SignedReading{Reading: r, Signature: v2.GetSignature()}
	}
	return nil
}

func (s *Service) newChecker() *Checker {
	c := NewChecker(s.rules, s.cfg.MaxFuture, s.cfg.MaxPast)
	c.Lookup, c.Maker = s.reg.Get, s.reg.Maker
	return c
}

// assigned rebuilds the history of newly assigned partitions from the valid
// topic before any of their records is decided.
func (s *Service) assigned(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
	parts := assigned[s.topics.Raw]
	if len(parts) == 0 {
		return
	}
	start := time.Now()
	checkers, n, err := s.rebuild(ctx, parts)
	if err != nil {
		// Deciding without history would accept replays: stop rather than guess.
		s.mu.Lock()
		s.rebuildErr = fmt.Errorf("validate: rebuild history of partitions %v: %w", parts, err)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	for p, c := range checkers {
		s.checkers[p] = c
	}
	s.mu.Unlock()
	s.log.Info("validate: partitions assigned, history rebuilt", "partitions", parts, "validReadings", n, "took", time.Since(start).Round(time.Millisecond))
}

func (s *Service) revoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	s.mu.Lock()
	for _, p := range revoked[s.topics.Raw] {
		delete(s.checkers, p)
	}
	s.mu.Unlock()
}

// HistoryWindow is how far back, in ingest's time of receipt, a rebuild
// reads the decided topics: what any check can look back at. A copy of a
// reading is judged against the original only while it is not stale, so
// an original received more than maxPast + maxFuture before the copy can
// not matter; the checks across devices look back twice their longest
// window; 10 minutes more absorb the clocks of ingest replicas. A device
// silent for longer starts afresh (its old sequence number forgotten),
// which no replay can exploit: a replayed reading that old is stale.
func (s *Service) HistoryWindow() time.Duration {
	c := s.newChecker()
	return s.cfg.MaxPast + s.cfg.MaxFuture + 2*max(c.cloneWindow, c.beaconWindow) + 10*time.Minute
}

// rebuild reads partitions of the valid and rejected topics, from
// HistoryWindow before their newest record to their last stable offset:
// the valid readings make the history, the rejected ones the memory of
// what was rejected (so that a retried copy is a duplicate). Decided
// records carry the raw record's timestamp (ingest's receipt), so the
// window is found by timestamp, and what is read does not grow with the
// topic. Control records are kept so that the end is recognised even when
// the log ends with a transaction marker.
func (s *Service) rebuild(ctx context.Context, parts []int32) (map[int32]*Checker, int, error) {
	checkers := map[int32]*Checker{}
	for _, p := range parts {
		checkers[p] = s.newChecker()
	}
	topics := []string{s.topics.Valid, s.topics.Rejected}
	boot, err := kgo.NewClient(s.kc.Opts()...)
	if err != nil {
		return nil, 0, err
	}
	from, want, err := s.historyRange(ctx, kadm.NewClient(boot), topics, parts)
	boot.Close()
	if err != nil {
		return nil, 0, err
	}
	cl, err := kgo.NewClient(append(s.kc.Opts(),
		kgo.ConsumePartitions(from),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	n := 0
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return nil, 0, ferr
		}
		fs.EachRecord(func(rec *kgo.Record) {
			switch {
			case rec.Attrs.IsControl():
			case rec.Topic == s.topics.Valid:
				v := &pb.ValidReading{}
				if proto.Unmarshal(rec.Value, v) == nil && v.Reading != nil {
					checkers[rec.Partition].remember(v)
					n++
				}
			default:
				v := &pb.RejectedReading{}
				if proto.Unmarshal(rec.Value, v) == nil {
					checkers[rec.Partition].rememberRejected(v)
				}
			}
			if end, ok := want[topicPart{rec.Topic, rec.Partition}]; ok && rec.Offset+1 >= end {
				delete(want, topicPart{rec.Topic, rec.Partition})
			}
		})
		for _, c := range checkers {
			c.Commit()
		}
	}
	return checkers, n, nil
}

type topicPart struct {
	topic string
	p     int32
}

// historyRange returns where a rebuild starts reading each partition of
// topics (HistoryWindow before the partition's newest record) and the
// last stable offset it reads to, for the partitions holding anything in
// between.
func (s *Service) historyRange(ctx context.Context, adm *kadm.Client, topics []string, parts []int32) (map[string]map[int32]kgo.Offset, map[topicPart]int64, error) {
	ends, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return nil, nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, nil, err
	}
	newest, err := adm.ListMaxTimestampOffsets(ctx, topics...)
	if err != nil {
		return nil, nil, err
	}
	window := s.HistoryWindow().Milliseconds()
	from := map[string]map[int32]kgo.Offset{}
	want := map[topicPart]int64{}
	for _, t := range topics {
		from[t] = map[int32]kgo.Offset{}
		for _, p := range parts {
			end, _ := ends.Lookup(t, p)
			start, _ := starts.Lookup(t, p)
			first := start.Offset
			if n, ok := newest.Lookup(t, p); ok && n.Err == nil && n.Offset >= 0 && n.Timestamp > window {
				after, err := adm.ListOffsetsAfterMilli(ctx, n.Timestamp-window, t)
				if err != nil {
					return nil, nil, err
				}
				if a, ok := after.Lookup(t, p); ok && a.Err == nil && a.Offset > first {
					first = a.Offset
				}
			}
			from[t][p] = kgo.NewOffset().At(first)
			if end.Offset > first {
				want[topicPart{t, p}] = end.Offset
			}
		}
	}
	return from, want, nil
}
