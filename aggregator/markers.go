package aggregator

// Whether a partition's records past what ClickHouse holds are only
// transaction markers and aborted records, which nobody stores.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// gap is what closable last saw of one partition's records past those
// ClickHouse holds, [from, end), and what a look into them found.
type gap struct {
	from, end int64
	looked    bool // markersOnly read the gap
	empty     bool // it held no committed data record
}

// markersLookTimeout bounds a look into a gap: a transaction still open in
// it keeps a read-committed fetch waiting, and the gap is then not empty
// (yet).
const markersLookTimeout = 2 * time.Second

// markersOnly reports whether every record of tp in [from, end) is a
// transaction marker or an aborted record. Validators write their decisions
// in transactions, several instances into the same partitions, so a
// partition's log can end in two markers (one instance's commit, another's
// abort after it) or in aborted records and their marker: the stored offsets
// then never reach the end, and counting offsets alone held every epoch open
// for good (a killtest run stopped closing epochs after a validator was
// killed mid-transaction).
//
// A gap seen for the first time is taken as records still coming (it is,
// while the pipeline runs behind); a gap seen twice in a row, unchanged, is
// read once from Kafka, so a stalled partition costs one fetch, not one per
// look.
func (s *Service) markersOnly(ctx context.Context, tp topicPartition, from, end int64) bool {
	g, ok := s.gaps[tp]
	if !ok || g.from != from || g.end != end {
		s.gaps[tp] = gap{from: from, end: end}
		return false
	}
	if !g.looked {
		empty, done := s.lookInto(ctx, tp, from, end)
		s.gaps[tp] = gap{from: from, end: end, looked: done, empty: empty}
		return empty
	}
	return g.empty
}

// lookInto reads tp from `from` as a read-committed consumer that keeps the
// markers, until it meets a committed data record before end (not empty) or
// the last record before end (empty). done is false when it could not tell
// in time.
func (s *Service) lookInto(ctx context.Context, tp topicPartition, from, end int64) (empty, done bool) {
	cl, err := kgo.NewClient(append(s.kc.Opts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{tp.topic: {tp.partition: kgo.NewOffset().At(from)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords())...)
	if err != nil {
		return false, false
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, markersLookTimeout)
	defer cancel()
	for ctx.Err() == nil {
		for _, rec := range cl.PollFetches(ctx).Records() {
			if !rec.Attrs.IsControl() && rec.Offset < end {
				return false, true
			}
			if rec.Offset >= end-1 {
				return true, true
			}
		}
	}
	s.log.Debug("aggregate: could not read a partition's unstored records in time", "topic", tp.topic, "partition", tp.partition, "from", from, "end", end)
	return false, false
}
