package fleet

// What an honest device measures. Each kind is built the way the real thing
// behaves, because the information checks compare devices with each other
// and with their own past, and an honest fleet that is too simple would
// prove nothing (docs/simulator.md, "The honest fleet"):
//   - a weather station reads the air it shares with its neighbours (the
//     fleet's air), plus its own microclimate (a walk with ten minutes'
//     memory), its calibration bias, a sensor that follows the air with a
//     30 s response time, its own noise, and its resolution;
//   - a meter measures a household: an always-on base load, small loads
//     switching every minute or two, a fridge switching at irregular times,
//     appliances now and then, noise; its voltage is its feeder's, less
//     the drop of its own load; its counter integrates the power;
//   - a bandwidth node serves sessions that arrive at random and last
//     minutes, over a background; its latency grows with its load; its
//     counter integrates what it served;
//   - a hotspot's own readings are the signal of what it hears, fading
//     from one reading to the next around a level that drifts.

import (
	"maps"
	"math"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// sensor is an honest device's physical state between readings.
type sensor struct {
	lastMs int64
	// weather: microclimate, the sensor's lagging view, its noise and bias
	micro, lag, noise, bias [3]float64
	// energy
	base, small, fridge, appliance float64
	fridgeUntil, applianceUntil    int64
	// bandwidth
	background, rtt float64
	sessions        []session
	// hotspot: the level it hears around (dB, drifting) and its noise margin
	level, drift, snr float64
}

type session struct {
	mbps  float64
	until int64
}

var weatherMeasurements = [3]string{"temperature_c", "humidity_pct", "pressure_hpa"}

// baseline is where a device's measurements start, and the physics of an
// honest device of its kind.
func (d *Device) baseline() map[string]int64 {
	r := d.rng
	d.sensor = sensor{}
	s := &d.sensor
	n := func(center, spread int64) int64 { return center + r.Int64N(2*spread+1) - spread }
	switch d.Kind {
	case pb.ResourceKind_RESOURCE_KIND_HOTSPOT:
		s.level, s.snr = float64(n(-85, 15)), float64(n(8, 5))
		return map[string]int64{"rssi_dbm": int64(s.level * 1000), "snr_db": int64(s.snr * 1000), "beacons": n(30, 10)}
	case pb.ResourceKind_RESOURCE_KIND_WEATHER:
		s.noise = [3]float64{0.02 + 0.03*r.Float64(), 0.2 + 0.2*r.Float64(), 0.01 + 0.02*r.Float64()}
		s.bias = [3]float64{0.3 * r.NormFloat64(), 2 * r.NormFloat64(), 0.8 * r.NormFloat64()}
		return map[string]int64{"temperature_c": n(16_000, 4_000), "humidity_pct": n(65_000, 15_000), "pressure_hpa": n(1_013_000, 8_000)}
	case pb.ResourceKind_RESOURCE_KIND_ENERGY:
		s.base = 100 + 150*r.Float64()
		return map[string]int64{"power_w": int64(s.base) * 1000, "voltage_v": 230_000, "energy_wh": r.Int64N(1 << 40)}
	default:
		s.background, s.rtt = 2+8*r.Float64(), 10+30*r.Float64()
		return map[string]int64{"throughput_mbps": int64(s.background * 1000), "latency_ms": int64(s.rtt * 1000), "served_gb": r.Int64N(1 << 40)}
	}
}

// measure is the device's measurements at atMs: its physics moved on from
// its last reading, and its counters with them.
func (d *Device) measure(atMs int64) map[string]int64 {
	s := &d.sensor
	dt := float64(max(atMs-s.lastMs, 0))
	if s.lastMs == 0 {
		dt = 0
	}
	s.lastMs = atMs
	switch d.Kind {
	case pb.ResourceKind_RESOURCE_KIND_WEATHER:
		d.weather(atMs, dt)
	case pb.ResourceKind_RESOURCE_KIND_ENERGY:
		d.household(atMs, dt)
	case pb.ResourceKind_RESOURCE_KIND_BANDWIDTH:
		d.link(atMs, dt)
	default:
		d.radio(dt)
	}
	return maps.Clone(d.values)
}

// walk is a mean-reverting step of x over dt ms: memory tau, spread std.
func (d *Device) walk(x, dt float64, tau time.Duration, std float64) float64 {
	keep := math.Exp(-dt / float64(tau.Milliseconds()))
	return x*keep + std*math.Sqrt(1-keep*keep)*d.rng.NormFloat64()
}

func (d *Device) weather(atMs int64, dt float64) {
	s := &d.sensor
	base := [3]float64{16, 65, 1013}
	microStd := [3]float64{0.25, 1.5, 0.02}
	resolution := [3]float64{0.01, 0.1, 0.01}
	follow := 1 - math.Exp(-dt/30_000)
	for m := range 3 {
		s.micro[m] = d.walk(s.micro[m], dt, 10*time.Minute, microStd[m])
		air := d.air.at(m, d.Location, atMs) + s.micro[m]
		if dt == 0 {
			s.lag[m] = air
		}
		s.lag[m] += follow * (air - s.lag[m])
		v := base[m] + s.bias[m] + s.lag[m] + s.noise[m]*d.rng.NormFloat64()
		v = math.Round(v/resolution[m]) * resolution[m]
		if m == 1 {
			v = min(max(v, 5), 100)
		}
		d.values[weatherMeasurements[m]] = int64(math.Round(v * 1000))
	}
}

func (d *Device) household(atMs int64, dt float64) {
	s, r := &d.sensor, d.rng
	if atMs >= s.fridgeUntil { // the fridge switches: on 10 to 20 minutes, off 15 to 30
		if s.fridge > 0 || s.fridgeUntil == 0 && r.IntN(2) == 0 {
			s.fridge, s.fridgeUntil = 0, atMs+int64(15+r.IntN(15))*60_000
		} else {
			s.fridge, s.fridgeUntil = 100+40*r.Float64(), atMs+int64(10+r.IntN(10))*60_000
		}
	}
	if atMs >= s.applianceUntil { // a kettle, an oven, a washing machine: about one in ten minutes
		s.appliance = 0
		if r.Float64() < dt/600_000 {
			s.appliance, s.applianceUntil = 500+2500*r.Float64(), atMs+int64(1+r.IntN(15))*60_000
		}
	}
	if r.Float64() < dt/90_000 { // lights and chargers
		s.small = float64(r.IntN(4)) * (5 + 20*r.Float64())
	}
	p := max(s.base+s.small+s.fridge+s.appliance+3*r.NormFloat64(), 0)
	v := 230 + d.air.at(fieldVoltage, d.Location, atMs) - 0.002*p + 0.3*r.NormFloat64()
	d.values["energy_wh"] += int64(p * dt / 3_600) // W x ms / 3,600,000 = Wh; in thousandths
	d.values["power_w"] = int64(math.Round(p)) * 1000
	d.values["voltage_v"] = int64(math.Round(v*10)) * 100
}

func (d *Device) link(atMs int64, dt float64) {
	s, r := &d.sensor, d.rng
	if r.Float64() < dt/60_000 { // a session: minutes long, a few to hundreds of Mbit/s
		s.sessions = append(s.sessions, session{mbps: min(20*math.Exp(r.NormFloat64()), 500), until: atMs + int64(r.ExpFloat64()*120_000)})
	}
	load := s.background
	live := s.sessions[:0]
	for _, x := range s.sessions {
		if x.until > atMs {
			live, load = append(live, x), load+x.mbps
		}
	}
	s.sessions = live
	mbps := min(max(load+0.5*r.NormFloat64(), 0.1), 1000)
	latency := s.rtt + 30*(mbps/1000)*(mbps/1000) + math.Abs(1.5*r.NormFloat64())
	d.values["served_gb"] += int64(mbps * 1000 * dt / 8_000_000) // thousandths of Mbit/s x ms / 8e6 = MB (thousandths of a GB)
	d.values["throughput_mbps"] = int64(mbps * 1000)
	d.values["latency_ms"] = int64(latency * 1000)
}

func (d *Device) radio(dt float64) {
	s, r := &d.sensor, d.rng
	s.drift = d.walk(s.drift, dt, 10*time.Minute, 3)
	fade := 10 * math.Log10(max(r.ExpFloat64(), 1e-4)) // Rayleigh fading, in dB
	d.values["rssi_dbm"] = int64(min(max(s.level+s.drift+fade, -130), -40) * 1000)
	d.values["snr_db"] = int64(min(max(s.snr+fade/2, -20), 30) * 1000)
	d.values["beacons"] = min(max(d.values["beacons"]+r.Int64N(7)-3, 0), 200)
}

// fabricate is a made-up stream: each measurement a random walk with even
// steps, within its range, and the counters integrating them, as a program
// with no device behind it would invent them (the multikind strategy).
func (d *Device) fabricate(atMs int64) map[string]int64 {
	step := func(name string, spread, lo, hi int64) {
		d.values[name] = min(max(d.values[name]+d.rng.Int64N(2*spread+1)-spread, lo), hi)
	}
	dt := max(atMs-d.sensor.lastMs, 0)
	if d.sensor.lastMs == 0 {
		dt = 0
	}
	d.sensor.lastMs = atMs
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
		d.values["energy_wh"] += d.values["power_w"] * dt / 3_600_000
	default:
		step("throughput_mbps", 30_000, 1_000, 1_000_000)
		step("latency_ms", 5_000, 1_000, 500_000)
		d.values["served_gb"] += d.values["throughput_mbps"] * dt / 8_000_000
	}
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
