// A decided reading as a ClickHouse row, and the columns a block of them is
// inserted as.

package aggregator

import (
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/geo"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

type row struct {
	deviceID     string
	seq          uint64
	eventTime    time.Time
	epoch        uint64
	kind         string
	owner        string
	measurements map[string]int64
	lat, lon     int32
	receivedAt   time.Time
	status       string
	reason       string
	detail       string
	topic        string
	partition    uint32
	offset       uint64
	driftM       uint32 // reported position's distance from the asserted location
	witnessOf    string // a hotspot's witness: the beacon's device and sequence number
	witnessSeq   uint64
	// The reading as signed (after the domain prefix), its signature, and
	// which domain: 2 for v2, 1 for a v1 reading's canonical encoding, 0
	// when the record carried no signed bytes.
	body, signature []byte
	wire            uint8
	trustedBy       string // the network server that vouches for an unsigned reading (wire 3)
	uplink          uplink
}

// toRow decodes a record and decides whether a valid reading is LATE, from
// the partition's watermark before the record (then moved past it).
//
// A reading is LATE when its partition's watermark has already passed its
// epoch's end plus the allowed lateness. The watermark is a function of the
// partition's log, so the decision is the same after a crash, on another
// instance, or in a replay; and since an epoch closes only once every
// partition's watermark has passed that point, nothing counted for an epoch
// can arrive after it closed. Partitions left out of closing as idle are the
// exception: a reading there for a closed epoch is LATE because the epoch is
// closed.
func (s *Service) toRow(rec *kgo.Record, wm map[topicPartition]time.Time) row {
	r := row{topic: rec.Topic, partition: uint32(rec.Partition), offset: uint64(rec.Offset)}
	var d record
	rejected := rec.Topic != s.topics.Valid
	if err := d.decode(rec.Value, rejected); err != nil || !d.hasReading {
		d = record{deviceID: string(rec.Key), reason: "UNDECODABLE", detail: "valid record does not decode"}
		if rejected {
			d.detail = "rejected record does not decode"
		}
		rejected = true
	}
	r.owner = d.owner
	if rejected {
		r.status, r.reason, r.detail = "rejected", d.reason, d.detail
	} else {
		r.status = "valid"
	}
	r.deviceID, r.seq, r.kind, r.measurements = d.deviceID, d.seq, kindName(d.kind), d.measurements
	r.witnessOf, r.witnessSeq = d.witnessOf, d.witnessSeq
	r.body, r.signature = d.body, d.signature
	r.trustedBy, r.uplink = d.trustedBy, d.uplink
	switch {
	case len(d.body) == 0:
	case d.trustedBy != "":
		r.wire = 3 // no signature: ingest's encoding of an uplink the network server vouched for
	case d.canonical:
		r.wire = 1
	default:
		r.wire = 2
	}
	r.eventTime, r.receivedAt = time.UnixMilli(d.eventMs).UTC(), time.UnixMilli(d.receivedMs).UTC()
	r.epoch = s.cfg.Epoch(d.eventMs)
	r.lat, r.lon = d.lat, d.lon
	switch {
	case !d.hasLocation && d.hasAsserted:
		r.lat, r.lon = d.alat, d.alon // placed where it is registered (scoring shares by place)
	case d.hasLocation && d.hasAsserted && !rejected:
		r.driftM = uint32(min(geo.DistanceM(d.alat, d.alon, d.lat, d.lon), math.MaxUint32)) // location trust reads it
	}
	k := topicPartition{rec.Topic, rec.Partition}
	if r.status == "valid" {
		deadline := time.UnixMilli(int64(r.epoch+1)*s.cfg.EpochLength.Milliseconds() + s.cfg.AllowedLateness.Milliseconds()).UTC()
		switch w := wm[k]; {
		case !w.Before(deadline):
			r.status, r.reason = "rejected", ReasonLate
			r.detail = fmt.Sprintf("epoch %d ended; partition watermark %s had passed its end plus lateness", r.epoch, w.Format(time.RFC3339Nano))
		case r.epoch <= s.closedThrough:
			r.status, r.reason = "rejected", ReasonLate
			r.detail = fmt.Sprintf("epoch %d closed (closed through %d)", r.epoch, s.closedThrough)
		}
	}
	if w := minTime(r.eventTime, r.receivedAt); w.After(wm[k]) {
		wm[k] = w
	}
	if r.measurements == nil {
		r.measurements = map[string]int64{}
	}
	return r
}

// kindNames are the resource kinds' names: Kind.String() looks each up in
// the descriptor, which showed in the aggregator's profile.
var kindNames = func() map[pb.ResourceKind]string {
	m := map[pb.ResourceKind]string{}
	for v, name := range pb.ResourceKind_name {
		m[pb.ResourceKind(v)] = name
	}
	return m
}()

func kindName(k pb.ResourceKind) string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	return k.String() // a kind newer than this binary: its number
}

// columns holds a block's rows column by column, in the order of the
// readings table: rows are decoded straight into them, and whole columns
// are appended to the INSERT, sparing a row copy and a type switch per
// value.
//
// The LowCardinality columns (kind, owner, status, reason, topic,
// trustedBy) hold their values boxed as `any`, each distinct value boxed
// once a block (boxes). clickhouse-go takes such a column's values one at
// a time as `any`: from a []string it boxes each by reflection, an
// allocation a value, which with its dictionary's map was 18% of the
// aggregator's CPU in the pipeline's profile; from a []any it reads the
// boxes as they are.
type columns struct {
	kind, owner, status, reason, topic, trustedBy []any
	boxes                                         map[string]any
	device, detail                                []string
	seq, epoch, offset                            []uint64
	eventTime, receivedAt                         []time.Time
	measurements                                  []map[string]int64
	lat, lon                                      []int32
	partition, driftM                             []uint32
	witnessOf                                     []string
	witnessSeq                                    []uint64
	body, signature                               [][]byte
	wire                                          []uint8
	dedupID                                       []string
	fCnt                                          []uint32
	fPort                                         []uint8
	gateways                                      [][]string
	rssi, snr                                     [][]int16
}

func newColumns(n int) *columns {
	return &columns{
		device: make([]string, 0, n), kind: make([]any, 0, n), owner: make([]any, 0, n), status: make([]any, 0, n),
		reason: make([]any, 0, n), detail: make([]string, 0, n), topic: make([]any, 0, n), boxes: map[string]any{},
		seq: make([]uint64, 0, n), epoch: make([]uint64, 0, n), offset: make([]uint64, 0, n),
		eventTime: make([]time.Time, 0, n), receivedAt: make([]time.Time, 0, n), measurements: make([]map[string]int64, 0, n),
		lat: make([]int32, 0, n), lon: make([]int32, 0, n), partition: make([]uint32, 0, n), driftM: make([]uint32, 0, n),
		witnessOf: make([]string, 0, n), witnessSeq: make([]uint64, 0, n),
		body: make([][]byte, 0, n), signature: make([][]byte, 0, n), wire: make([]uint8, 0, n),
		trustedBy: make([]any, 0, n), dedupID: make([]string, 0, n), fCnt: make([]uint32, 0, n), fPort: make([]uint8, 0, n),
		gateways: make([][]string, 0, n), rssi: make([][]int16, 0, n), snr: make([][]int16, 0, n),
	}
}

func (c *columns) add(r row) {
	c.device, c.seq, c.eventTime, c.epoch = append(c.device, r.deviceID), append(c.seq, r.seq), append(c.eventTime, r.eventTime), append(c.epoch, r.epoch)
	c.kind, c.owner, c.measurements = append(c.kind, c.box(r.kind)), append(c.owner, c.box(r.owner)), append(c.measurements, r.measurements)
	c.lat, c.lon, c.receivedAt = append(c.lat, r.lat), append(c.lon, r.lon), append(c.receivedAt, r.receivedAt)
	c.status, c.reason, c.detail = append(c.status, c.box(r.status)), append(c.reason, c.box(r.reason)), append(c.detail, r.detail)
	c.topic, c.partition, c.offset = append(c.topic, c.box(r.topic)), append(c.partition, r.partition), append(c.offset, r.offset)
	c.driftM, c.witnessOf, c.witnessSeq = append(c.driftM, r.driftM), append(c.witnessOf, r.witnessOf), append(c.witnessSeq, r.witnessSeq)
	c.body, c.signature, c.wire = append(c.body, r.body), append(c.signature, r.signature), append(c.wire, r.wire)
	u := r.uplink
	c.trustedBy, c.dedupID, c.fCnt, c.fPort = append(c.trustedBy, c.box(r.trustedBy)), append(c.dedupID, u.deduplicationID), append(c.fCnt, u.fCnt), append(c.fPort, uint8(min(u.fPort, 255)))
	c.gateways, c.rssi, c.snr = append(c.gateways, nonNil(u.gateways)), append(c.rssi, nonNil(u.rssi)), append(c.snr, nonNil(u.snr))
}

// box is s as `any`, boxed once a block.
func (c *columns) box(s string) any {
	if v, ok := c.boxes[s]; ok {
		return v
	}
	v := any(s)
	c.boxes[s] = v
	return v
}

// nonNil is s, or an empty slice: the driver appends a nil slice as an error.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *columns) len() int { return len(c.device) }

// all is the columns in table order.
func (c *columns) all() []any {
	return []any{c.device, c.seq, c.eventTime, c.epoch, c.kind, c.owner, c.measurements, c.lat, c.lon, c.receivedAt,
		c.status, c.reason, c.detail, c.topic, c.partition, c.offset, c.driftM, c.witnessOf, c.witnessSeq, c.body, c.signature, c.wire,
		c.trustedBy, c.dedupID, c.fCnt, c.fPort, c.gateways, c.rssi, c.snr}
}
