// What each device sends, tick by tick: an honest device's readings, or
// its strategy's cheat (fleet.go runs the ticks and sends them).

package fleet

import (
	"maps"
	"math"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// honestly reports whether the device behaves as a real device does: the
// honest ones, and the real station of a multikind site.
func (d *Device) honestly() bool {
	return d.Strategy == Honest || (d.Strategy == MultiKind && d.program == nil)
}

// gridSteps is the size of a weather measurement's grid step (the
// validators' clone grid: 0.1 °C, 1 %, 0.1 hPa), in thousandths.
var gridSteps = map[string]int64{"temperature_c": 100, "humidity_pct": 1000, "pressure_hpa": 100}

// readings are what the device sends at time t (nil during an outage), in
// the first phase of a tick.
func (d *Device) readings(t time.Time) ([]*pb.SignedReadingV2, error) {
	d.beacon = 0
	if d.honestly() {
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
	r := &pb.Reading{DeviceId: d.ID, EventTimeMs: at.UnixMilli(), Kind: d.Kind, Location: d.Location}
	if d.Strategy == MultiKind && d.program != nil {
		// One program's identities: its tick, plus each identity's jitter.
		r.EventTimeMs += int64(math.Round((2*d.rng.Float64() - 1) * d.params.Jitter))
		r.Measurements = d.fabricate(r.EventTimeMs)
	} else {
		r.Measurements = d.measure(at.UnixMilli())
	}
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
	case Loop, CounterLoop:
		r.Measurements = d.loop(r.EventTimeMs, r.Measurements)
	case Clone, Witness, NearCopy, CounterCopy:
		return nil, nil // they act in the second phase
	}
	if d.Kind == pb.ResourceKind_RESOURCE_KIND_HOTSPOT && d.Strategy == Honest && d.rng.IntN(3) == 0 {
		r.Measurements["beacon_tx_dbm"] = 27_000 // this reading is also a beacon
	}
	out, err := d.sign(append([]*pb.Reading{r}, extra...), key)
	if err != nil {
		return nil, err
	}
	if _, ok := r.Measurements["beacon_tx_dbm"]; ok {
		d.beacon = r.Seq
		d.lastBeacon.seq, d.lastBeacon.atMs = r.Seq, r.EventTimeMs
	}
	d.lastSent = r
	d.history = append(d.history, out[0])
	if len(d.history) > 8 {
		d.history = d.history[1:]
	}
	return out, nil
}

// sign numbers and signs readings with key.
func (d *Device) sign(rs []*pb.Reading, key []byte) ([]*pb.SignedReadingV2, error) {
	var out []*pb.SignedReadingV2
	for _, x := range rs {
		d.seq++
		x.Seq = d.seq
		s, err := pb.SignV2(x, key)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	d.sent += len(rs)
	return out, nil
}

// loop is what a looping device reports at atMs: its first Length readings
// as measured, recorded; then the recording over and over, with Jitter
// added (grid steps for weather, watts for a meter's power), a meter's
// counter integrating the power it replays.
func (d *Device) loop(atMs int64, measured map[string]int64) map[string]int64 {
	if len(d.tape) < d.params.Length {
		d.tape = append(d.tape, maps.Clone(measured))
		return measured
	}
	v := maps.Clone(d.tape[(d.sent-d.params.Length)%d.params.Length])
	jitter := func() float64 { return (2*d.rng.Float64() - 1) * d.params.Jitter }
	if d.Kind == pb.ResourceKind_RESOURCE_KIND_ENERGY {
		v["power_w"] = max(v["power_w"]+int64(jitter()*1000), 0)
		v["energy_wh"] = d.values["energy_wh"] + v["power_w"]*(atMs-d.sensor.lastMs)/3_600_000
		d.values["energy_wh"], d.sensor.lastMs = v["energy_wh"], atMs
		return v
	}
	for name, step := range gridSteps {
		v[name] += int64(math.Round(jitter() * float64(step)))
	}
	return v
}

// later are what the device sends in the second phase of a tick, after
// every first-phase reading was sent: copies of what their target sent,
// and the hotspots' witness reports.
func (f *Fleet) later(d *Device, t time.Time, beacons []*Device) ([]*pb.SignedReadingV2, error) {
	var rs []*pb.Reading
	at := t.Add(d.drift + f.cfg.Interval/2).UnixMilli() // between two regular readings
	switch {
	case d.Strategy == Clone || d.Strategy == NearCopy || d.Strategy == CounterCopy:
		if r := d.copyOf(); r != nil {
			rs = append(rs, r)
		}
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
	case (d.Strategy == Honest || d.Strategy == WitnessLoop) && d.Kind == pb.ResourceKind_RESOURCE_KIND_HOTSPOT && d.outage == 0:
		if r := d.heard(at, beacons); r != nil {
			rs = append(rs, r)
		}
	}
	return d.sign(rs, d.key)
}

// copyOf is a copying cheat's reading of what its target sent this tick.
func (d *Device) copyOf() *pb.Reading {
	t := d.target
	if t == nil || t.lastSent == nil || t.outage > 0 {
		return nil
	}
	m := maps.Clone(t.lastSent.Measurements)
	at := t.lastSent.EventTimeMs + 300
	switch d.Strategy {
	case NearCopy:
		at = t.lastSent.EventTimeMs + d.params.Delay.Milliseconds()
		for name, step := range gridSteps {
			m[name] += int64(math.Round((2*d.rng.Float64() - 1) * d.params.Noise * float64(step)))
		}
	case CounterCopy:
		at = t.lastSent.EventTimeMs + d.params.Delay.Milliseconds()
		m["power_w"] = max(m["power_w"]+int64((2*d.rng.Float64()-1)*d.params.Noise*1000), 0)
		if d.sensor.lastMs != 0 {
			d.values["energy_wh"] += m["power_w"] * (at - d.sensor.lastMs) / 3_600_000
		}
		d.sensor.lastMs = at
		m["energy_wh"] = d.values["energy_wh"]
	}
	return &pb.Reading{DeviceId: d.ID, EventTimeMs: at, Kind: d.Kind, Measurements: m, Location: d.Location}
}

// heard is a hotspot's witness report: an honest one hears the nearest
// beacon in range, as radio does (free-space loss and then some: walls,
// terrain; never more than free space allows); a witnessloop hotspot
// records its first Length reports, then repeats their pattern, each
// naming its beaconer's latest beacon.
func (d *Device) heard(at int64, beacons []*Device) *pb.Reading {
	var best *Device
	var rssi, snr int64
	if d.Strategy == WitnessLoop && len(d.pattern) >= d.params.Length {
		// A beaconer silent for now holds the pattern until it beacons again.
		h := d.pattern[d.played%d.params.Length]
		if b := h.beaconer; b.lastBeacon.seq != 0 && at-b.lastBeacon.atMs < 30_000 {
			d.played++
			return &pb.Reading{DeviceId: d.ID, EventTimeMs: at, Kind: d.Kind, Location: d.Location,
				Measurements: map[string]int64{"rssi_dbm": h.rssi, "snr_db": h.snr}, Witness: &pb.Witness{BeaconDeviceId: b.ID, BeaconSeq: b.lastBeacon.seq}}
		}
		return nil
	}
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
		return nil
	}
	fspl := 20*math.Log10(bestD) + 20*math.Log10(915) - 27.55
	rssi, snr = int64((27-fspl-3-17*d.rng.Float64())*1000), 2_000+d.rng.Int64N(8_000)
	if d.Strategy == WitnessLoop {
		d.pattern = append(d.pattern, heardReport{best, rssi, snr})
	}
	return &pb.Reading{DeviceId: d.ID, EventTimeMs: at, Kind: d.Kind, Location: d.Location,
		Measurements: map[string]int64{"rssi_dbm": rssi, "snr_db": snr}, Witness: &pb.Witness{BeaconDeviceId: best.ID, BeaconSeq: best.beacon}}
}
