package aggregator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The worked example of docs/scoring.md: its epoch and epoch length.
const (
	workedEpoch       = 1000
	workedEpochLength = 30 * time.Second
)

// seedWorkedExample writes the readings of docs/scoring.md's worked
// example into conn's readings table.
func seedWorkedExample(t *testing.T, ctx context.Context, conn driver.Conn) {
	const epochLength, epoch = workedEpochLength, workedEpoch
	weather, energy := pb.ResourceKind_RESOURCE_KIND_WEATHER.String(), pb.ResourceKind_RESOURCE_KIND_ENERGY.String()
	// A reading of the example: where it was, what it measured, how far
	// from the asserted location, and for rejections why.
	type reading struct {
		device, kind, status, reason string
		epoch                        uint64
		sec                          int64
		lat, lon                     int32
		measurements                 map[string]int64
		driftM                       uint32
		offset                       uint64 // 0: the next one
	}
	var offset uint64
	put := func(r reading) {
		if r.offset == 0 {
			offset++
			r.offset = offset
		}
		if r.epoch == 0 {
			r.epoch = epoch
		}
		if r.measurements == nil {
			r.measurements = map[string]int64{}
		}
		if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at,
				status, reason, kafka_topic, kafka_partition, kafka_offset, drift_m)
			VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, ?, now64(3), ?, ?, ?, 0, ?, ?)`,
			r.device, r.offset, int64(r.epoch)*epochLength.Milliseconds()+r.sec*1000, r.epoch, r.kind, "owner-"+r.device, r.measurements,
			r.lat, r.lon, r.status, r.reason, map[string]string{"valid": "valid-topic", "rejected": "rejected-topic"}[r.status], r.offset, r.driftM); err != nil {
			t.Fatal(err)
		}
	}
	// What a live sensor measures: every value moves a little each reading.
	live := func(kind string, i int64) map[string]int64 {
		if kind == energy {
			return map[string]int64{"power_w": 2_000_000 + 5_000*i, "voltage_v": 230_000 + 300*i, "energy_wh": 1_000_000 + 5_000*i}
		}
		return map[string]int64{"temperature_c": 15_000 + 100*i, "humidity_pct": 60_000 + 300*i, "pressure_hpa": 1_013_000 + 60*i}
	}
	// valid puts a device's valid readings at the given seconds.
	valid := func(device, kind string, lat, lon int32, driftM uint32, seconds ...int64) {
		for i, sec := range seconds {
			put(reading{device: device, kind: kind, status: "valid", sec: sec, lat: lat, lon: lon, measurements: live(kind, int64(i)), driftM: driftM})
		}
	}
	every5 := []int64{0, 5, 10, 15, 20, 25}
	valid("ws-a", weather, 387_000_000, -91_400_000, 0, 0, 1, 2, 7, 12, 29)
	var all []int64
	for s := int64(0); s < 30; s++ {
		all = append(all, s)
	}
	valid("ws-flood", weather, 387_500_000, -92_000_000, 0, all...)
	for i := int32(1); i <= 3; i++ {
		valid(fmt.Sprintf("ws-ring-%d", i), weather, 388_000_000+i*100, -91_000_000, 0, every5...)
	}
	valid("meter-d", energy, 388_000_100, -91_000_000, 0, every5...)
	for _, sec := range every5 {
		put(reading{device: "ws-e", kind: weather, status: "rejected", reason: "OUT_OF_RANGE", sec: sec, lat: 386_000_000, lon: -91_000_000})
	}
	valid("ws-clone", weather, 388_000_400, -91_000_000, 0, every5...)
	put(reading{device: "ws-clone", kind: weather, status: "rejected", reason: "CLONED_STREAM", sec: 3, lat: 388_000_400, lon: -91_000_000})
	valid("ws-probation", weather, 385_000_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-probation", kind: weather, status: "rejected", reason: "STUCK_SENSOR", epoch: epoch - 1, sec: 3, lat: 385_000_000, lon: -91_000_000})
	valid("ws-held", weather, 384_500_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-held", kind: weather, status: "rejected", reason: "CLONED_STREAM", epoch: epoch + 2, sec: 3, lat: 384_500_000, lon: -91_000_000})
	valid("ws-after-cut", weather, 384_000_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-after-cut", kind: weather, status: "rejected", reason: "OUT_OF_RANGE", sec: 3, lat: 384_000_000, lon: -91_000_000, offset: 5000}) // past the cut below
	valid("ws-retry", weather, 383_000_000, -91_000_000, 0, every5...)
	put(reading{device: "ws-retry", kind: weather, status: "rejected", reason: "DUPLICATE", sec: 3, lat: 383_000_000, lon: -91_000_000})
	valid("ws-replay", weather, 382_500_000, -91_000_000, 0, 0, 5)
	for sec := int64(6); sec < 16; sec++ { // its two readings, sent again and again
		put(reading{device: "ws-replay", kind: weather, status: "rejected", reason: "DUPLICATE", sec: sec, lat: 382_500_000, lon: -91_000_000})
	}
	for i, sec := range every5 {
		flat := map[string]int64{"temperature_c": 18_000, "humidity_pct": 60_000, "pressure_hpa": 1_012_000}
		put(reading{device: "ws-flat", kind: weather, status: "valid", sec: sec, lat: 382_000_000, lon: -91_000_000, measurements: flat})
		dither := int64(i%2*2-1) * 10 // +-10: under every noise floor
		put(reading{device: "ws-dither", kind: weather, status: "valid", sec: sec, lat: 381_000_000, lon: -91_000_000,
			measurements: map[string]int64{"temperature_c": 18_000 + dither, "humidity_pct": 60_000 - dither, "pressure_hpa": 1_012_000 + dither}})
		partial := live(weather, int64(i))
		if i%2 == 1 {
			delete(partial, "pressure_hpa")
		}
		put(reading{device: "ws-partial", kind: weather, status: "valid", sec: sec, lat: 380_000_000, lon: -91_000_000, measurements: partial})
	}
	valid("ws-drift-350", weather, 379_000_000, -91_000_000, 350, every5...)
	valid("ws-drift-450", weather, 378_000_000, -91_000_000, 450, every5...)
	// Three meters in three cells of one crowded area (energy's target is
	// 2 in this example).
	for i, lat := range []int32{389_000_000, 389_080_000, 389_160_000} {
		valid(fmt.Sprintf("meter-x%d", i+1), energy, lat, -92_000_000, 0, every5...)
	}
	// A meter whose counter claims 50 Wh every 5 s, 36 kW: more than the
	// kind's rating (10 kW) can deliver.
	for i, sec := range every5 {
		over := live(energy, int64(i))
		over["energy_wh"] = 1_000_000 + 50_000*int64(i)
		put(reading{device: "meter-over", kind: energy, status: "valid", sec: sec, lat: 376_000_000, lon: -91_000_000, measurements: over})
	}
	offset = seedWorkedWitnesses(t, ctx, conn, offset)
	// A reading of another epoch is not this epoch's.
	put(reading{device: "ws-a", kind: weather, status: "valid", epoch: epoch + 1, lat: 387_000_000, lon: -91_400_000, measurements: live(weather, 0)})

}

// seedWorkedWitnesses writes the worked example's hotspots: paid for the
// beacons they heard (hotspot's witnessesPerBeacon is 2 in this example),
// each report carrying the signal it heard, and the beacons. It returns the
// next offset.
func seedWorkedWitnesses(t *testing.T, ctx context.Context, conn driver.Conn, offset uint64) uint64 {
	const epochLength, epoch = workedEpochLength, workedEpoch
	hotspot := pb.ResourceKind_RESOURCE_KIND_HOTSPOT.String()
	heard := func(device string, lat int32, reports ...struct {
		sec    int64
		beacon string
		seq    uint64
	}) {
		for i, w := range reports {
			if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at,
					status, kafka_topic, kafka_partition, kafka_offset, witness_of, witness_seq)
				VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, ?, ?, ?, -91000000, now64(3), 'valid', 'valid-topic', 0, ?, ?, ?)`,
				device, uint64(i+1), int64(epoch)*epochLength.Milliseconds()+w.sec*1000, uint64(epoch), hotspot, "owner-"+device,
				map[string]int64{"rssi_dbm": -90_000 + 1_000*int64(i), "snr_db": 5_000 + 1_000*int64(i)}, lat, 9000+offset, w.beacon, w.seq); err != nil {
				t.Fatal(err)
			}
			offset++
		}
	}
	type w = struct {
		sec    int64
		beacon string
		seq    uint64
	}
	// The beacons, sent in the epoch before (hs-q's was never sent).
	for i, b := range []w{{20, "hs-x", 1}, {22, "hs-x", 2}, {23, "hs-y", 1}, {24, "hs-z", 1}, {25, "hs-z", 2}} {
		if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at,
				status, kafka_topic, kafka_partition, kafka_offset)
			VALUES (?, ?, fromUnixTimestamp64Milli(?), ?, ?, '', ?, ?, -91000000, now64(3), 'valid', 'valid-topic', 0, ?)`,
			b.beacon, b.seq, int64(epoch-1)*epochLength.Milliseconds()+b.sec*1000, uint64(epoch-1), hotspot,
			map[string]int64{"rssi_dbm": -90_000, "snr_db": 5_000, "beacon_tx_dbm": 27_000}, 374_000_000+int32(i)*1_000_000, 8000+i); err != nil {
			t.Fatal(err)
		}
	}
	heard("hs-a", 375_000_000, w{1, "hs-x", 1}, w{6, "hs-x", 2}, w{11, "hs-y", 1}, w{16, "hs-q", 1})
	heard("hs-b", 377_000_000, w{2, "hs-x", 1}, w{12, "hs-y", 1})
	heard("hs-c", 379_000_000, w{3, "hs-x", 1}, w{7, "hs-x", 2}, w{8, "hs-z", 1}, w{9, "hs-z", 2})
	return offset
}
