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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/fieldmint/fieldmint/internal/geo"
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
	log           *slog.Logger
	producer      *kgo.Client // nil in a replay
	admin         *kadm.Client
	closedThrough uint64 // every epoch <= this is closed
	scoredThrough uint64 // every epoch <= this is scored
	// The watermark of each partition read, as of its last record; touched
	// only while rebalances are blocked or from the rebalance callbacks.
	wm map[topicPartition]time.Time
	// closer: this instance holds partition 0 of the valid topic, which makes
	// it the one that closes epochs.
	closer bool
	// OnEpochClosed, if set, is called after an epoch-closed record is written.
	OnEpochClosed func(*pb.EpochClosed)

	// replay: rebuild a database from the log up to these end offsets, then
	// stop; epochs are closed in ClickHouse only, never announced on Kafka.
	replayEnds map[topicPartition]int64
	replayed   map[topicPartition]int64 // next offset to read, control records included
	// liveCuts: in a replay, the cut each epoch was scored with live.
	liveCuts map[uint64]map[int32]int64

	metrics metrics
	scoring Scoring
}

// Replay reads the valid and rejected topics from the start of the log to
// their current end into ClickHouse, as a new consumer group, closing epochs
// as it goes, and returns when it reached the end. Nothing is written to
// Kafka. It decides exactly as the live aggregator did: LATE by partition
// watermarks, which the log alone determines.
func (s *Service) Replay(ctx context.Context) error {
	adm, err := kgo.NewClient(s.kc.Opts()...)
	if err != nil {
		return err
	}
	admin := kadm.NewClient(adm)
	starts, err := admin.ListStartOffsets(ctx, s.topics.Valid, s.topics.Rejected)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		if ends, err = admin.ListEndOffsets(ctx, s.topics.Valid, s.topics.Rejected); err == nil {
			err = ends.Error()
		}
	}
	adm.Close()
	if err != nil {
		return fmt.Errorf("replay: list offsets: %w", err)
	}
	s.replayEnds, s.replayed = map[topicPartition]int64{}, map[topicPartition]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		k := topicPartition{o.Topic, o.Partition}
		s.replayEnds[k] = o.Offset
		if st, ok := starts.Lookup(o.Topic, o.Partition); ok {
			s.replayed[k] = st.Offset
		}
	})
	if err := s.mirrorDevices(ctx, true); err != nil {
		return err
	}
	if s.liveCuts, err = s.readLiveCuts(ctx); err != nil {
		return err
	}
	s.log.Info("replay: reading the log", "ends", fmt.Sprint(s.replayEnds), "epochCuts", len(s.liveCuts))
	return s.run(ctx)
}

// replayDone reports whether the replay has read every partition to its end.
func (s *Service) replayDone() bool {
	for k, end := range s.replayEnds {
		if s.replayed[k] < end {
			return false
		}
	}
	return true
}

// New creates an aggregator writing to conn (a migrated ClickHouse connection).
func New(cfg Config, kc kafka.Config, conn driver.Conn, log *slog.Logger) (*Service, error) {
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
	return &Service{cfg: cfg, kc: kc, topics: kc.Topics(), conn: conn, log: log, wm: map[topicPartition]time.Time{}, metrics: newMetrics(), scoring: scoring}, nil
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
		fetches := cl.PollRecords(ctx, s.cfg.BatchSize)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			s.log.Warn("aggregate fetch", "topic", t, "partition", p, "err", err)
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
		if len(data) > 0 {
			// Traced readings (a sampled few) end their trace with the INSERT.
			var spans []trace.Span
			for _, rec := range data {
				if _, span := telemetry.ProcessSpan(rec, "clickhouse insert"); span != nil {
					spans = append(spans, span)
				}
			}
			err := s.write(ctx, s.newBlock(data, s.wm))
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
	if err := s.conn.QueryRow(ctx, "SELECT max(epoch) FROM epochs").Scan(&s.closedThrough); err != nil {
		return fmt.Errorf("aggregate: read closed epochs: %w", err)
	}
	if err := s.conn.QueryRow(ctx, "SELECT max(epoch) FROM scored_epochs").Scan(&s.scoredThrough); err != nil {
		return fmt.Errorf("aggregate: read scored epochs: %w", err)
	}
	return nil
}

// progress is what ClickHouse holds of one partition.
type progress struct {
	maxOffset          int64
	watermark, updated time.Time
}

func (s *Service) readProgress(ctx context.Context) (map[topicPartition]progress, error) {
	rows, err := s.conn.Query(ctx, `SELECT kafka_topic, kafka_partition, max_offset, watermark, updated_at
		FROM kafka_progress WHERE kafka_topic IN (?, ?)`, s.topics.Valid, s.topics.Rejected)
	if err != nil {
		return nil, fmt.Errorf("aggregate: read progress: %w", err)
	}
	defer rows.Close()
	out := map[topicPartition]progress{}
	for rows.Next() {
		var topic string
		var part uint32
		var off uint64
		var p progress
		if err := rows.Scan(&topic, &part, &off, &p.watermark, &p.updated); err != nil {
			return nil, err
		}
		p.maxOffset = int64(off)
		out[topicPartition{topic, int32(part)}] = p
	}
	return out, rows.Err()
}

// watermarks returns each partition's watermark as of its last stored record.
func watermarks(progress map[topicPartition]progress) map[topicPartition]time.Time {
	wm := make(map[topicPartition]time.Time, len(progress))
	for k, p := range progress {
		wm[k] = p.watermark
	}
	return wm
}

// resume starts each newly assigned partition after the last offset that
// ClickHouse holds for it, once blocks left pending by a stopped writer are in.
func (s *Service) resume(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	if err := s.recoverPending(ctx); err != nil {
		return nil, err
	}
	prog, err := s.readProgress(ctx)
	if err != nil {
		return nil, err
	}
	for k, p := range prog {
		if ps, ok := offsets[k.topic]; ok {
			if _, ok := ps[k.partition]; ok {
				ps[k.partition] = kgo.NewOffset().At(p.maxOffset + 1)
			}
		}
	}
	// Watermarks continue from the last stored record of each partition, so
	// LATE decisions are the same whichever instance makes them.
	s.wm = watermarks(prog)
	if err := s.readClosed(ctx); err != nil {
		return nil, err
	}
	s.log.Info("aggregate: partitions assigned", "resume", fmt.Sprint(offsets))
	return offsets, nil
}

type row struct {
	deviceID     string
	seq          uint64
	eventTime    time.Time
	epoch        uint64
	kind         string
	owner        string
	measurements map[string]int64
	lat, lon     int32
	receivedAt   time.Time
	status       string
	reason       string
	detail       string
	score        uint64
	topic        string
	partition    uint32
	offset       uint64
	driftM       uint32 // reported position's distance from the asserted location
	witnessOf    string // a hotspot's witness: the beacon's device and sequence number
	witnessSeq   uint64
}

// toRow decodes a record and decides whether a valid reading is LATE, from
// the partition's watermark before the record (then moved past it).
//
// A reading is LATE when its partition's watermark has already passed its
// epoch's end plus the allowed lateness. The watermark is a function of the
// partition's log, so the decision is the same after a crash, on another
// instance, or in a replay; and since an epoch closes only once every
// partition's watermark has passed that point, nothing counted for an epoch
// can arrive after it closed. Partitions left out of closing as idle are the
// exception: a reading there for a closed epoch is LATE because the epoch is
// closed.
func (s *Service) toRow(rec *kgo.Record, wm map[topicPartition]time.Time) row {
	r := row{topic: rec.Topic, partition: uint32(rec.Partition), offset: uint64(rec.Offset)}
	var d record
	rejected := rec.Topic != s.topics.Valid
	if err := d.decode(rec.Value, rejected); err != nil || !d.hasReading {
		d = record{deviceID: string(rec.Key), reason: "UNDECODABLE", detail: "valid record does not decode"}
		if rejected {
			d.detail = "rejected record does not decode"
		}
		rejected = true
	}
	r.owner = d.owner
	if rejected {
		r.status, r.reason, r.detail = "rejected", d.reason, d.detail
	} else {
		r.status, r.score = "valid", d.score
	}
	r.deviceID, r.seq, r.kind, r.measurements = d.deviceID, d.seq, kindName(d.kind), d.measurements
	r.witnessOf, r.witnessSeq = d.witnessOf, d.witnessSeq
	r.eventTime, r.receivedAt = time.UnixMilli(d.eventMs).UTC(), time.UnixMilli(d.receivedMs).UTC()
	r.epoch = s.cfg.Epoch(d.eventMs)
	r.lat, r.lon = d.lat, d.lon
	switch {
	case !d.hasLocation && d.hasAsserted:
		r.lat, r.lon = d.alat, d.alon // placed where it is registered (scoring shares by place)
	case d.hasLocation && d.hasAsserted && !rejected:
		r.driftM = uint32(min(geo.DistanceM(d.alat, d.alon, d.lat, d.lon), math.MaxUint32)) // location trust reads it
	}
	k := topicPartition{rec.Topic, rec.Partition}
	if r.status == "valid" {
		deadline := time.UnixMilli(int64(r.epoch+1)*s.cfg.EpochLength.Milliseconds() + s.cfg.AllowedLateness.Milliseconds()).UTC()
		switch w := wm[k]; {
		case !w.Before(deadline):
			r.status, r.reason, r.score = "rejected", ReasonLate, 0
			r.detail = fmt.Sprintf("epoch %d ended; partition watermark %s had passed its end plus lateness", r.epoch, w.Format(time.RFC3339Nano))
		case r.epoch <= s.closedThrough:
			r.status, r.reason, r.score = "rejected", ReasonLate, 0
			r.detail = fmt.Sprintf("epoch %d closed (closed through %d)", r.epoch, s.closedThrough)
		}
	}
	if w := minTime(r.eventTime, r.receivedAt); w.After(wm[k]) {
		wm[k] = w
	}
	if r.measurements == nil {
		r.measurements = map[string]int64{}
	}
	return r
}

// kindNames are the resource kinds' names: Kind.String() looks each up in
// the descriptor, which showed in the aggregator's profile.
var kindNames = func() map[pb.ResourceKind]string {
	m := map[pb.ResourceKind]string{}
	for v, name := range pb.ResourceKind_name {
		m[pb.ResourceKind(v)] = name
	}
	return m
}()

func kindName(k pb.ResourceKind) string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	return k.String() // a kind newer than this binary: its number
}

// topicPartition names a Kafka partition.
type topicPartition struct {
	topic     string
	partition int32
}

// block is one INSERT: records as rows, the offset range taken from each
// partition, and the deduplication token those ranges determine.
type block struct {
	rows   *columns
	ranges map[topicPartition][2]int64
	token  string
}

// newBlock turns records into rows, moving the watermarks in wm.
func (s *Service) newBlock(recs []*kgo.Record, wm map[topicPartition]time.Time) block {
	b := block{rows: newColumns(len(recs)), ranges: offsetRanges(recs)}
	for _, rec := range recs {
		b.rows.add(s.toRow(rec, wm))
	}
	b.token = dedupToken(b.ranges)
	return b
}

// offsetRanges is the first and last offset recs hold of each partition.
func offsetRanges(recs []*kgo.Record) map[topicPartition][2]int64 {
	ranges := map[topicPartition][2]int64{}
	for _, rec := range recs {
		k := topicPartition{rec.Topic, rec.Partition}
		rg, ok := ranges[k]
		if !ok {
			rg = [2]int64{rec.Offset, rec.Offset}
		}
		ranges[k] = [2]int64{min(rg[0], rec.Offset), max(rg[1], rec.Offset)}
	}
	return ranges
}

// dedupToken names a block by its offset ranges: the same records, read again
// from the log, make the same token.
func dedupToken(ranges map[topicPartition][2]int64) string {
	keys := make([]topicPartition, 0, len(ranges))
	for k := range ranges {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].topic != keys[j].topic {
			return keys[i].topic < keys[j].topic
		}
		return keys[i].partition < keys[j].partition
	})
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s/%d:%d-%d;", k.topic, k.partition, ranges[k][0], ranges[k][1])
	}
	return "readings-" + hex.EncodeToString(h.Sum(nil))
}

// write records the block's intent, then INSERTs it, retrying both with the
// same tokens.
//
// Shutdown does not cancel a write. Cancelling closes the connection, but a
// server that already received the whole block still commits it, maybe after
// the next owner of these partitions has read where to resume: the block
// would be stored twice. So a stopping aggregator finishes (or gives up on)
// its write first, bounded by insertTimeout. A crash cannot wait; the intent
// covers it (see recoverPending).
func (s *Service) write(ctx context.Context, b block) error {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.InsertTimeout)
	defer cancel()
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.writeIntent(ictx, b); err == nil {
			if err = s.insertOnce(ictx, b.rows, b.token); err == nil {
				return nil
			}
		}
		if attempt == 4 {
			break
		}
		s.log.Warn("aggregate: insert failed, retrying with the same token", "rows", b.rows.len(), "attempt", attempt+1, "err", err)
		select {
		case <-ictx.Done():
			return fmt.Errorf("aggregate: insert %d rows: %w", b.rows.len(), err)
		case <-time.After(time.Duration(200<<attempt) * time.Millisecond):
		}
	}
	return fmt.Errorf("aggregate: insert %d rows: %w", b.rows.len(), err)
}

func (s *Service) writeIntent(ctx context.Context, b block) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": "intent-" + b.token}))
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO insert_intents")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for k, rg := range b.ranges {
		if err := batch.Append(b.token, k.topic, uint32(k.partition), uint64(rg[0]), uint64(rg[1]), now); err != nil {
			batch.Abort()
			return err
		}
	}
	return batch.Send()
}

// recoverPending INSERTs again every block whose intent was recorded but
// whose offsets are not all in kafka_progress: its writer died or gave up,
// and its INSERT may or may not have landed, or may still land. The same
// records make the same token, so exactly one of the two copies is kept.
func (s *Service) recoverPending(ctx context.Context) error {
	rows, err := s.conn.Query(ctx, `SELECT token, kafka_topic, kafka_partition, first_offset, last_offset, created_at
		FROM insert_intents
		WHERE token IN (
			SELECT i.token FROM insert_intents AS i
			LEFT JOIN (SELECT kafka_topic, kafka_partition, max(max_offset) + 1 AS next
			           FROM kafka_progress GROUP BY kafka_topic, kafka_partition) AS p
			ON i.kafka_topic = p.kafka_topic AND i.kafka_partition = p.kafka_partition
			WHERE i.kafka_topic IN (?, ?) AND i.last_offset >= p.next)
		ORDER BY created_at, token`, s.topics.Valid, s.topics.Rejected)
	if err != nil {
		return fmt.Errorf("aggregate: read pending intents: %w", err)
	}
	var tokens []string
	pending := map[string]map[topicPartition][2]int64{}
	for rows.Next() {
		var token, topic string
		var part uint32
		var first, last uint64
		var at time.Time
		if err := rows.Scan(&token, &topic, &part, &first, &last, &at); err != nil {
			rows.Close()
			return err
		}
		if pending[token] == nil {
			pending[token] = map[topicPartition][2]int64{}
			tokens = append(tokens, token)
		}
		pending[token][topicPartition{topic, int32(part)}] = [2]int64{int64(first), int64(last)}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, token := range tokens {
		recs, err := s.readRanges(ctx, pending[token])
		if err != nil {
			return fmt.Errorf("aggregate: read records of pending block %s: %w", token, err)
		}
		// Rows are decided from the watermarks before the block, as its
		// writer decided them, so both copies hold the same rows.
		prog, err := s.readProgress(ctx)
		if err != nil {
			return err
		}
		b := s.newBlock(recs, watermarks(prog))
		if b.token != token {
			return fmt.Errorf("aggregate: pending block %s: the log no longer holds the same records (retention?)", token)
		}
		s.log.Info("aggregate: re-inserting a block whose writer stopped mid-INSERT", "token", token, "rows", b.rows.len())
		if err := s.write(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// readRanges reads the committed records of each partition's offset range.
func (s *Service) readRanges(ctx context.Context, ranges map[topicPartition][2]int64) ([]*kgo.Record, error) {
	start := map[string]map[int32]kgo.Offset{}
	left := map[topicPartition]bool{}
	for k, rg := range ranges {
		if start[k.topic] == nil {
			start[k.topic] = map[int32]kgo.Offset{}
		}
		start[k.topic][k.partition] = kgo.NewOffset().At(rg[0])
		left[k] = true
	}
	cl, err := kgo.NewClient(append(s.kc.Opts(), kgo.ConsumePartitions(start), kgo.FetchIsolationLevel(kgo.ReadCommitted()))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.InsertTimeout)
	defer cancel()
	var recs []*kgo.Record
	for len(left) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fetches.EachError(func(t string, p int32, err error) {
			s.log.Warn("aggregate: read pending block", "topic", t, "partition", p, "err", err)
		})
		fetches.EachRecord(func(rec *kgo.Record) {
			k := topicPartition{rec.Topic, rec.Partition}
			if rg, ok := ranges[k]; ok && rec.Offset >= rg[0] && rec.Offset <= rg[1] {
				recs = append(recs, rec)
				if rec.Offset == rg[1] {
					delete(left, k)
				}
			}
		})
	}
	return recs, nil
}

func (s *Service) insertOnce(ctx context.Context, rows *columns, token string) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{
		"insert_deduplication_token": token,
		// Deduplicate what the materialized views write, too.
		"deduplicate_blocks_in_dependent_materialized_views": 1,
	}))
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO readings")
	if err != nil {
		return err
	}
	for i, col := range rows.all() {
		if err := batch.Column(i).Append(col); err != nil {
			batch.Abort()
			return fmt.Errorf("aggregate: column %d: %w", i, err)
		}
	}
	return batch.Send()
}

// columns holds a block's rows column by column, in the order of the
// readings table: rows are decoded straight into them, and whole columns
// are appended to the INSERT, sparing a row copy and a type switch per
// value.
type columns struct {
	device, kind, owner, status, reason, detail, topic []string
	seq, epoch, score, offset                          []uint64
	eventTime, receivedAt                              []time.Time
	measurements                                       []map[string]int64
	lat, lon                                           []int32
	partition, driftM                                  []uint32
	witnessOf                                          []string
	witnessSeq                                         []uint64
}

func newColumns(n int) *columns {
	return &columns{
		device: make([]string, 0, n), kind: make([]string, 0, n), owner: make([]string, 0, n), status: make([]string, 0, n),
		reason: make([]string, 0, n), detail: make([]string, 0, n), topic: make([]string, 0, n),
		seq: make([]uint64, 0, n), epoch: make([]uint64, 0, n), score: make([]uint64, 0, n), offset: make([]uint64, 0, n),
		eventTime: make([]time.Time, 0, n), receivedAt: make([]time.Time, 0, n), measurements: make([]map[string]int64, 0, n),
		lat: make([]int32, 0, n), lon: make([]int32, 0, n), partition: make([]uint32, 0, n), driftM: make([]uint32, 0, n),
		witnessOf: make([]string, 0, n), witnessSeq: make([]uint64, 0, n),
	}
}

func (c *columns) add(r row) {
	c.device, c.seq, c.eventTime, c.epoch = append(c.device, r.deviceID), append(c.seq, r.seq), append(c.eventTime, r.eventTime), append(c.epoch, r.epoch)
	c.kind, c.owner, c.measurements = append(c.kind, r.kind), append(c.owner, r.owner), append(c.measurements, r.measurements)
	c.lat, c.lon, c.receivedAt = append(c.lat, r.lat), append(c.lon, r.lon), append(c.receivedAt, r.receivedAt)
	c.status, c.reason, c.detail, c.score = append(c.status, r.status), append(c.reason, r.reason), append(c.detail, r.detail), append(c.score, r.score)
	c.topic, c.partition, c.offset = append(c.topic, r.topic), append(c.partition, r.partition), append(c.offset, r.offset)
	c.driftM, c.witnessOf, c.witnessSeq = append(c.driftM, r.driftM), append(c.witnessOf, r.witnessOf), append(c.witnessSeq, r.witnessSeq)
}

func (c *columns) len() int { return len(c.device) }

// all is the columns in table order.
func (c *columns) all() []any {
	return []any{c.device, c.seq, c.eventTime, c.epoch, c.kind, c.owner, c.measurements, c.lat, c.lon, c.receivedAt,
		c.status, c.reason, c.detail, c.score, c.topic, c.partition, c.offset, c.driftM, c.witnessOf, c.witnessSeq}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
