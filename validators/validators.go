// Package validators decides every raw reading: valid, or rejected with one
// reason code from the catalog in checks.go. Instances are stateless members
// of one consumer group: the per-device history the checks need lives in
// memory and is rebuilt from the valid topic when partitions are assigned.
// Consume-decide-produce runs in Kafka transactions, so a crash neither loses
// nor duplicates a decision.
package validators

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

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
	// A transaction a poll: fewer, larger ones cost the validator, the
	// broker and the read-committed readers less (docs/performance.md).
	FetchMinBytes int32         `yaml:"fetchMinBytes" help:"raw bytes a fetch waits for (or fetchMaxWait) before the validator decides them in one transaction"`
	FetchMaxWait  time.Duration `yaml:"fetchMaxWait" help:"longest a fetch waits for fetchMinBytes: what a reading may wait here for company"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Group: "fieldmint-validators", MaxFuture: 2 * time.Minute, MaxPast: time.Hour, FetchMinBytes: 256 << 10, FetchMaxWait: 50 * time.Millisecond}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Group == "" || c.MaxFuture <= 0 || c.MaxPast <= 0 {
		return errors.New("validate: group, maxFuture and maxPast are required")
	}
	if c.FetchMinBytes < 1 || c.FetchMaxWait < time.Millisecond {
		return errors.New("validate: fetchMinBytes must be at least 1 and fetchMaxWait at least 1ms")
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

	closeOnce  sync.Once
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

// Close releases the registry's Kafka client: Run does when it returns; a
// Service that never runs must be closed.
func (s *Service) Close() { s.closeOnce.Do(s.reg.Close) }

// Run consumes until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	// The registry first: a denylisting ingest applied must be seen here.
	if err := s.reg.Sync(ctx); err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	rctx, stopRegistry := context.WithCancel(ctx)
	defer stopRegistry()
	go s.reg.Run(rctx)
	sess, err := kgo.NewGroupTransactSession(append(append(s.kc.Opts(), s.kc.GroupOpts(s.cfg.Group)...),
		// The group is in the id: independent operators share the broker
		// (docs/decentralization.md), and their instances must not fence
		// each other's transactions.
		kgo.TransactionalID("fieldmint-validator-"+s.cfg.Group+"-"+s.cfg.InstanceID),
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
		// The broker holds a fetch until fetchMinBytes of raw records or
		// fetchMaxWait: each poll is one transaction (its partitions added,
		// its offsets, its markers), and polls that took whatever had
		// arrived made about 50 transactions a second at 30,000 readings.
		kgo.FetchMinBytes(s.cfg.FetchMinBytes),
		kgo.FetchMaxWait(s.cfg.FetchMaxWait),
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
	out := make([]decided, 0, fetches.NumRecords())
	var encErr error
	var spans []trace.Span // of the traced readings (few: traces are sampled)
	s.mu.Lock()
	fetches.EachRecord(func(rec *kgo.Record) {
		c := s.checkers[rec.Partition]
		if c == nil { // assigned while this fetch was in flight: cannot happen in a session, be safe
			c = s.newChecker()
			s.checkers[rec.Partition] = c
		}
		value, topic, dec, err := s.decide(c, rec)
		if err != nil {
			encErr = cmp.Or(encErr, err)
			return
		}
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
	committed, err := sess.End(ctx, promise.Err() == nil && encErr == nil)
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
	if encErr != nil {
		return encErr
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

func (s *Service) decide(c *Checker, rec *kgo.Record) ([]byte, string, decided, error) {
	raw := &pb.RawReading{}
	undecodable := unmarshalRaw(rec.Value, raw) != nil || raw.GetSigned().GetReading() == nil
	if undecodable {
		raw = &pb.RawReading{Signed: &pb.SignedReading{Reading: &pb.Reading{DeviceId: string(rec.Key)}}, ReceivedAtMs: rec.Timestamp.UnixMilli()}
	}
	// One look into the registry a reading (a map of every device, so
	// rarely in cache): the checks and the decided record's asserted
	// location see the same registration.
	dev := s.reg.Get(raw.Signed.Reading.DeviceId)
	var d Decision
	if undecodable {
		d = Decision{Reason: ReasonUndecodable, Detail: fmt.Sprintf("raw record at offset %d does not decode", rec.Offset)}
	} else {
		d = c.Check(raw, dev)
	}
	value, topic, d, err := s.encode(raw, dev.GetLocation(), d)
	return value, topic, decided{reading: raw.Signed.Reading, d: d}, err
}

// encode is the decided record of raw. A decision that does not encode (a
// string that is not UTF-8 got past decoding) is stored as an UNDECODABLE
// rejection of the device, never committed as an empty record; only if that
// fails too is the error returned (and the transaction aborted).
//
// The reading goes on as the bytes its signature covers (signedBytes), not
// re-encoded from its decoded form: the aggregator decodes those, and
// stores them with the signature.
func (s *Service) encode(raw *pb.RawReading, asserted *pb.Location, d Decision) ([]byte, string, Decision, error) {
	r := raw.Signed.Reading
	body, canonical, err := signedBytes(raw)
	carried := r
	if body != nil {
		carried = nil
	}
	var value []byte
	topic := s.topics.Valid
	if d.Reason != "" {
		topic = s.topics.Rejected
	}
	if err == nil {
		if v, ok := marshalDecided(raw, asserted, d, body, canonical, trustedBy(raw)); ok {
			return v, topic, d, nil
		}
	}
	switch {
	case err != nil:
	case d.Reason == "":
		value, err = proto.Marshal(&pb.ValidReading{Reading: carried, Owner: raw.Owner, ReceivedAtMs: raw.ReceivedAtMs, Signature: raw.Signed.Signature,
			AssertedLocation: asserted, ReadingBytes: body, Canonical: canonical, Uplink: raw.Uplink, TrustedBy: trustedBy(raw)})
	default:
		value, err = proto.Marshal(&pb.RejectedReading{Reading: carried, Owner: raw.Owner, ReceivedAtMs: raw.ReceivedAtMs, Reason: d.Reason, Detail: d.Detail,
			Signature: raw.Signed.Signature, ReadingBytes: body, Canonical: canonical, Uplink: raw.Uplink, TrustedBy: trustedBy(raw)})
	}
	if err == nil {
		return value, topic, d, nil
	}
	d = Decision{Reason: ReasonUndecodable, Detail: "the decision does not encode: " + err.Error()}
	value, err = proto.Marshal(&pb.RejectedReading{Reading: &pb.Reading{DeviceId: strings.ToValidUTF8(r.GetDeviceId(), "\uFFFD"), Seq: r.GetSeq(),
		EventTimeMs: r.GetEventTimeMs(), Kind: r.GetKind()}, ReceivedAtMs: raw.ReceivedAtMs, Reason: d.Reason, Detail: d.Detail})
	if err != nil {
		return nil, "", d, fmt.Errorf("validate: encode the decision of %q: %w", r.GetDeviceId(), err)
	}
	return value, s.topics.Rejected, d, nil
}

// signedBytes is the reading as its signature covers it after the domain
// prefix: a v2 reading's bytes as the device sent them, or a v1 reading's
// canonical encoding (canonical true; the one re-encoding, for old
// firmware). nil when raw carries no signed reading (an undecodable
// record's stand-in).
func signedBytes(raw *pb.RawReading) (body []byte, canonical bool, err error) {
	if v2 := raw.GetSignedV2(); v2 != nil {
		return v2.GetReading(), false, nil
	}
	if t := raw.GetTrustedReading(); t != nil {
		return t, false, nil // no signature: trusted_by says who vouches
	}
	if len(raw.GetSigned().GetSignature()) == 0 {
		return nil, false, nil
	}
	b, err := pb.CanonicalBytes(raw.Signed.Reading)
	if err != nil {
		return nil, false, err
	}
	return b[len(pb.SigningDomain):], true, nil
}

// trustedBy is the network server that vouches for a reading its device
// did not sign, or "".
func trustedBy(raw *pb.RawReading) string {
	if raw.GetTrustedReading() == nil || raw.GetSignedV2() != nil {
		return ""
	}
	return raw.GetUplink().GetNetworkServer()
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
