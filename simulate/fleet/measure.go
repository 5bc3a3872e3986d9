package fleet

// What an honest device measures: where its values start, how they wander,
// and the counters of the kinds paid by what they deliver.

import (
	"maps"
	"math"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// baseline is where a device's measurements start.
func (d *Device) baseline() map[string]int64 {
	n := func(center, spread int64) int64 { return center + d.rng.Int64N(2*spread+1) - spread }
	switch d.Kind {
	case pb.ResourceKind_RESOURCE_KIND_HOTSPOT:
		return map[string]int64{"rssi_dbm": n(-85_000, 15_000), "snr_db": n(8_000, 6_000), "beacons": n(30, 10)}
	case pb.ResourceKind_RESOURCE_KIND_WEATHER:
		return map[string]int64{"temperature_c": n(16_000, 4_000), "humidity_pct": n(65_000, 15_000), "pressure_hpa": n(1_013_000, 8_000)}
	case pb.ResourceKind_RESOURCE_KIND_ENERGY:
		return map[string]int64{"power_w": n(2_500_000, 1_500_000), "voltage_v": n(230_000, 5_000), "energy_wh": d.rng.Int64N(1 << 40)}
	default:
		return map[string]int64{"throughput_mbps": n(250_000, 200_000), "latency_ms": n(35_000, 25_000), "served_gb": d.rng.Int64N(1 << 40)}
	}
}

// walk moves an honest device's measurements a step, within their ranges:
// sensors have noise, and the world changes gradually.
func (d *Device) walk() {
	step := func(name string, spread, lo, hi int64) {
		v := d.values[name] + d.rng.Int64N(2*spread+1) - spread
		d.values[name] = min(max(v, lo), hi)
	}
	switch d.Kind {
	case pb.ResourceKind_RESOURCE_KIND_HOTSPOT:
		step("rssi_dbm", 3_000, -130_000, -40_000)
		step("snr_db", 1_500, -20_000, 30_000)
		step("beacons", 3, 0, 200)
	case pb.ResourceKind_RESOURCE_KIND_WEATHER:
		step("temperature_c", 300, -30_000, 45_000)
		step("humidity_pct", 1_500, 5_000, 100_000)
		step("pressure_hpa", 300, 950_000, 1_050_000)
	case pb.ResourceKind_RESOURCE_KIND_ENERGY:
		step("power_w", 200_000, 0, 10_000_000)
		step("voltage_v", 1_500, 210_000, 250_000)
	default:
		step("throughput_mbps", 30_000, 1_000, 1_000_000)
		step("latency_ms", 5_000, 1_000, 500_000)
	}
}

// count moves an energy meter's or a bandwidth node's counter on to atMs:
// what the power, or the throughput, delivered since the last reading.
func (d *Device) count(atMs int64) {
	elapsed := max(atMs-d.countMs, 0)
	if d.countMs == 0 {
		elapsed = 0
	}
	d.countMs = atMs
	switch d.Kind {
	case pb.ResourceKind_RESOURCE_KIND_ENERGY: // mW x ms / 3,600,000 = mWh
		d.values["energy_wh"] += d.values["power_w"] * elapsed / 3_600_000
	case pb.ResourceKind_RESOURCE_KIND_BANDWIDTH: // thousandths of Mbit/s x ms / 8e6 = MB (thousandths of a GB)
		d.values["served_gb"] += d.values["throughput_mbps"] * elapsed / 8_000_000
	}
}

// measure is the device's measurements at atMs: a step of the walk, and
// the counters moved on.
func (d *Device) measure(atMs int64) map[string]int64 {
	d.walk()
	d.count(atMs)
	return maps.Clone(d.values)
}

// distanceM is the great-circle distance, for the simulation only (the
// validators compute theirs in integers).
func distanceM(a, b *pb.Location) float64 {
	const r = 6_371_000
	la1, la2 := float64(a.LatE7)/1e7*math.Pi/180, float64(b.LatE7)/1e7*math.Pi/180
	dla, dlo := la2-la1, float64(b.LonE7-a.LonE7)/1e7*math.Pi/180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dlo/2)*math.Sin(dlo/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}
