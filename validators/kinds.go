package validators

import (
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Range is an inclusive range of a measurement, in thousandths of its unit.
type Range struct {
	Min int64 `yaml:"min"`
	Max int64 `yaml:"max"`
}

// KindRules are the checks' thresholds for one resource kind. A zero
// threshold turns its check off.
type KindRules struct {
	Measurements map[string]Range `yaml:"measurements"` // allowed measurements and their ranges
	// MinInterval: the least event time between a device's consecutive
	// readings. Event times are bounded by the ingest clock (maxFuture,
	// maxPast), so a device cannot outpace 1/MinInterval for long, while a
	// gateway's backlog sent at once, with its true times, passes.
	MinInterval time.Duration `yaml:"minInterval"`
	// StuckAfter: this many accepted readings in a row with identical values
	// make the next identical one STUCK_SENSOR.
	StuckAfter int `yaml:"stuckAfter"`
	// MaxJump: the largest change of a measurement between consecutive
	// readings at most JumpWindow apart (event time).
	MaxJump    map[string]int64 `yaml:"maxJump"`
	JumpWindow time.Duration    `yaml:"jumpWindow"`
	// MaxSpeedKmh: the fastest a device of the kind moves between
	// consecutive reported positions (GPS noise included).
	MaxSpeedKmh int64 `yaml:"maxSpeedKmh"`
	// MaxDriftM: how far a reported position may be from the location
	// asserted at registration, in metres.
	MaxDriftM int64 `yaml:"maxDriftM"`
	// The checks across devices.
	CrossRules `yaml:",inline"`
}

// DefaultRules are the thresholds of each kind. Ranges are physical limits;
// the rest are set for devices that stand still and report every few
// seconds, with room for GPS noise and weather fronts.
func DefaultRules() map[pb.ResourceKind]KindRules {
	// SYBIL_CLUSTER is off by default (sybil 0): real stations a few
	// hundred metres apart agree within its tolerances, and it rejected
	// them. Devices at one spot share one cell's reward in scoring, and a
	// stream copied onto several keys, noisy or not, is stopped at epoch
	// close (TRACKED_STREAM); a network that wants it sets sybilMaxPerCell.
	cross := func(grid, tolerance map[string]int64, sybil int) CrossRules {
		return CrossRules{CloneGrid: grid, CloneAfter: 3, CloneWindow: 30 * time.Second, SybilMaxPerCell: sybil, SybilTolerance: tolerance}
	}
	hotspot := cross(map[string]int64{"rssi_dbm": 1000, "snr_db": 1000}, map[string]int64{"rssi_dbm": 3000, "snr_db": 2000, "beacons": 2}, 0)
	hotspot.WitnessMinDistM, hotspot.WitnessWindow, hotspot.WitnessFreqMHz = 300, 10*time.Minute, 915
	hotspot.WitnessMarginMilliDB, hotspot.MaxTxMilliDBm = 10_000, 27_000
	return map[pb.ResourceKind]KindRules{
		pb.ResourceKind_RESOURCE_KIND_HOTSPOT: {Measurements: map[string]Range{
			"rssi_dbm": {-140_000, 0}, "snr_db": {-30_000, 40_000}, "beacons": {0, 10_000_000}, BeaconTxMeasurement: {-20_000, 36_000},
		}, MinInterval: 500 * time.Millisecond, StuckAfter: 20, MaxSpeedKmh: 200, MaxDriftM: 500, CrossRules: hotspot},
		pb.ResourceKind_RESOURCE_KIND_WEATHER: {Measurements: map[string]Range{
			"temperature_c": {-90_000, 60_000}, "humidity_pct": {0, 100_000}, "pressure_hpa": {850_000, 1_090_000},
		}, MinInterval: time.Second, StuckAfter: 10, MaxJump: map[string]int64{"temperature_c": 10_000, "pressure_hpa": 20_000},
			JumpWindow: 10 * time.Minute, MaxSpeedKmh: 200, MaxDriftM: 500,
			CrossRules: cross(map[string]int64{"temperature_c": 10, "humidity_pct": 100, "pressure_hpa": 10},
				map[string]int64{"temperature_c": 500, "humidity_pct": 3000, "pressure_hpa": 500}, 0)},
		pb.ResourceKind_RESOURCE_KIND_ENERGY: {Measurements: map[string]Range{
			"power_w": {0, 50_000_000}, "voltage_v": {0, 500_000}, "energy_wh": {0, 1 << 62},
		}, MinInterval: time.Second, StuckAfter: 30, MaxJump: map[string]int64{"voltage_v": 60_000},
			JumpWindow: 10 * time.Minute, MaxSpeedKmh: 200, MaxDriftM: 500,
			CrossRules: cross(map[string]int64{"power_w": 10_000, "voltage_v": 1000}, map[string]int64{"power_w": 10_000, "voltage_v": 2000}, 0)},
		pb.ResourceKind_RESOURCE_KIND_BANDWIDTH: {Measurements: map[string]Range{
			"throughput_mbps": {0, 100_000_000}, "latency_ms": {0, 10_000_000}, "served_gb": {0, 1 << 62},
		}, MinInterval: time.Second, StuckAfter: 20, MaxSpeedKmh: 200, MaxDriftM: 500,
			CrossRules: cross(map[string]int64{"throughput_mbps": 1000, "latency_ms": 1000}, map[string]int64{"throughput_mbps": 5000, "latency_ms": 2000}, 0)},
	}
}
