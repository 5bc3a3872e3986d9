// Package aggregator writes decided readings into ClickHouse exactly once and
// closes epochs by event-time watermark.
//
// Exactly once: every poll becomes one INSERT into the readings table, whose
// rows carry their Kafka topic, partition and offset; the table's progress
// projection (committed inside the same parts) gives the highest offset per
// partition. On assignment the aggregator resumes after that offset, so an
// INSERT that landed is never repeated; a retried INSERT carries the same
// insert_deduplication_token, so one that did land while we saw an error is
// dropped by ClickHouse; and an INSERT whose writer died in flight is found
// by its intent and written again under the same token (recoverPending).
//
// Epochs: the watermark of a partition is the highest min(event time, ingest
// time) written for it. A valid reading whose partition's watermark has
// passed its epoch's end plus the allowed lateness is stored as rejected with
// reason LATE, and an epoch closes once every active partition's watermark
// has passed that point. Both follow from the Kafka log alone, so crashes,
// rebalances and replays give the same scores. One instance closes epochs:
// the one holding partition 0 of the valid topic.
package aggregator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// ReasonLate marks a valid reading that arrived after its epoch closed.
const ReasonLate = "LATE"

// Config of the aggregator.
type Config struct {
	Group           string        `yaml:"group" help:"consumer group of the aggregator"`
	EpochLength     time.Duration `yaml:"epochLength" help:"length of a reward epoch (epoch n covers [n*len, (n+1)*len) of Unix time)"`
	AllowedLateness time.Duration `yaml:"allowedLateness" help:"how long after an epoch's end its readings are still accepted"`
	IdleTimeout     time.Duration `yaml:"idleTimeout" help:"a partition this far behind the freshest one does not hold epochs open"`
	BatchSize       int           `yaml:"batchSize" help:"most readings per ClickHouse INSERT"`
	FlushInterval   time.Duration `yaml:"flushInterval" help:"longest wait for a batch to fill"`
	InsertTimeout   time.Duration `yaml:"insertTimeout" help:"longest time one INSERT may take, retries included; a stopping aggregator waits for it"`
	ScoringFile     string        `yaml:"scoringFile" help:"YAML file of per-kind scoring (interval, weight, cellResolution; see docs/scoring.md) over the defaults; empty: the defaults"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Group: "fieldmint-aggregator", EpochLength: time.Hour, AllowedLateness: time.Minute, IdleTimeout: 5 * time.Minute, BatchSize: 50_000, FlushInterval: time.Second, InsertTimeout: time.Minute}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Group == "" || c.EpochLength < time.Millisecond || c.AllowedLateness < 0 || c.BatchSize <= 0 || c.FlushInterval <= 0 || c.IdleTimeout <= 0 || c.InsertTimeout <= 0 {
		return errors.New("aggregate: group, epochLength, batchSize, flushInterval, idleTimeout and insertTimeout must be set, allowedLateness not negative")
	}
	return nil
}

// Epoch returns the epoch of an event time in Unix milliseconds.
func (c Config) Epoch(ms int64) uint64 {
	if ms < 0 {
		return 0
	}
	return uint64(ms / c.EpochLength.Milliseconds())
}

// Service is an aggregator instance.
type Service struct {
	cfg           Config
	kc            kafka.Config
	topics        kafka.Topics
	conn          driver.Conn
	blocks        *clickhouse.Inserter // the readings INSERTs
	spare         *columns             // a written block's columns, for the next
	rec           record               // toRow's decoded record, reused
	log           *slog.Logger
	producer      *kgo.Client // nil in a replay
	admin         *kadm.Client
	closedThrough uint64    // every epoch <= this is closed
	held          heldOpen  // since when nothing new closed
	nextClose     time.Time // when the epochs' closing is next checked (closeCheckEvery)
	scoredThrough uint64    // every epoch <= this is scored
	// The watermark of each partition read, as of its last record; touched
	// only while rebalances are blocked or from the rebalance callbacks.
	wm map[topicPartition]time.Time
	// stored: the highest offset of each partition ClickHouse holds, as of
	// the last assignment and this instance's writes since (same rule as wm).
	stored map[topicPartition]int64
	// closer: this instance holds partition 0 of the valid topic, which makes
	// it the one that closes epochs.
	closer bool
	// gaps: each partition's unstored records as closable last saw them.
	gaps map[topicPartition]gap
	// OnEpochClosed, if set, is called after an epoch-closed record is written.
	OnEpochClosed func(*pb.EpochClosed)

	// replay: rebuild a database from the log up to these end offsets, then
	// stop; epochs are closed in ClickHouse only, never announced on Kafka.
	replayEnds map[topicPartition]int64
	replayed   map[topicPartition]int64 // next offset to read, control records included
	// liveCuts: in a replay, the cut each epoch was scored with live.
	liveCuts map[uint64]map[int32]int64
	// rejectedTarget: the rejections an epoch ready to close waits for
	// (awaitRejections); nil when none is waiting.
	rejectedTarget *rejectedSnapshot

	metrics metrics
	scoring Scoring
}

// New creates an aggregator writing to conn (a migrated ClickHouse
// connection), its blocks of readings through blocks (to the same database).
func New(cfg Config, kc kafka.Config, conn driver.Conn, blocks *clickhouse.Inserter, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	scoring, err := LoadScoring(cfg.ScoringFile)
	if err != nil {
		return nil, err
	}
	if err := scoring.Validate(cfg.EpochLength); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, kc: kc, topics: kc.Topics(), conn: conn, blocks: blocks, log: log, wm: map[topicPartition]time.Time{}, stored: map[topicPartition]int64{}, gaps: map[topicPartition]gap{}, metrics: newMetrics(), scoring: scoring}, nil
}

// Run consumes until ctx ends. Work cut short by ctx is not an error: it is
// resumed from ClickHouse's offsets by the next run.
func (s *Service) Run(ctx context.Context) error {
	mctx, cancel := context.WithCancel(ctx)
	mirrored := make(chan struct{})
	go func() { defer close(mirrored); s.followDevices(mctx) }()
	defer func() { cancel(); <-mirrored }()
	err := s.run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// fetchMinBytes is what the registry mirror's fetch waits for (or
// FlushInterval): a few thousand registrations.
const fetchMinBytes = 1 << 20

// recordBytes is about what a decided reading takes in a fetch (a v2
// reading's signed bytes and signature, its envelope, batch overhead).
const recordBytes = 128

// blockBytes is what a readings fetch waits for: a full block (BatchSize
// readings), so that only FlushInterval cuts a block short.
func (c Config) blockBytes() int32 {
	return int32(min(c.BatchSize*recordBytes, 64<<20))
}

func (s *Service) run(ctx context.Context) error {
	var err error
	adminClient, err := kgo.NewClient(s.kc.Opts()...)
	if err != nil {
		return err
	}
	defer adminClient.Close()
	s.admin = kadm.NewClient(adminClient)
	if s.replayEnds == nil {
		s.producer = adminClient
	}
	if err := s.readClosed(ctx); err != nil {
		return err
	}
	block := s.cfg.blockBytes()
	cl, err := kgo.NewClient(append(append(s.kc.Opts(), s.kc.GroupOpts(s.cfg.Group)...),
		kgo.ConsumeTopics(s.topics.Valid, s.topics.Rejected),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// ClickHouse, not the group's committed offsets, says where to resume.
		kgo.AdjustFetchOffsetsFn(s.resume),
		kgo.OnPartitionsAssigned(s.assigned),
		kgo.OnPartitionsRevoked(s.revoked),
		kgo.OnPartitionsLost(s.revoked),
		// Offsets are committed only for lag monitoring, after each INSERT.
		kgo.DisableAutoCommit(),
		// A poll's records are inserted before partitions can move to another
		// instance, so no two instances ever hold the same uninserted records.
		kgo.BlockRebalanceOnPoll(),
		// The broker holds a fetch until it has a full block (BatchSize
		// readings) or FlushInterval passed: each INSERT (with its intent,
		// the materialized views, the parts they make and the merges those
		// parts cost) costs ClickHouse much the same whatever its size, so
		// fewer, fuller blocks are what keeps ClickHouse's CPU flat as the
		// rate grows (docs/performance.md: 16 µs a row in blocks of 9,400,
		// 7 in blocks of 37,600). Without a minimum a fetch returned as soon
		// as anything arrived (inserts of a few hundred rows); with 1 MB, as
		// it was, at about 9,000 readings, twice a second at 20,000/s.
		kgo.FetchMinBytes(block),
		kgo.FetchMaxPartitionBytes(block),
		kgo.FetchMaxWait(s.cfg.FlushInterval),
		// Replay must see transaction markers to know it reached the end.
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// Runs before Close: a client that still blocks rebalances cannot leave its group.
	defer cl.AllowRebalance()
	for {
		// A poll gives up after a few flush intervals without records, so
		// that the instance closing epochs looks again when its own
		// partitions went quiet but others' data (stored by other
		// instances) may have made an epoch closable: at the end of a
		// stream it waited for data that never came, and the last epoch
		// stayed open until idleTimeout.
		pctx, cancel := context.WithTimeout(ctx, 3*s.cfg.FlushInterval)
		fetches := cl.PollRecords(pctx, s.cfg.BatchSize)
		cancel()
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				s.log.Warn("aggregate fetch", "topic", t, "partition", p, "err", err)
			}
		})
		recs := fetches.Records()
		data := recs[:0:0]
		for _, rec := range recs {
			if s.replayed != nil {
				k := topicPartition{rec.Topic, rec.Partition}
				s.replayed[k] = max(s.replayed[k], rec.Offset+1)
			}
			if !rec.Attrs.IsControl() {
				data = append(data, rec)
			}
		}
		data = s.unstored(data)
		if len(data) > 0 {
			// Traced readings (a sampled few) end their trace with the INSERT.
			var spans []trace.Span
			for _, rec := range data {
				if _, span := telemetry.ProcessSpan(rec, "clickhouse insert"); span != nil {
					spans = append(spans, span)
				}
			}
			b := s.newBlock(data, s.wm)
			err := s.write(ctx, b)
			s.spare = b.rows // written or given up: the next block reuses its memory
			for _, span := range spans {
				span.SetAttributes(attribute.Int("fieldmint.block_rows", len(data)))
				if err != nil {
					span.SetStatus(codes.Error, err.Error())
				}
				span.End()
			}
			if err != nil {
				return err
			}
			s.metrics.count(ctx, data, s.topics.Valid)
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				s.log.Debug("aggregate: commit offsets (monitoring only)", "err", err)
			}
		}
		// Still blocking rebalances: ownership of partition 0 cannot move
		// while this instance closes epochs.
		if err := s.maybeClose(ctx); err != nil {
			return err
		}
		cl.AllowRebalance()
		if s.replayEnds != nil && s.replayDone() {
			s.log.Info("replay: reached the end of the log")
			return nil
		}
	}
}

func (s *Service) assigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	if slices.Contains(parts[s.topics.Valid], 0) {
		s.closer = true
		s.log.Info("aggregate: this instance closes epochs (it holds partition 0)")
	}
}

func (s *Service) revoked(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	if slices.Contains(parts[s.topics.Valid], 0) {
		s.closer = false
	}
}

func (s *Service) readClosed(ctx context.Context) error {
	if err := s.conn.QueryRow(ctx, sqlNewestClosed).Scan(&s.closedThrough); err != nil {
		return fmt.Errorf("aggregate: read closed epochs: %w", err)
	}
	if err := s.conn.QueryRow(ctx, sqlNewestScored).Scan(&s.scoredThrough); err != nil {
		return fmt.Errorf("aggregate: read scored epochs: %w", err)
	}
	return nil
}
