package aggregator

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// mirrorDevices copies the device registry (the compacted devices topic) into
// the devices table, for analysts. It resumes after the newest offset the
// table holds per partition. With untilEnd it stops at the topic's end as of
// the call (a replay); otherwise it follows the topic until ctx ends.
//
// Every aggregator instance mirrors the whole topic: a record may be stored
// more than once, which the devices table (latest offset wins) and the
// devices_current view absorb. It is not money, and one writer would need an
// election for little gain.
func (s *Service) mirrorDevices(ctx context.Context, untilEnd bool) error {
	topic := s.kc.Topics().Devices
	adm, err := kgo.NewClient(s.kc.Opts()...)
	if err != nil {
		return err
	}
	// Registry changes are written in transactions: read only committed
	// ones, up to the committed end, keeping the markers so that the last
	// offset read reaches that end.
	ends, err := kadm.NewClient(adm).ListCommittedOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	adm.Close()
	if err != nil {
		return fmt.Errorf("devices mirror: list offsets: %w", err)
	}
	stored := map[int32]int64{}
	rows, err := s.conn.Query(ctx, sqlDevicesProgress)
	if err != nil {
		return fmt.Errorf("devices mirror: read progress: %w", err)
	}
	for rows.Next() {
		var p uint32
		var o uint64
		if err := rows.Scan(&p, &o); err != nil {
			rows.Close()
			return err
		}
		stored[int32(p)] = int64(o)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return err
	}
	start, want := map[int32]kgo.Offset{}, map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		start[o.Partition] = kgo.NewOffset().AtStart()
		from := int64(0)
		if last, ok := stored[o.Partition]; ok {
			start[o.Partition] = kgo.NewOffset().At(last + 1)
			from = last + 1
		}
		if o.Offset > from {
			want[o.Partition] = o.Offset
		}
	})
	if untilEnd && len(want) == 0 {
		return nil
	}
	// A fetch waits for fetchMinBytes or FlushInterval, as a readings
	// fetch waits for a block: registrations come one by one, and a fetch returning each at once
	// made an INSERT of it (with the device_locations view and the by_owner
	// projection, their parts and merges): `bench pipeline` registering
	// 10,000 devices made 497 INSERTs of 14 rows on average.
	cl, err := kgo.NewClient(append(s.kc.Opts(), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.FetchMinBytes(fetchMinBytes), kgo.FetchMaxWait(s.cfg.FlushInterval))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			s.log.Warn("devices mirror: fetch", "partition", p, "err", err)
		})
		var recs []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				recs = append(recs, r)
			}
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
		if len(recs) > 0 {
			if err := s.insertDevices(ctx, recs); err != nil {
				return err
			}
		}
		if untilEnd && len(want) == 0 {
			return nil
		}
	}
}

// insertDevices stores registry records, named for deduplication by their
// offset ranges like readings blocks.
func (s *Service) insertDevices(ctx context.Context, recs []*kgo.Record) error {
	ictx := ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": "devices-" + dedupToken(offsetRanges(recs))}))
	batch, err := s.conn.PrepareBatch(ictx, sqlInsertDevices)
	if err != nil {
		return fmt.Errorf("devices mirror: %w", err)
	}
	for _, r := range recs {
		d := &pb.Device{DeviceId: string(r.Key)}
		deleted := r.Value == nil
		if !deleted {
			if err := proto.Unmarshal(r.Value, d); err != nil {
				s.log.Warn("devices mirror: undecodable device record", "key", string(r.Key), "offset", r.Offset)
				continue
			}
		}
		if err := batch.Append(d.DeviceId, fmt.Sprintf("%x", d.PublicKey), d.Kind.String(), d.Owner,
			d.GetLocation().GetLatE7(), d.GetLocation().GetLonE7(), time.UnixMilli(d.RegisteredAtMs).UTC(),
			d.Active, d.Denied, d.DeniedReason, d.DeniedBy, time.UnixMilli(d.LastChangeMs).UTC(), d.MakerId, time.UnixMilli(d.MovedAtMs).UTC(), deleted, uint32(r.Partition), uint64(r.Offset),
			fmt.Sprintf("%x", d.GetAttestation().GetSignature())); err != nil {
			batch.Abort()
			return fmt.Errorf("devices mirror: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("devices mirror: insert: %w", err)
	}
	return nil
}

// followDevices mirrors the registry until ctx ends, starting over after a
// failure: the readings path does not depend on it.
func (s *Service) followDevices(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.mirrorDevices(ctx, false); err != nil && ctx.Err() == nil {
			s.log.Warn("devices mirror failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
	}
}
