// Package registry keeps the device registry in memory: every service reads
// the compacted devices and makers topics from the start and follows them.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Registry is the in-memory view of the devices topic.
type Registry struct {
	mu      sync.RWMutex
	devices map[string]*pb.Device
	keys    map[string]*pb.Key // device id -> its key, expanded for verification
	byKey   map[string]string  // public key -> device id: one key, one device
	makers  map[string]*pb.Maker
	// pos is the next offset to apply of each partition (control records
	// included); moved is closed and replaced whenever pos moves.
	pos   map[topicPartition]int64
	moved chan struct{}
	cl    *kgo.Client
	cfg   kafka.Config
	log   *slog.Logger
}

// New creates a registry reading cfg's devices topic.
func New(cfg kafka.Config, log *slog.Logger) (*Registry, error) {
	opts := append(cfg.Opts(),
		kgo.ConsumeTopics(cfg.Topics().Devices, cfg.Topics().Makers),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Ingest writes registry changes in transactions (see ingest's
		// registrar): an aborted change is never applied, and the commit
		// markers are kept so that pos reaches the committed end.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &Registry{devices: map[string]*pb.Device{}, keys: map[string]*pb.Key{}, byKey: map[string]string{}, makers: map[string]*pb.Maker{},
		pos: map[topicPartition]int64{}, moved: make(chan struct{}), cl: cl, cfg: cfg, log: log}, nil
}

// Maker returns the maker, or nil.
func (r *Registry) Maker(id string) *pb.Maker {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.makers[id]
}

// Makers returns every maker, in id order.
func (r *Registry) Makers() []*pb.Maker {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*pb.Maker, 0, len(r.makers))
	for _, id := range slices.Sorted(maps.Keys(r.makers)) {
		out = append(out, r.makers[id])
	}
	return out
}

// PutMaker records a maker this process itself wrote to the topic.
func (r *Registry) PutMaker(m *pb.Maker) {
	r.mu.Lock()
	r.putMaker(m)
	r.mu.Unlock()
}

// putMaker applies m unless a newer signed change of the maker is known.
func (r *Registry) putMaker(m *pb.Maker) {
	if old := r.makers[m.MakerId]; old != nil && m.LastChangeMs < old.LastChangeMs {
		return
	}
	r.makers[m.MakerId] = m
}

// Get returns the device, or nil.
func (r *Registry) Get(id string) *pb.Device {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.devices[id]
}

// Lookup returns the device and its expanded key, or nils.
func (r *Registry) Lookup(id string) (*pb.Device, *pb.Key) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.devices[id], r.keys[id]
}

// ByKey returns the id of the device registered with this public key, or "".
func (r *Registry) ByKey(pub []byte) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byKey[string(pub)]
}

// Len returns the number of devices known.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.devices)
}

// Put records a device this process itself wrote to the topic, so that it is
// usable before the topic echoes it back.
func (r *Registry) Put(d *pb.Device) {
	r.mu.Lock()
	r.put(d)
	r.mu.Unlock()
}

// put applies d unless the registry already holds a newer signed change of
// the same device. Changes carry the time their signer issued them, so
// services that read the topic at different moments, or an ingest instance
// that raced another, converge on the newest change.
func (r *Registry) put(d *pb.Device) {
	if old := r.devices[d.DeviceId]; old != nil {
		if d.LastChangeMs < old.LastChangeMs {
			return
		}
		if r.byKey[string(old.PublicKey)] == old.DeviceId {
			delete(r.byKey, string(old.PublicKey))
		}
	}
	r.devices[d.DeviceId] = d
	r.byKey[string(d.PublicKey)] = d.DeviceId
	if old := r.keys[d.DeviceId]; old == nil || len(d.PublicKey) != 32 || old.CompressedY() != [32]byte(d.PublicKey) {
		key, err := pb.ExpandKey(d.PublicKey)
		if err != nil {
			key = nil // not a curve point: every reading fails verification
		}
		r.keys[d.DeviceId] = key
	}
}

type topicPartition struct {
	topic     string
	partition int32
}

// Sync reads the registry topics up to their committed end. Call it once
// before serving, before Run.
func (r *Registry) Sync(ctx context.Context) error {
	ends, err := r.ends(ctx)
	if err != nil {
		return err
	}
	for !r.reached(ends) {
		fs := r.cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.apply(fs)
	}
	return nil
}

// CaughtUp waits until Run has applied every change committed before the
// call: what a writer must see before it decides a change.
func (r *Registry) CaughtUp(ctx context.Context) error {
	ends, err := r.ends(ctx)
	if err != nil {
		return err
	}
	for {
		r.mu.RLock()
		done, moved := r.reachedLocked(ends), r.moved
		r.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("registry: catching up: %w", ctx.Err())
		}
	}
}

// ends lists the committed (last stable) end of each registry partition.
func (r *Registry) ends(ctx context.Context) (map[topicPartition]int64, error) {
	adm, topics := kadm.NewClient(r.cl), []string{r.cfg.Topics().Devices, r.cfg.Topics().Makers}
	listed, err := adm.ListCommittedOffsets(ctx, topics...)
	if err == nil {
		err = listed.Error()
	}
	var starts kadm.ListedOffsets
	if err == nil {
		starts, err = adm.ListStartOffsets(ctx, topics...)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	ends := map[topicPartition]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		// A partition whose records were all deleted has nothing to read.
		if start, ok := starts.Lookup(o.Topic, o.Partition); !ok || start.Offset < o.Offset {
			ends[topicPartition{o.Topic, o.Partition}] = o.Offset
		}
	})
	return ends, nil
}

func (r *Registry) reached(ends map[topicPartition]int64) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.reachedLocked(ends)
}

func (r *Registry) reachedLocked(ends map[topicPartition]int64) bool {
	for tp, end := range ends {
		if r.pos[tp] < end {
			return false
		}
	}
	return true
}

// Run follows the topic until ctx ends.
func (r *Registry) Run(ctx context.Context) error {
	for {
		fs := r.cl.PollFetches(ctx)
		// Closed (Close while ctx lives): every poll would return at once.
		if ctx.Err() != nil || fs.IsClientClosed() {
			return nil
		}
		r.apply(fs)
	}
}

// Close releases the client.
func (r *Registry) Close() { r.cl.Close() }

func (r *Registry) apply(fs kgo.Fetches) {
	fs.EachError(func(t string, p int32, err error) {
		r.log.Warn("registry fetch", "topic", t, "partition", p, "err", err)
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if !fs.Empty() {
		close(r.moved)
		r.moved = make(chan struct{})
	}
	fs.EachRecord(func(rec *kgo.Record) {
		r.pos[topicPartition{rec.Topic, rec.Partition}] = rec.Offset + 1
		if rec.Attrs.IsControl() {
			return // a transaction's commit or abort marker
		}
		if rec.Topic == r.cfg.Topics().Makers {
			m := &pb.Maker{}
			if rec.Value == nil || proto.Unmarshal(rec.Value, m) != nil || m.MakerId != string(rec.Key) {
				r.log.Warn("registry: undecodable maker record", "key", string(rec.Key))
				return
			}
			r.putMaker(m)
			return
		}
		if rec.Value == nil {
			if old := r.devices[string(rec.Key)]; old != nil {
				delete(r.byKey, string(old.PublicKey))
			}
			delete(r.devices, string(rec.Key))
			delete(r.keys, string(rec.Key))
			return
		}
		d := &pb.Device{}
		if err := proto.Unmarshal(rec.Value, d); err != nil {
			r.log.Warn("registry: undecodable device record", "key", string(rec.Key), "err", err)
			return
		}
		r.put(d)
	})
}
