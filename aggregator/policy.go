package aggregator

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// KindScoring is how one resource kind's devices are scored; docs/scoring.md
// gives the formula and the reason for each part. In a scoring file, a
// field left out (or zero) keeps its default.
type KindScoring struct {
	// Interval is how often a real device of the kind reports. Uptime counts
	// the distinct intervals of the epoch with at least one valid reading:
	// a second reading in the same interval earns nothing.
	Interval time.Duration `yaml:"interval"`
	// Weight is the points one interval of uptime earns.
	Weight uint64 `yaml:"weight"`
	// CellResolution is the H3 resolution of the cell whose devices of the
	// kind share one device's reward.
	CellResolution uint8 `yaml:"cellResolution"`
	// Measurements a complete reading of the kind carries, each with its
	// noise floor (thousandths of the unit): a device none of whose
	// measurements moved more than its floor in the epoch is not measuring
	// anything (stuck, or made up) and its quality is 0.
	Measurements map[string]int64 `yaml:"measurements"`
	// Location trust: full for devices whose farthest valid reading of the
	// epoch is within TrustFullM of the asserted location, TrustPartialBP
	// (basis points) within TrustPartialM, nothing beyond.
	TrustFullM     uint64 `yaml:"trustFullM"`
	TrustPartialM  uint64 `yaml:"trustPartialM"`
	TrustPartialBP uint64 `yaml:"trustPartialBP"`
	// Crowding: the cells of the kind with a paid device inside one H3 cell
	// of CrowdResolution (the area) are scaled by CrowdTarget / occupied
	// when more than CrowdTarget are occupied.
	CrowdResolution uint8  `yaml:"crowdResolution"`
	CrowdTarget     uint64 `yaml:"crowdTarget"`
	// Counter, for kinds paid by what they deliver (energy, data served):
	// the measurement that counts it, one of Measurements. Its increases
	// over the epoch are paid, capped by RatedPerHour, the most one device
	// of the kind can deliver in an hour (thousandths of the counter's
	// unit), for each interval of uptime. Empty: paid by uptime alone.
	Counter      string `yaml:"counter"`
	RatedPerHour uint64 `yaml:"ratedPerHour"`
	// WitnessesPerBeacon, for coverage kinds (hotspots): a device is paid
	// for the beacons it validly witnessed, one per beaconer and interval,
	// and each beacon pays its first WitnessesPerBeacon witnesses only
	// (Helium's 14). 0: paid by uptime.
	WitnessesPerBeacon uint64 `yaml:"witnessesPerBeacon"`
	// The information checks (information.go): Track, the measurements whose
	// changes are compared with other devices' and with the device's own
	// past (a counter by what it delivered each interval); Noise, per
	// measurement, the most its changes between readings may be (root mean
	// square, thousandths); Generator, the measurements whose changes must
	// not be flatter than noise. A file's list or map replaces the default.
	Track     []string         `yaml:"track"`
	Noise     map[string]int64 `yaml:"noise"`
	Generator []string         `yaml:"generator"`
}

// capacity is the most a device of a counter kind delivers in one interval.
func (ks KindScoring) capacity() uint64 {
	return ks.RatedPerHour * uint64(ks.Interval.Milliseconds()) / 3_600_000
}

// Scoring is the scoring policy.
type Scoring struct {
	Kinds map[pb.ResourceKind]KindScoring
	// Benign rejections are no verdict on the device (a retry, the
	// pipeline's timing, a producer bug); every other reason is fraud-class
	// and forfeits the epoch.
	Benign []string
	// Probation: a fraud-class rejection also forfeits this many epochs
	// after its own, so a repeat offender stays unpaid.
	Probation uint64
	// Hold: an epoch is scored only when the epoch Hold epochs after it has
	// closed, and a fraud-class rejection up to then forfeits it too: the
	// readings that passed before a pattern was sure earn nothing.
	Hold uint64
	// DuplicateRatio: a retry after a lost answer sends a reading again
	// once or twice; a device with more DUPLICATE rejections than this many
	// per valid reading (in the epochs a fraud would forfeit) is replaying
	// old readings, and each one beyond counts as fraud. 0: never.
	DuplicateRatio uint64
	// Information: the checks for streams that carry nothing of their own
	// (copies of a neighbour, loops of the device's past, several identities
	// of one generator).
	Information Information
}

// DefaultScoring: devices report every 5 s (the dev fleet's interval; set a
// network's real interval in aggregate.scoringFile), every kind weighs the
// same, devices share a resolution-8 cell (about 0.7 km², 460 m edge: two
// weather stations or meters that close measure the same thing), location
// trust is Helium's (full to 300 m, a quarter to 400 m), and an area of
// resolution 6 (about 36 km², 49 cells of resolution 8) is crowded beyond 16
// occupied cells. A fraud-class rejection forfeits its epoch, the two before
// it (held until then) and the two after it.
func DefaultScoring() Scoring {
	floors := map[pb.ResourceKind]map[string]int64{
		pb.ResourceKind_RESOURCE_KIND_HOTSPOT:   {"rssi_dbm": 500, "snr_db": 500},
		pb.ResourceKind_RESOURCE_KIND_WEATHER:   {"temperature_c": 50, "humidity_pct": 200, "pressure_hpa": 50},
		pb.ResourceKind_RESOURCE_KIND_ENERGY:    {"power_w": 1_000, "voltage_v": 200, "energy_wh": 100},
		pb.ResourceKind_RESOURCE_KIND_BANDWIDTH: {"throughput_mbps": 500, "latency_ms": 500, "served_gb": 10},
	}
	s := Scoring{Kinds: map[pb.ResourceKind]KindScoring{}, Benign: tables.BenignReasons(), Probation: 2, Hold: 2, DuplicateRatio: 4,
		Information: DefaultInformation()}
	for k, m := range floors {
		s.Kinds[k] = KindScoring{Interval: 5 * time.Second, Weight: 1000, CellResolution: 8, Measurements: m,
			TrustFullM: 300, TrustPartialM: 400, TrustPartialBP: 2500, CrowdResolution: 6, CrowdTarget: 16,
			Track: trackDefaults[k.String()], Noise: noiseDefaults[k.String()], Generator: generatorDefaults[k.String()]}
	}
	// A 10 kW meter; a 1 Gbit/s link (450 GB an hour, in MB).
	e, b := s.Kinds[pb.ResourceKind_RESOURCE_KIND_ENERGY], s.Kinds[pb.ResourceKind_RESOURCE_KIND_BANDWIDTH]
	e.Counter, e.RatedPerHour = "energy_wh", 10_000_000
	b.Counter, b.RatedPerHour = "served_gb", 450_000
	s.Kinds[pb.ResourceKind_RESOURCE_KIND_ENERGY], s.Kinds[pb.ResourceKind_RESOURCE_KIND_BANDWIDTH] = e, b
	h := s.Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT]
	h.WitnessesPerBeacon = 14
	s.Kinds[pb.ResourceKind_RESOURCE_KIND_HOTSPOT] = h
	return s
}

// ErrScoring means a scoring file or policy is unusable.
var ErrScoring = errors.New("aggregate: bad scoring policy")

// Validate checks every kind against an epoch of the given length.
func (s Scoring) Validate(epoch time.Duration) error {
	if s.Probation > 1000 || s.Hold > 1000 {
		return fmt.Errorf("%w: probation and hold must be at most 1000 epochs", ErrScoring)
	}
	if err := s.Information.validate(); err != nil {
		return err
	}
	for k, ks := range s.Kinds {
		switch {
		case ks.Interval < time.Millisecond || epoch%ks.Interval != 0:
			return fmt.Errorf("%w: %s: interval %s must be at least 1ms and divide the epoch (%s)", ErrScoring, k, ks.Interval, epoch)
		case ks.Weight == 0 || ks.Weight > 1_000_000_000:
			return fmt.Errorf("%w: %s: weight must be 1 to 1e9", ErrScoring, k)
		case uint64(epoch/ks.Interval) > 100_000_000_000_000/ks.Weight:
			// Intervals times weight stays below 1e14, so that the
			// multipliers (each at most 10,000) never overflow 64 bits.
			return fmt.Errorf("%w: %s: intervals per epoch (%d) times weight must be at most 1e14", ErrScoring, k, epoch/ks.Interval)
		case ks.CellResolution > 15:
			return fmt.Errorf("%w: %s: cellResolution must be 0 to 15 (H3)", ErrScoring, k)
		case ks.CrowdResolution > ks.CellResolution:
			return fmt.Errorf("%w: %s: crowdResolution (%d) must be at most cellResolution (%d): the area holds cells", ErrScoring, k, ks.CrowdResolution, ks.CellResolution)
		case ks.CrowdTarget == 0:
			return fmt.Errorf("%w: %s: crowdTarget must be at least 1", ErrScoring, k)
		case ks.TrustFullM > ks.TrustPartialM:
			return fmt.Errorf("%w: %s: trustFullM (%d) must be at most trustPartialM (%d)", ErrScoring, k, ks.TrustFullM, ks.TrustPartialM)
		case ks.TrustPartialBP > 10_000:
			return fmt.Errorf("%w: %s: trustPartialBP must be 0 to 10000", ErrScoring, k)
		case ks.Counter != "" && !hasKey(ks.Measurements, ks.Counter):
			return fmt.Errorf("%w: %s: counter %q must be one of the kind's measurements", ErrScoring, k, ks.Counter)
		case ks.Counter != "" && ks.WitnessesPerBeacon > 0:
			return fmt.Errorf("%w: %s: a kind is paid by a counter or by witnesses, not both", ErrScoring, k)
		case ks.Counter != "" && (ks.capacity() == 0 || ks.RatedPerHour > 1<<40):
			return fmt.Errorf("%w: %s: ratedPerHour must be 1 to 2^40 and at least one unit per interval (%s)", ErrScoring, k, ks.Interval)
		}
		for m, floor := range ks.Measurements {
			if floor < 0 || m == "" {
				return fmt.Errorf("%w: %s: measurement %q: noise floor must be 0 or more", ErrScoring, k, m)
			}
		}
		if err := ks.validateInformation(k.String()); err != nil {
			return err
		}
		if window := s.Information.Back + s.Information.Ahead + epoch; s.Information.On() && window/ks.Interval > 100_000 {
			return fmt.Errorf("%w: %s: the evidence window (information back + ahead + the epoch, %s) holds more than 100,000 intervals of %s", ErrScoring, k, window, ks.Interval)
		}
	}
	return nil
}

// LoadScoring reads a scoring file over the defaults: `kinds: {weather:
// {interval: 60s, weight: 1000, ...}, ...}`, `benign: [...]`, `probation:
// N`, `hold: N`, `duplicateRatio: N` and `information: {...}` (fields left
// out keep their defaults). Unknown keys and kinds are errors.
func LoadScoring(path string) (Scoring, error) {
	s := DefaultScoring()
	if path == "" {
		return s, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Scoring{}, fmt.Errorf("%w: %v", ErrScoring, err)
	}
	var file struct {
		Kinds     map[string]KindScoring `yaml:"kinds"`
		Benign    *[]string              `yaml:"benign"`
		Probation *uint64                `yaml:"probation"`
		Hold      *uint64                `yaml:"hold"`
		DupRatio  *uint64                `yaml:"duplicateRatio"`
		Info      yaml.Node              `yaml:"information"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return Scoring{}, fmt.Errorf("%w: %s: %v", ErrScoring, path, err)
	}
	for name, ks := range file.Kinds {
		v, ok := pb.ResourceKind_value["RESOURCE_KIND_"+strings.ToUpper(name)]
		if !ok || v == 0 {
			return Scoring{}, fmt.Errorf("%w: %s: unknown kind %q (hotspot, weather, energy, bandwidth)", ErrScoring, path, name)
		}
		s.Kinds[pb.ResourceKind(v)] = overDefaults(ks, s.Kinds[pb.ResourceKind(v)])
	}
	if file.Benign != nil {
		s.Benign = *file.Benign
	}
	if file.Probation != nil {
		s.Probation = *file.Probation
	}
	if file.Hold != nil {
		s.Hold = *file.Hold
	}
	if file.DupRatio != nil {
		s.DuplicateRatio = *file.DupRatio
	}
	if !file.Info.IsZero() {
		// Decoded over the defaults: the fields given replace theirs.
		if err := decodeStrict(&file.Info, &s.Information); err != nil {
			return Scoring{}, fmt.Errorf("%w: %s: information: %v", ErrScoring, path, err)
		}
	}
	return s, nil
}

// File renders s as a scoring file that LoadScoring reads back as s, every
// field written (durations as text): an epoch's export publishes the policy
// it was scored with, so an auditor scores it with the same one.
func (s Scoring) File() ([]byte, error) {
	kinds := map[string]any{}
	for k, ks := range s.Kinds {
		m, err := yamlMap(ks)
		if err != nil {
			return nil, err
		}
		m["interval"] = ks.Interval.String()
		for _, list := range []string{"track", "noise", "generator"} {
			if v, ok := m[list]; ok && reflect.ValueOf(v).Len() == 0 {
				delete(m, list) // none: the default's (a kind without the checks)
			}
		}
		kinds[strings.ToLower(strings.TrimPrefix(k.String(), "RESOURCE_KIND_"))] = m
	}
	info, err := yamlMap(s.Information)
	if err != nil {
		return nil, err
	}
	in := s.Information
	info["back"], info["ahead"], info["minPeriod"], info["maxLag"] = in.Back.String(), in.Ahead.String(), in.MinPeriod.String(), in.MaxLag.String()
	return yaml.Marshal(map[string]any{"kinds": kinds, "benign": s.Benign, "probation": s.Probation, "hold": s.Hold,
		"duplicateRatio": s.DuplicateRatio, "information": info})
}

// yamlMap is v's YAML fields as a map.
func yamlMap(v any) (map[string]any, error) {
	raw, err := yaml.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	return m, yaml.Unmarshal(raw, &m)
}

// overDefaults fills the fields a file left zero from def.
func overDefaults(ks, def KindScoring) KindScoring {
	or := func(v, d uint64) uint64 {
		if v == 0 {
			return d
		}
		return v
	}
	if ks.Interval == 0 {
		ks.Interval = def.Interval
	}
	if ks.Measurements == nil {
		ks.Measurements = def.Measurements
	}
	ks.Weight, ks.TrustFullM, ks.TrustPartialM = or(ks.Weight, def.Weight), or(ks.TrustFullM, def.TrustFullM), or(ks.TrustPartialM, def.TrustPartialM)
	ks.TrustPartialBP, ks.CrowdTarget = or(ks.TrustPartialBP, def.TrustPartialBP), or(ks.CrowdTarget, def.CrowdTarget)
	ks.CellResolution = uint8(or(uint64(ks.CellResolution), uint64(def.CellResolution)))
	ks.CrowdResolution = uint8(or(uint64(ks.CrowdResolution), uint64(def.CrowdResolution)))
	if ks.Counter == "" {
		ks.Counter = def.Counter
	}
	ks.RatedPerHour, ks.WitnessesPerBeacon = or(ks.RatedPerHour, def.RatedPerHour), or(ks.WitnessesPerBeacon, def.WitnessesPerBeacon)
	// The checks' defaults keep the measurements the kind still has (a file
	// may give it fewer).
	if ks.Track == nil {
		ks.Track = kept(def.Track, ks.Measurements)
	}
	if ks.Generator == nil {
		ks.Generator = kept(def.Generator, ks.Measurements)
	}
	if ks.Noise == nil && def.Noise != nil {
		ks.Noise = map[string]int64{}
		for m, v := range def.Noise {
			if hasKey(ks.Measurements, m) {
				ks.Noise[m] = v
			}
		}
	}
	return ks
}

func kept(names []string, measurements map[string]int64) []string {
	var out []string
	for _, n := range names {
		if hasKey(measurements, n) {
			out = append(out, n)
		}
	}
	return out
}

func hasKey(m map[string]int64, k string) bool { _, ok := m[k]; return ok }

// decodeStrict decodes a YAML node into v, refusing unknown fields (a
// yaml.Node's Decode does not: it is re-encoded and decoded with KnownFields).
func decodeStrict(n *yaml.Node, v any) error {
	raw, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// required is the kind's measurement names, sorted.
func (ks KindScoring) required() []string {
	out := make([]string, 0, len(ks.Measurements))
	for m := range ks.Measurements {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}
