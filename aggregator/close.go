package aggregator

// Closing epochs, and scoring them once their hold has passed: the one
// instance holding partition 0 of the valid topic does both.

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// maybeClose closes every epoch the watermarks allow, in order, if this
// instance is the closer, checking at most every closeCheckEvery (but in a
// replay, which closes what it can before it stops). The others only learn
// what was closed, after every block as before: a reading of a closed epoch
// is LATE, and for a partition too idle to hold epochs open only that tells.
func (s *Service) maybeClose(ctx context.Context) error {
	if !s.closer {
		return s.readClosed(ctx)
	}
	now := time.Now()
	if s.replayEnds == nil && now.Before(s.nextClose) {
		return nil
	}
	s.nextClose = now.Add(s.cfg.closeCheckEvery())
	through, ok, why, err := s.closable(ctx)
	if err != nil {
		return err
	}
	if !ok || through <= s.closedThrough {
		s.held.note(s.log, s.closedThrough, why, max(s.cfg.EpochLength+s.cfg.AllowedLateness, time.Minute))
	} else {
		s.held = heldOpen{}
	}
	if !ok { // nothing to close, or rejections not all stored yet
		return nil
	}
	if through <= s.closedThrough {
		return s.scoreHeld(ctx) // after a restart, what a crash left unscored
	}
	epochs, err := s.validEpochs(ctx, s.closedThrough, through)
	if err != nil {
		return err
	}
	length := s.cfg.EpochLength.Milliseconds()
	for _, e := range epochs {
		ec := &pb.EpochClosed{Epoch: e, StartMs: int64(e) * length, EndMs: int64(e+1) * length, ClosedAtMs: time.Now().UnixMilli()}
		// The record first: if we crash before the row below, the epoch is
		// closed again on restart, and readers ignore the repeat.
		if err := s.announce(ctx, ec); err != nil {
			return err
		}
		ictx := ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": fmt.Sprintf("epoch-%d", e)}))
		if err := s.conn.Exec(ictx, sqlInsertEpoch, e, time.UnixMilli(ec.StartMs).UTC(), time.UnixMilli(ec.EndMs).UTC(), time.UnixMilli(ec.ClosedAtMs).UTC()); err != nil {
			return fmt.Errorf("aggregate: record epoch %d: %w", e, err)
		}
		s.log.Info("epoch closed", "epoch", e)
		s.metrics.epochs.Add(ctx, 1)
	}
	s.closedThrough = through
	return s.scoreHeld(ctx)
}

// validEpochs lists the epochs after `after` and up to `through` with
// valid readings, oldest first.
func (s *Service) validEpochs(ctx context.Context, after, through uint64) ([]uint64, error) {
	return clickhouse.Uint64s(ctx, s.conn, sqlEpochsWithReadings, after, through)
}

// announce writes an epoch-closed record (a close, or with Scored, scores).
func (s *Service) announce(ctx context.Context, ec *pb.EpochClosed) error {
	if s.producer != nil {
		value, _ := proto.Marshal(ec)
		rec := &kgo.Record{Topic: s.topics.Epochs, Key: []byte(strconv.FormatUint(ec.Epoch, 10)), Value: value}
		if err := s.producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
			return fmt.Errorf("aggregate: write epoch-closed %d: %w", ec.Epoch, err)
		}
	}
	if s.OnEpochClosed != nil {
		s.OnEpochClosed(ec)
	}
	return nil
}

// scoreHeld scores every epoch with valid readings that has been held long
// enough: the epoch Scoring.Delay epochs after it is closed, so every
// fraud-class rejection of those epochs is stored too (closing waits for
// the rejected topic), and so are the readings of its evidence window. Each
// is scored in order: the cut, then the evidence, then the scores, then the
// scored_epochs row the settler pays by. A crash in between scores the epoch
// again with the cut recorded first, and writes the same evidence and
// scores under the same tokens.
func (s *Service) scoreHeld(ctx context.Context) error {
	delay := s.scoring.Delay(s.cfg.EpochLength)
	if s.closedThrough < delay || s.closedThrough-delay <= s.scoredThrough {
		return nil
	}
	through := s.closedThrough - delay
	epochs, err := s.validEpochs(ctx, s.scoredThrough, through)
	if err != nil {
		return err
	}
	length := s.cfg.EpochLength.Milliseconds()
	var stored map[int32]int64 // the rejected topic as stored now, read once
	for _, e := range epochs {
		began := time.Now()
		cut, err := s.cutOf(ctx, e, &stored)
		if err != nil {
			return err
		}
		ec := &pb.EpochClosed{Epoch: e, StartMs: int64(e) * length, EndMs: int64(e+1) * length, ClosedAtMs: time.Now().UnixMilli(), RejectedOffsets: cut, Scored: true}
		if err := s.announce(ctx, ec); err != nil {
			return err
		}
		if err := s.conn.Exec(ctx, sqlInsertCut, e, cut); err != nil {
			return fmt.Errorf("aggregate: record the cut of epoch %d: %w", e, err)
		}
		findings, stop, err := Evidence(ctx, s.conn, s.scoring, s.cfg.EpochLength, e)
		if err != nil {
			return err
		}
		if err := storeEvidence(ctx, s.conn, e, findings); err != nil {
			return err
		}
		s.metrics.countStopped(ctx, stop)
		devices, err := storeScores(ctx, s.conn, s.scoring, s.cfg.EpochLength, e, s.topics.Rejected, cut, stop)
		if err != nil {
			return err
		}
		ictx := ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": fmt.Sprintf("scored-%d", e)}))
		if err := s.conn.Exec(ictx, sqlInsertScored, e); err != nil {
			return fmt.Errorf("aggregate: record epoch %d scored: %w", e, err)
		}
		took := time.Since(began)
		s.metrics.scoring.Record(ctx, took.Seconds())
		s.log.Info("epoch scored", "epoch", e, "devices", devices, "withoutInformation", len(stop), "took", took.Round(time.Millisecond))
	}
	s.scoredThrough = through
	return nil
}

// closeCheckEvery is how often the closing of epochs is checked: a tenth of
// an epoch, at most 5 s. A check reads every partition's progress from
// ClickHouse (about 10 ms of the server's CPU) and the topics' offsets from
// Kafka; made after every block, as it was, it cost ClickHouse 0.3 µs a
// reading in `bench pipeline` (a block a second) for epochs an hour long.
func (c Config) closeCheckEvery() time.Duration { return min(5*time.Second, c.EpochLength/10) }

// closable returns the highest epoch that the watermarks allow to close: the
// lowest watermark of the valid topic's partitions, less the allowed
// lateness, rounded down to an epoch start.
//
// A partition with records in Kafka that ClickHouse does not hold yet (more
// than a transaction marker past the last one stored, unless markersOnly
// finds nothing but markers and aborted records there) holds epochs open
// whatever its timestamps: that is how a backlog, or a replay, closes epochs
// exactly where the live pipeline did. A caught-up valid partition whose
// newest record is idleTimeout older than the freshest record of either topic
// is idle and does not hold epochs open; when every valid partition is idle
// (say, all new readings are rejected), time follows the freshest watermark
// of either topic. A rejected partition behind holds them only until the
// rejections decided when they could close are stored (awaitRejections).
//
// why says what holds the next epoch open, for the log when it lasts.
func (s *Service) closable(ctx context.Context) (through uint64, ok bool, why string, err error) {
	ends, err := s.admin.ListEndOffsets(ctx, s.topics.Valid, s.topics.Rejected)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, false, "", fmt.Errorf("aggregate: end offsets: %w", err)
	}
	starts, err := s.admin.ListStartOffsets(ctx, s.topics.Valid, s.topics.Rejected)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return 0, false, "", fmt.Errorf("aggregate: start offsets: %w", err)
	}
	prog, err := s.readProgress(ctx)
	if err != nil {
		return 0, false, "", err
	}
	lagging := map[int32]bool{}
	unseen := false         // a valid partition with records, none of them in ClickHouse
	rejectedBehind := false // rejections decided but not stored: the scores would miss them
	rejectedEnds := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Topic == s.topics.Rejected {
			rejectedEnds[o.Partition] = o.Offset
		}
		tp := topicPartition{o.Topic, o.Partition}
		_, ok := prog[tp]
		from, behind := s.lagsBehind(ctx, tp, o.Offset, starts, prog)
		switch {
		case o.Topic == s.topics.Rejected && behind:
			rejectedBehind = true
			why = fmt.Sprintf("%s[%d] has records %d..%d in Kafka that ClickHouse does not hold yet", o.Topic, o.Partition, from, o.Offset-1)
		case behind && !ok:
			unseen = true
			why = fmt.Sprintf("%s[%d] has records %d..%d and none of them in ClickHouse yet", o.Topic, o.Partition, from, o.Offset-1)
		case behind:
			lagging[o.Partition] = true
		}
	})
	if unseen {
		return 0, false, why, nil
	}
	rejectedWhy := why
	if len(prog) == 0 {
		return 0, false, "", nil // nothing stored yet: nothing to hold open
	}
	var freshest, highest time.Time
	for _, p := range prog {
		if p.updated.After(freshest) {
			freshest = p.updated
		}
		if p.watermark.After(highest) {
			highest = p.watermark
		}
	}
	var low time.Time
	var lowest topicPartition
	for k, p := range prog {
		if k.topic != s.topics.Valid || (!lagging[k.partition] && freshest.Sub(p.updated) > s.cfg.IdleTimeout) {
			continue
		}
		if low.IsZero() || p.watermark.Before(low) {
			low, lowest = p.watermark, k
		}
	}
	why = fmt.Sprintf("the lowest watermark is %s[%d]'s, %s (lagging %v)", lowest.topic, lowest.partition, low.Format(time.RFC3339Nano), lagging)
	if low.IsZero() {
		low = highest
		why = "every valid partition is idle; the freshest watermark is " + low.Format(time.RFC3339Nano)
	}
	closedBefore := low.Add(-s.cfg.AllowedLateness).UnixMilli() / s.cfg.EpochLength.Milliseconds()
	if closedBefore < 1 {
		return 0, false, why, nil
	}
	through = uint64(closedBefore - 1)
	if !rejectedBehind {
		s.rejectedTarget = nil
		return through, true, why, nil
	}
	return s.awaitRejections(ctx, through, rejectedEnds, starts, prog, rejectedWhy)
}

// lagsBehind reports whether tp holds records before offset end that
// ClickHouse does not, and from where. Past the last record stored there may
// be nothing, one marker (the usual end of a validator's transaction), or
// records to look into (markersOnly: only markers and aborted records).
func (s *Service) lagsBehind(ctx context.Context, tp topicPartition, end int64, starts kadm.ListedOffsets, prog map[topicPartition]progress) (from int64, behind bool) {
	allowed := int64(0)
	if st, ok := starts.Lookup(tp.topic, tp.partition); ok {
		from = st.Offset
	}
	if p, ok := prog[tp]; ok {
		from, allowed = p.maxOffset+1, 1
	}
	return from, end-from > allowed && !s.markersOnly(ctx, tp, from, end)
}

// rejectedSnapshot is the rejected topic's end offsets when epochs through
// `through` could first close.
type rejectedSnapshot struct {
	through uint64
	ends    map[int32]int64
}

// awaitRejections holds epochs through `through` open until the rejections
// decided by the time they could close are stored: the scores count the
// rejections ClickHouse holds (the cut). Under a steady stream there are
// always rejections decided and not yet stored, so waiting for all of them
// would never close an epoch; a validator writes a batch's valid and
// rejected readings in one transaction, so the rejected topic's end when the
// valid readings were all in (a snapshot) holds every rejection decided with
// them. Once the stored rejections reach the snapshot, the epochs up to the
// one it was taken for close, and the next close takes a new one.
func (s *Service) awaitRejections(ctx context.Context, through uint64, ends map[int32]int64, starts kadm.ListedOffsets,
	prog map[topicPartition]progress, why string) (uint64, bool, string, error) {
	t := s.rejectedTarget
	if t == nil {
		s.rejectedTarget = &rejectedSnapshot{through: through, ends: ends}
		return 0, false, why, nil
	}
	for partition, end := range t.ends {
		tp := topicPartition{s.topics.Rejected, partition}
		if from, behind := s.lagsBehind(ctx, tp, end, starts, prog); behind {
			return 0, false, fmt.Sprintf("%s[%d]: rejections up to offset %d, decided when epoch %d could close, are not all in ClickHouse yet (stored through %d)",
				tp.topic, partition, end-1, t.through, from-1), nil
		}
	}
	s.rejectedTarget = nil
	return min(through, t.through), true, why, nil
}

// heldOpen tracks how long the next epoch has been held open, to say why
// in the log when it lasts: a partition whose records never reach
// ClickHouse, or whose watermark stopped, stops every payout behind it.
type heldOpen struct {
	since, warned time.Time
}

// note records that nothing new closed; once that has lasted longer than
// after, it logs why, at most once a minute.
func (h *heldOpen) note(log *slog.Logger, closedThrough uint64, why string, after time.Duration) {
	now := time.Now()
	if why == "" {
		return
	}
	if h.since.IsZero() {
		h.since = now
	}
	if now.Sub(h.since) < after || now.Sub(h.warned) < time.Minute {
		return
	}
	h.warned = now
	log.Warn("aggregate: no epoch closed for a while", "closedThrough", closedThrough, "for", now.Sub(h.since).Round(time.Second), "why", why)
}
