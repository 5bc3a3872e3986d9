package aggregator

// The cut of the rejected topic an epoch's scores count (docs/scoring.md):
// recorded when the live pipeline scored it, reused by a retried close, a replay and
// verify-epoch, so that every computation of the epoch counts the same
// rejections.

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// cutOf returns the rejected-topic offsets epoch e's scores count up to: the
// cut already recorded for e (scoring retried after a crash), else the live
// pipeline's (a replay, from its epoch-closed records), else what is stored
// now (read once into *stored).
func (s *Service) cutOf(ctx context.Context, e uint64, stored *map[int32]int64) (map[int32]int64, error) {
	cut, found, err := RecordedCut(ctx, s.conn, e)
	if err != nil || found {
		return cut, err
	}
	if c, ok := s.liveCuts[e]; ok {
		if c == nil {
			c = map[int32]int64{}
		}
		return c, nil
	}
	if *stored == nil {
		prog, err := s.readProgress(ctx)
		if err != nil {
			return nil, err
		}
		*stored = map[int32]int64{}
		for k, p := range prog {
			if k.topic == s.topics.Rejected {
				(*stored)[k.partition] = p.maxOffset
			}
		}
	}
	return *stored, nil
}

// RecordedCut returns the cut recorded for epoch e, if any.
func RecordedCut(ctx context.Context, conn driver.Conn, e uint64) (map[int32]int64, bool, error) {
	rows, err := conn.Query(ctx, sqlCut, e)
	if err != nil {
		return nil, false, fmt.Errorf("aggregate: read the cut of epoch %d: %w", e, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	var cut map[int32]int64
	if err := rows.Scan(&cut); err != nil {
		return nil, false, err
	}
	return cut, true, rows.Err()
}

// readLiveCuts reads the epoch-closed records of the live pipeline: the cut
// of the rejected topic each epoch was scored with (the last scores record
// of an epoch wins: scoring retried after a crash writes a second one).
func (s *Service) readLiveCuts(ctx context.Context) (map[uint64]map[int32]int64, error) {
	adm, err := kgo.NewClient(s.kc.Opts()...)
	if err != nil {
		return nil, err
	}
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, s.topics.Epochs)
	adm.Close()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("replay: epoch-closed end offsets: %w", err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	cuts := map[uint64]map[int32]int64{}
	if len(left) == 0 {
		return cuts, nil
	}
	cl, err := kgo.NewClient(append(s.kc.Opts(), kgo.ConsumeTopics(s.topics.Epochs), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for len(left) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := fetches.Err(); err != nil {
			return nil, fmt.Errorf("replay: read epoch-closed records: %w", err)
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			ec := &pb.EpochClosed{}
			// Close records carry no cut. (Before scores were held, the
			// close carried it: a replay of such an epoch counts every
			// rejection it has stored when it scores.)
			if proto.Unmarshal(rec.Value, ec) == nil && ec.Scored {
				cuts[ec.Epoch] = ec.RejectedOffsets // nil: nothing was stored, an empty cut
			}
			if rec.Offset+1 >= left[rec.Partition] {
				delete(left, rec.Partition)
			}
		})
	}
	return cuts, nil
}
