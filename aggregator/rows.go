// A decided reading as a ClickHouse row, and the columns a block of them is
// inserted as.

package aggregator

import (
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/ch-go/proto"
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
	measurements []measurement // decoded into the reused scratch of toRow's record: add them before the next toRow
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
	d := &s.rec // reused: the row's measurements are its, until the next toRow
	rejected := rec.Topic != s.topics.Valid
	if err := d.decode(rec.Value, rejected); err != nil || !d.hasReading {
		*d = record{measurements: d.measurements[:0], deviceID: string(rec.Key), reason: "UNDECODABLE", detail: "valid record does not decode"}
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

// columns holds a block's rows column by column, in ch-go's typed columns:
// rows are decoded straight into them, and the block is sent as it is
// (clickhouse.Inserter), with no value boxed or looked up by reflection.
type columns struct {
	device, detail, witnessOf, body, signature, dedupID proto.ColStr
	kind, owner, status, reason, topic, trustedBy       *proto.ColLowCardinality[string]
	seq, epoch, offset, witnessSeq                      proto.ColUInt64
	eventTime, receivedAt                               *proto.ColDateTime64
	measurements                                        *proto.ColMap[string, int64]
	lat, lon                                            proto.ColInt32
	partition, driftM, fCnt                             proto.ColUInt32
	wire, fPort                                         proto.ColUInt8
	gateways                                            *proto.ColArr[string]
	rssi, snr                                           *proto.ColArr[int16]
}

// newColumns makes columns sized for n rows.
func newColumns(n int) *columns {
	lc := func() *proto.ColLowCardinality[string] {
		c := proto.NewLowCardinality[string](new(proto.ColStr))
		c.Values = make([]string, 0, n)
		return c
	}
	str := func(avg int) proto.ColStr {
		return proto.ColStr{Buf: make([]byte, 0, n*avg), Pos: make([]proto.Position, 0, n)}
	}
	ms := func() *proto.ColDateTime64 {
		c := new(proto.ColDateTime64).WithPrecision(proto.PrecisionMilli).WithLocation(time.UTC)
		c.Data = make([]proto.DateTime64, 0, n)
		return c
	}
	c := &columns{
		device: str(16), detail: str(0), witnessOf: str(0), body: str(112), signature: str(64), dedupID: str(0),
		kind: lc(), owner: lc(), status: lc(), reason: lc(), topic: lc(), trustedBy: lc(),
		seq: make(proto.ColUInt64, 0, n), epoch: make(proto.ColUInt64, 0, n), offset: make(proto.ColUInt64, 0, n), witnessSeq: make(proto.ColUInt64, 0, n),
		eventTime: ms(), receivedAt: ms(),
		measurements: measurementsColumn(n),
		lat:          make(proto.ColInt32, 0, n), lon: make(proto.ColInt32, 0, n),
		partition: make(proto.ColUInt32, 0, n), driftM: make(proto.ColUInt32, 0, n), fCnt: make(proto.ColUInt32, 0, n),
		wire: make(proto.ColUInt8, 0, n), fPort: make(proto.ColUInt8, 0, n),
		gateways: proto.NewArray[string](new(proto.ColStr)), rssi: proto.NewArray[int16](new(proto.ColInt16)), snr: proto.NewArray[int16](new(proto.ColInt16)),
	}
	for _, a := range []*proto.ColUInt64{&c.gateways.Offsets, &c.rssi.Offsets, &c.snr.Offsets} {
		*a = make(proto.ColUInt64, 0, n)
	}
	return c
}

// measurementsColumn is the measurements Map sized for n rows of about
// four measurements: grown from empty, it was a fifth of a block's CPU.
func measurementsColumn(n int) *proto.ColMap[string, int64] {
	keys := proto.NewLowCardinality[string](new(proto.ColStr))
	keys.Values = make([]string, 0, 4*n)
	values := make(proto.ColInt64, 0, 4*n)
	m := proto.NewMap[string, int64](keys, &values)
	m.Offsets = make(proto.ColUInt64, 0, n)
	return m
}

func (c *columns) add(r row) {
	c.device.Append(r.deviceID)
	c.seq.Append(r.seq)
	c.eventTime.Append(r.eventTime)
	c.epoch.Append(r.epoch)
	c.kind.Append(r.kind)
	c.owner.Append(r.owner)
	c.measurements.AppendKV(r.measurements)
	c.lat.Append(r.lat)
	c.lon.Append(r.lon)
	c.receivedAt.Append(r.receivedAt)
	c.status.Append(r.status)
	c.reason.Append(r.reason)
	c.detail.Append(r.detail)
	c.topic.Append(r.topic)
	c.partition.Append(r.partition)
	c.offset.Append(r.offset)
	c.driftM.Append(r.driftM)
	c.witnessOf.Append(r.witnessOf)
	c.witnessSeq.Append(r.witnessSeq)
	c.body.AppendBytes(r.body)
	c.signature.AppendBytes(r.signature)
	c.wire.Append(r.wire)
	u := r.uplink
	c.trustedBy.Append(r.trustedBy)
	c.dedupID.Append(u.deduplicationID)
	c.fCnt.Append(u.fCnt)
	c.fPort.Append(uint8(min(u.fPort, 255)))
	c.gateways.Append(u.gateways)
	c.rssi.Append(u.rssi)
	c.snr.Append(u.snr)
}

func (c *columns) len() int { return c.device.Rows() }

// reset empties the columns, keeping their memory for the next block.
func (c *columns) reset() {
	for _, col := range c.input() {
		col.Data.(interface{ Reset() }).Reset()
	}
}

// input is the block as the INSERT's columns, named as in the readings
// table (lorawan_gateways is a Nested column: three arrays).
func (c *columns) input() proto.Input {
	return proto.Input{
		{Name: "device_id", Data: &c.device}, {Name: "seq", Data: &c.seq}, {Name: "event_time", Data: c.eventTime},
		{Name: "epoch", Data: &c.epoch}, {Name: "kind", Data: c.kind}, {Name: "owner", Data: c.owner},
		{Name: "measurements", Data: c.measurements}, {Name: "lat_e7", Data: &c.lat}, {Name: "lon_e7", Data: &c.lon},
		{Name: "received_at", Data: c.receivedAt}, {Name: "status", Data: c.status}, {Name: "reason", Data: c.reason},
		{Name: "detail", Data: &c.detail}, {Name: "kafka_topic", Data: c.topic}, {Name: "kafka_partition", Data: &c.partition},
		{Name: "kafka_offset", Data: &c.offset}, {Name: "drift_m", Data: &c.driftM}, {Name: "witness_of", Data: &c.witnessOf},
		{Name: "witness_seq", Data: &c.witnessSeq}, {Name: "reading_bytes", Data: &c.body}, {Name: "signature", Data: &c.signature},
		{Name: "wire", Data: &c.wire}, {Name: "trusted_by", Data: c.trustedBy}, {Name: "lorawan_deduplication_id", Data: &c.dedupID},
		{Name: "lorawan_f_cnt", Data: &c.fCnt}, {Name: "lorawan_f_port", Data: &c.fPort},
		{Name: "lorawan_gateways.gateway_id", Data: c.gateways}, {Name: "lorawan_gateways.rssi_dbm", Data: c.rssi},
		{Name: "lorawan_gateways.snr_db10", Data: c.snr},
	}
}
