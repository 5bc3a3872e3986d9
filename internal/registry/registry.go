// Package registry keeps the device registry in memory: every service reads
// the compacted devices and makers topics from the start and follows them.
package registry

import (
	"context"
	"fmt"
	"log/slog"
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
	cl      *kgo.Client
	cfg     kafka.Config
	log     *slog.Logger
}

// New creates a registry reading cfg's devices topic.
func New(cfg kafka.Config, log *slog.Logger) (*Registry, error) {
	opts := append(cfg.Opts(),
		kgo.ConsumeTopics(cfg.Topics().Devices, cfg.Topics().Makers),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &Registry{devices: map[string]*pb.Device{}, keys: map[string]*pb.Key{}, byKey: map[string]string{}, makers: map[string]*pb.Maker{},
		cl: cl, cfg: cfg, log: log}, nil
}

// Maker returns the maker, or nil.
func (r *Registry) Maker(id string) *pb.Maker {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.makers[id]
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

// Sync reads the topic up to its current end. Call it once before serving.
func (r *Registry) Sync(ctx context.Context) error {
	ends, err := kadm.NewClient(r.cl).ListEndOffsets(ctx, r.cfg.Topics().Devices, r.cfg.Topics().Makers)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	type partition struct {
		topic string
		p     int32
	}
	want := map[partition]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[partition{o.Topic, o.Partition}] = o.Offset
		}
	})
	for len(want) > 0 {
		fs := r.cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.apply(fs)
		fs.EachRecord(func(rec *kgo.Record) {
			if end, ok := want[partition{rec.Topic, rec.Partition}]; ok && rec.Offset+1 >= end {
				delete(want, partition{rec.Topic, rec.Partition})
			}
		})
	}
	return nil
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
	fs.EachRecord(func(rec *kgo.Record) {
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
