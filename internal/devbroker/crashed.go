package devbroker

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// AbortCrashed writes the abort markers that kfake leaves out after a crash,
// and returns how many it wrote (one per partition and producer). Start calls
// it on a cluster just started on a data directory, before any client
// produces.
//
// kfake restarted on the directory of a process that was killed with
// transactions open treats their records as aborted (a read-committed fetch
// skips them) but writes no marker after them, where a real cluster's
// transaction coordinator writes an abort marker when it times out or
// fences such a transaction. Read-committed readers then go wrong in two
// ways (found by killtest's kill -9 of the dev stack, and reproduced by
// TestAbortCrashed):
//   - a partition whose log ends in those records never shows a reader its
//     last offset, so one that reads up to the end waits for good (a
//     validator's rebuild of its history; the aggregator's look into
//     records it has not stored, which holds every epoch open);
//   - Kafka clients hide a producer's records from the start of an aborted
//     transaction up to that producer's next marker, so the same producer's
//     next transaction on the partition is hidden too, committed or not (a
//     validator restarted with the same transactional id keeps its producer
//     id): its readings never reach the aggregator.
//
// AbortCrashed reads every partition through, read-uncommitted with the
// markers, and writes an abort marker for each producer whose last batch
// there is transactional data with no marker after it. kfake holds every
// record in memory anyway, and reads all of them itself on a restart, so
// this is a read of memory over loopback.
func AbortCrashed(ctx context.Context, addrs []string) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("end offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("start offsets: %w", err)
	}
	from := map[string]map[int32]kgo.Offset{}
	left := map[topicPart]int64{} // partitions not read to their end yet
	ends.Each(func(o kadm.ListedOffset) {
		start, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Offset <= start.Offset {
			return
		}
		if from[o.Topic] == nil {
			from[o.Topic] = map[int32]kgo.Offset{}
		}
		from[o.Topic][o.Partition] = kgo.NewOffset().At(start.Offset)
		left[topicPart{o.Topic, o.Partition}] = o.Offset
	})
	if len(left) == 0 {
		return 0, nil
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumePartitions(from), kgo.KeepControlRecords())
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	// open: per partition, the producers whose last batch read is
	// transactional data, with that batch's epoch.
	open := map[topicPart]map[int64]int16{}
	for len(left) > 0 {
		fs := rd.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("reading the logs (%d partitions left): %w", len(left), err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = cmp.Or(ferr, fmt.Errorf("%s[%d]: %w", t, p, err)) })
		if ferr != nil {
			return 0, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			tp := topicPart{r.Topic, r.Partition}
			switch {
			case r.Attrs.IsControl():
				delete(open[tp], r.ProducerID)
			case r.Attrs.IsTransactional():
				if open[tp] == nil {
					open[tp] = map[int64]int16{}
				}
				open[tp][r.ProducerID] = r.ProducerEpoch
			}
			if end, ok := left[tp]; ok && r.Offset+1 >= end {
				delete(left, tp)
			}
		})
	}
	type producer struct {
		id    int64
		epoch int16
	}
	markers := map[producer]kadm.TopicsSet{}
	n := 0
	for tp, producers := range open {
		for id, epoch := range producers {
			p := producer{id, epoch}
			set := markers[p]
			set.Add(tp.topic, tp.partition)
			markers[p] = set
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	var list []kadm.TxnMarkers
	for p, topics := range markers {
		list = append(list, kadm.TxnMarkers{ProducerID: p.id, ProducerEpoch: p.epoch, Topics: topics})
	}
	resps, err := adm.WriteTxnMarkers(ctx, list...)
	if err != nil {
		return 0, fmt.Errorf("abort markers: %w", err)
	}
	var errs []error
	resps.EachPartition(func(r kadm.TxnMarkersPartitionResponse) {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("abort marker of producer %d on %s[%d]: %w", r.ProducerID, r.Topic, r.Partition, r.Err))
		}
	})
	return n, errors.Join(errs...)
}

type topicPart struct {
	topic     string
	partition int32
}
