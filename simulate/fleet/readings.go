// What each device sends, tick by tick: an honest device's readings, or
// its strategy's cheat (fleet.go runs the ticks and sends them).

package fleet

import (
	"maps"
	"math"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// readings are what the device sends at time t (nil during an outage), in
// the first phase of a tick.
func (d *Device) readings(t time.Time) ([]*pb.SignedReadingV2, error) {
	d.beacon = 0
	if d.Strategy == Honest {
		if d.outage > 0 { // honest devices go offline now and then
			d.outage--
			return nil, nil
		}
		if d.rng.IntN(200) == 0 {
			d.outage = 1 + d.rng.IntN(6)
		}
		d.drift += time.Duration(d.rng.IntN(41)-20) * time.Millisecond // a clock that wanders
	}
	at := t.Add(d.drift)
	r := &pb.Reading{DeviceId: d.ID, EventTimeMs: at.UnixMilli(), Kind: d.Kind, Measurements: d.measure(at.UnixMilli()), Location: d.Location}
	key := d.key
	var extra []*pb.Reading
	switch d.Strategy {
	case Replay:
		if len(d.history) >= 3 {
			return []*pb.SignedReadingV2{d.history[d.rng.IntN(len(d.history))]}, nil // an older reading, again
		}
	case Clock:
		r.EventTimeMs += (10 * time.Minute).Milliseconds()
	case Inflate:
		for k, v := range r.Measurements {
			r.Measurements[k] = v * 1000 // beyond what the kind can measure
		}
	case Constant:
		r.Measurements = maps.Clone(d.constant) // the same made-up values, every time
	case Dither:
		r.Measurements = maps.Clone(d.constant)
		for k := range r.Measurements {
			r.Measurements[k] += int64(d.seq%2)*2 - 1 // one unit up, one down
		}
	case Trickle:
		extra = append(extra, &pb.Reading{DeviceId: d.ID, EventTimeMs: r.EventTimeMs + 1001, Kind: d.Kind, Measurements: d.measure(r.EventTimeMs + 1001), Location: d.Location})
	case Drifter:
		r.Location = &pb.Location{LatE7: d.Location.LatE7 + 40_400 + int32(d.rng.IntN(50)), LonE7: d.Location.LonE7}
	case Border:
		// Both keys of the box report its one sensor: the same weather.
		r.Measurements = map[string]int64{"temperature_c": 17_000 + int64(t.Unix()/5%7)*100, "humidity_pct": 62_000 - int64(t.Unix()/5%5)*300,
			"pressure_hpa": 1_011_000 + int64(t.Unix()/5%3)*100}
	case Hopper:
		if len(d.history) >= 3 {
			return []*pb.SignedReadingV2{d.history[d.rng.IntN(len(d.history))]}, nil // replayed from the new region
		}
	case Spoof:
		r.Location = &pb.Location{LatE7: d.Location.LatE7 + 450_000 + int32(d.rng.IntN(100_000)), LonE7: d.Location.LonE7}
	case Sybil:
		// Every member of a ring reports the first member's weather.
		r.Measurements = map[string]int64{"temperature_c": 18_000 + int64(t.Unix()/60%10)*100, "humidity_pct": 60_000, "pressure_hpa": 1_012_000}
	case Flood:
		for i := 1; i < 10; i++ {
			extra = append(extra, &pb.Reading{DeviceId: d.ID, EventTimeMs: r.EventTimeMs + int64(i)*100, Kind: d.Kind, Measurements: d.measure(r.EventTimeMs + int64(i)*100), Location: d.Location})
		}
	case Forge:
		key = d.wrongKey
	case Clone, Witness:
		return nil, nil // they act in the second phase
	}
	if d.Kind == pb.ResourceKind_RESOURCE_KIND_HOTSPOT && d.Strategy == Honest && d.rng.IntN(3) == 0 {
		r.Measurements["beacon_tx_dbm"] = 27_000 // this reading is also a beacon
	}
	var out []*pb.SignedReadingV2
	for _, x := range append([]*pb.Reading{r}, extra...) {
		d.seq++
		x.Seq = d.seq
		s, err := pb.SignV2(x, key)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if _, ok := r.Measurements["beacon_tx_dbm"]; ok {
		d.beacon = r.Seq
	}
	d.lastSent = r
	d.history = append(d.history, out[0])
	if len(d.history) > 8 {
		d.history = d.history[1:]
	}
	return out, nil
}

// later are what the device sends in the second phase of a tick, after
// every first-phase reading was sent: clones copy what their target sent,
// and hotspots report the beacons they heard.
func (f *Fleet) later(d *Device, t time.Time, beacons []*Device) ([]*pb.SignedReadingV2, error) {
	var rs []*pb.Reading
	at := t.Add(d.drift + f.cfg.Interval/2).UnixMilli() // between two regular readings
	switch {
	case d.Strategy == Clone:
		if d.target == nil || d.target.lastSent == nil || d.target.outage > 0 {
			return nil, nil
		}
		m := map[string]int64{}
		for k, v := range d.target.lastSent.Measurements {
			m[k] = v
		}
		rs = append(rs, &pb.Reading{DeviceId: d.ID, EventTimeMs: d.target.lastSent.EventTimeMs + 300, Kind: d.Kind, Measurements: m, Location: d.Location})
	case d.Strategy == Witness && len(beacons) > 0:
		b := beacons[d.rng.IntN(len(beacons))]
		w := &pb.Witness{BeaconDeviceId: b.ID, BeaconSeq: b.beacon + 1_000} // a beacon never sent
		rssi := int64(-90_000)
		switch d.rng.IntN(3) {
		case 1:
			w = &pb.Witness{BeaconDeviceId: d.ID, BeaconSeq: d.seq} // its own
		case 2:
			w.BeaconSeq, rssi = b.beacon, -20_000 // a real beacon, heard impossibly loud
		}
		rs = append(rs, &pb.Reading{DeviceId: d.ID, EventTimeMs: at, Kind: d.Kind, Measurements: map[string]int64{"rssi_dbm": rssi, "snr_db": 5_000}, Location: d.Location, Witness: w})
	case d.Strategy == Honest && d.Kind == pb.ResourceKind_RESOURCE_KIND_HOTSPOT && d.outage == 0:
		// Hear the nearest beacon in range, as radio does: free-space loss
		// and then some (walls, terrain), never more than free space allows.
		var best *Device
		var bestD float64
		for _, b := range beacons {
			if b == d {
				continue
			}
			dist := distanceM(d.Location, b.Location)
			if dist >= 400 && dist <= 8_000 && (best == nil || dist < bestD) {
				best, bestD = b, dist
			}
		}
		if best == nil {
			return nil, nil
		}
		fspl := 20*math.Log10(bestD) + 20*math.Log10(915) - 27.55
		rssi := int64((27 - fspl - 3 - 17*d.rng.Float64()) * 1000)
		rs = append(rs, &pb.Reading{DeviceId: d.ID, EventTimeMs: at, Kind: d.Kind, Location: d.Location,
			Measurements: map[string]int64{"rssi_dbm": rssi, "snr_db": 2_000 + d.rng.Int64N(8_000)}, Witness: &pb.Witness{BeaconDeviceId: best.ID, BeaconSeq: best.beacon}})
	}
	var out []*pb.SignedReadingV2
	for _, r := range rs {
		d.seq++
		r.Seq = d.seq
		s, err := pb.SignV2(r, d.key)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
