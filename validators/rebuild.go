package validators

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

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
				if proto.Unmarshal(rec.Value, v) == nil && carriedReading(&v.Reading, v.ReadingBytes) {
					checkers[rec.Partition].remember(v)
					n++
				}
			default:
				v := &pb.RejectedReading{}
				if proto.Unmarshal(rec.Value, v) == nil && carriedReading(&v.Reading, v.ReadingBytes) {
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

// carriedReading decodes a decided record's reading from the signed bytes
// it carries, unless the record has it decoded (validators from before the
// bytes carried every reading, and undecodable records' stand-ins). It
// reports whether there is a reading.
func carriedReading(r **pb.Reading, body []byte) bool {
	if *r != nil || len(body) == 0 {
		return *r != nil
	}
	dec := &pb.Reading{}
	if decodeReading(body, dec) != nil {
		return false
	}
	*r = dec
	return true
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
