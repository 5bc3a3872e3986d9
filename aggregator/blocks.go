// The exactly-once write: a block of records, its offset ranges and their
// deduplication token, the intent written before the INSERT, and recovery of
// the blocks a stopped writer left pending (aggregator.go tells the story).

package aggregator

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/cenkalti/backoff/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// progress is what ClickHouse holds of one partition.
type progress struct {
	maxOffset          int64
	watermark, updated time.Time
}

func (s *Service) readProgress(ctx context.Context) (map[topicPartition]progress, error) {
	rows, err := s.conn.Query(ctx, sqlProgress, s.topics.Valid, s.topics.Rejected)
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
	s.stored = map[topicPartition]int64{}
	for k, p := range prog {
		s.stored[k] = p.maxOffset
	}
	if err := s.readClosed(ctx); err != nil {
		return nil, err
	}
	s.log.Info("aggregate: partitions assigned", "resume", fmt.Sprint(offsets))
	return offsets, nil
}

// storedThrough is the highest offset of k that ClickHouse holds, as far as
// this instance knows (-1: none).
func (s *Service) storedThrough(k topicPartition) int64 {
	if o, ok := s.stored[k]; ok {
		return o
	}
	return -1
}

// unstored drops the records of recs that ClickHouse holds already. A
// consumer can go back over records it delivered: franz-go resets a
// partition to the offset its leader reports when leadership moved (KIP-320),
// and kfake, when a broker stops, reports an earlier one than the records it
// served. Offsets, not the consumer's position, say what is stored: blocks
// of records read twice were stored twice (as valid, then as LATE).
func (s *Service) unstored(recs []*kgo.Record) []*kgo.Record {
	out := recs[:0:0]
	for _, rec := range recs {
		if rec.Offset > s.storedThrough(topicPartition{rec.Topic, rec.Partition}) {
			out = append(out, rec)
		}
	}
	if n := len(recs) - len(out); n > 0 {
		s.log.Warn("aggregate: the consumer went back over records ClickHouse holds; skipped them", "records", n)
	}
	return out
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

// newBlock turns records into rows, moving the watermarks in wm. Its
// columns are the last written block's when the run loop handed them back
// (s.spare), or new ones.
func (s *Service) newBlock(recs []*kgo.Record, wm map[topicPartition]time.Time) block {
	rows := s.spare
	s.spare = nil
	if rows == nil {
		rows = newColumns(len(recs))
	} else {
		rows.reset()
	}
	b := block{rows: rows, ranges: offsetRanges(recs)}
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
	attempt, last := 0, error(nil)
	_, err := backoff.Retry(ictx, func() (struct{}, error) {
		attempt++
		if last = s.writeIntent(ictx, b); last == nil {
			last = s.insertOnce(ictx, b.rows, b.token)
		}
		return struct{}{}, last
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.25, Multiplier: 2, MaxInterval: 5 * time.Second}),
		backoff.WithMaxTries(5), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, _ time.Duration) {
			log := s.log.Debug
			if attempt == 1 {
				log = s.log.Warn
			}
			log("aggregate: insert failed, retrying with the same token", "rows", b.rows.len(), "attempt", attempt, "err", err)
		}))
	if err == nil {
		for k, rg := range b.ranges {
			if rg[1] > s.storedThrough(k) {
				s.stored[k] = rg[1]
			}
		}
		return nil
	}
	// Out of time, the insert's own error says more than the deadline.
	return fmt.Errorf("aggregate: insert %d rows: %w", b.rows.len(), cmp.Or(last, err))
}

func (s *Service) writeIntent(ctx context.Context, b block) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": "intent-" + b.token}))
	batch, err := s.conn.PrepareBatch(ctx, sqlInsertIntents)
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
	rows, err := s.conn.Query(ctx, sqlPendingIntents, s.topics.Valid, s.topics.Rejected)
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
	return s.blocks.Insert(ctx, "readings", rows.input(), map[string]string{
		"insert_deduplication_token": token,
		// Deduplicate what the materialized views write, too.
		"deduplicate_blocks_in_dependent_materialized_views": "1",
	})
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
