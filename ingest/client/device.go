package client

import (
	"crypto/ed25519"
	"sync"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Device builds and signs one device's readings, keeping its sequence
// number: every reading gets a higher one than the last, as the validators
// require (a reading at or below the last accepted number is a replay).
//
// Firmware that can store the number should save Seq after each accepted
// batch and restore it with SetSeq at boot. Without that, a fresh Device
// starts from the current time in microseconds, which is above any number a
// previous run could have used unless the clock went back or that run made
// more than a million readings a second.
type Device struct {
	ID       string
	Kind     pb.ResourceKind
	Location *pb.Location // reported with each reading; nil: none
	key      ed25519.PrivateKey

	mu  sync.Mutex
	seq uint64
}

// NewDevice returns a device signing with key.
func NewDevice(id string, kind pb.ResourceKind, key ed25519.PrivateKey) *Device {
	return &Device{ID: id, Kind: kind, key: key, seq: uint64(time.Now().UnixMicro())}
}

// Seq returns the last sequence number used.
func (d *Device) Seq() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seq
}

// SetSeq restores the last sequence number used (saved by a previous run).
func (d *Device) SetSeq(seq uint64) {
	d.mu.Lock()
	d.seq = seq
	d.mu.Unlock()
}

// Reading signs a reading of measurements (thousandths of their units) taken
// at t, with the next sequence number, in wire format v2 (Client.Send).
func (d *Device) Reading(t time.Time, measurements map[string]int64) (*pb.SignedReadingV2, error) {
	return pb.SignV2(d.next(t, measurements), d.key)
}

// ReadingV1 is Reading in wire format v1 (Client.SendV1), for endpoints
// that predate v2.
func (d *Device) ReadingV1(t time.Time, measurements map[string]int64) (*pb.SignedReading, error) {
	return pb.Sign(d.next(t, measurements), d.key)
}

// next is the reading taken at t, with the next sequence number.
func (d *Device) next(t time.Time, measurements map[string]int64) *pb.Reading {
	d.mu.Lock()
	d.seq++
	seq := d.seq
	d.mu.Unlock()
	return &pb.Reading{DeviceId: d.ID, Seq: seq, EventTimeMs: t.UnixMilli(), Kind: d.Kind, Measurements: measurements, Location: d.Location}
}
