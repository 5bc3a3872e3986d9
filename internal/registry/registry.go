// Package registry keeps the device registry in memory: every service reads
// the compacted devices topic from the start and follows it.
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
	cl      *kgo.Client
	cfg     kafka.Config
	log     *slog.Logger
}

// New creates a registry reading cfg's devices topic.
func New(cfg kafka.Config, log *slog.Logger) (*Registry, error) {
	opts := append(cfg.Opts(),
		kgo.ConsumeTopics(cfg.Topics().Devices),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &Registry{devices: map[string]*pb.Device{}, keys: map[string]*pb.Key{}, byKey: map[string]string{}, cl: cl, cfg: cfg, log: log}, nil
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
	ends, err := kadm.NewClient(r.cl).ListEndOffsets(ctx, r.cfg.Topics().Devices)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	for len(want) > 0 {
		fs := r.cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		r.apply(fs)
		fs.EachRecord(func(rec *kgo.Record) {
			if end, ok := want[rec.Partition]; ok && rec.Offset+1 >= end {
				delete(want, rec.Partition)
			}
		})
	}
	return nil
}

// Run follows the topic until ctx ends.
func (r *Registry) Run(ctx context.Context) error {
	for {
		fs := r.cl.PollFetches(ctx)
		if ctx.Err() != nil {
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
