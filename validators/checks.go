package validators

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fieldmint/fieldmint/internal/geo"
	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Rejection reason codes: the catalog documented in validators/README.md.
// Every rejected reading carries exactly one. Codes are stable: analysts and
// dashboards group by them.
const (
	// ReasonDuplicate: a signed reading the device already had accepted (a
	// retried send), among its last DuplicateWindow accepted ones. Benign,
	// and not counted twice.
	ReasonDuplicate = "DUPLICATE"
	// ReasonSequenceReplay: a sequence number at or below the device's last
	// accepted one, with other content: a replayed or reordered reading.
	ReasonSequenceReplay = "SEQUENCE_REPLAY"
	// ReasonDeviceDenylisted: an admin denylisted the device before ingest
	// received the reading.
	ReasonDeviceDenylisted = "DEVICE_DENYLISTED"
	// ReasonDeviceInactive: the owner deactivated the device before ingest
	// received the reading.
	ReasonDeviceInactive = "DEVICE_INACTIVE"
	// ReasonMakerRemoved: an admin removed the device's maker from the
	// network before ingest received the reading: its devices are unpaid.
	ReasonMakerRemoved = "MAKER_REMOVED"
	// ReasonClockFuture: event time further ahead of the ingest clock than MaxFuture.
	ReasonClockFuture = "CLOCK_FUTURE"
	// ReasonClockStale: event time further behind the ingest clock than MaxPast.
	ReasonClockStale = "CLOCK_STALE"
	// ReasonUnknownMeasurement: a measurement name the device's kind does not have.
	ReasonUnknownMeasurement = "UNKNOWN_MEASUREMENT"
	// ReasonOutOfRange: a measurement outside the physical range of its kind.
	ReasonOutOfRange = "OUT_OF_RANGE"
	// ReasonRateExceeded: a reading dated less than the kind's MinInterval
	// after the device's last accepted one (or before it): more readings
	// than the device can take.
	ReasonRateExceeded = "RATE_EXCEEDED"
	// ReasonStuckSensor: the same values as the last StuckAfter accepted
	// readings: a dead sensor, or data made up.
	ReasonStuckSensor = "STUCK_SENSOR"
	// ReasonImplausibleJump: a measurement changed more since the last
	// reading than the physics of the kind allows.
	ReasonImplausibleJump = "IMPLAUSIBLE_JUMP"
	// ReasonImpossibleMovement: the reported position moved faster since the
	// last reading than the kind can travel.
	ReasonImpossibleMovement = "IMPOSSIBLE_MOVEMENT"
	// ReasonLocationDrift: the reported position is further from the
	// location asserted at registration than the kind may be.
	ReasonLocationDrift = "LOCATION_DRIFT"
	// ReasonUndecodable: the raw record does not decode (a producer bug, never
	// a device's fault alone); kept so that no record is silently dropped.
	ReasonUndecodable = "UNDECODABLE"
)

// Reasons lists the codes in the order the checks run; the first that
// fails decides.
var Reasons = []string{
	ReasonDuplicate, ReasonSequenceReplay, ReasonDeviceDenylisted, ReasonDeviceInactive, ReasonMakerRemoved, ReasonClockFuture, ReasonClockStale,
	ReasonUnknownMeasurement, ReasonOutOfRange, ReasonRateExceeded, ReasonStuckSensor, ReasonImplausibleJump,
	ReasonImpossibleMovement, ReasonLocationDrift, ReasonWitnessSelf, ReasonWitnessUnknownBeacon, ReasonWitnessTooClose,
	ReasonWitnessTooStrong, ReasonClonedStream, ReasonSybilCluster, ReasonUndecodable,
}

// Range is an inclusive range of a measurement, in thousandths of its unit.
type Range struct {
	Min int64 `yaml:"min"`
	Max int64 `yaml:"max"`
}

// KindRules are the checks' thresholds for one resource kind. A zero
// threshold turns its check off.
type KindRules struct {
	Score        uint64           `yaml:"score"`        // points recorded on each valid reading (readings.score, the epoch_scores rollup); pay comes from the aggregator's device_scores (docs/scoring.md)
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
		pb.ResourceKind_RESOURCE_KIND_HOTSPOT: {Score: 1, Measurements: map[string]Range{
			"rssi_dbm": {-140_000, 0}, "snr_db": {-30_000, 40_000}, "beacons": {0, 10_000_000}, BeaconTxMeasurement: {-20_000, 36_000},
		}, MinInterval: 500 * time.Millisecond, StuckAfter: 20, MaxSpeedKmh: 200, MaxDriftM: 500, CrossRules: hotspot},
		pb.ResourceKind_RESOURCE_KIND_WEATHER: {Score: 1, Measurements: map[string]Range{
			"temperature_c": {-90_000, 60_000}, "humidity_pct": {0, 100_000}, "pressure_hpa": {850_000, 1_090_000},
		}, MinInterval: time.Second, StuckAfter: 10, MaxJump: map[string]int64{"temperature_c": 10_000, "pressure_hpa": 20_000},
			JumpWindow: 10 * time.Minute, MaxSpeedKmh: 200, MaxDriftM: 500,
			CrossRules: cross(map[string]int64{"temperature_c": 10, "humidity_pct": 100, "pressure_hpa": 10},
				map[string]int64{"temperature_c": 500, "humidity_pct": 3000, "pressure_hpa": 500}, 0)},
		pb.ResourceKind_RESOURCE_KIND_ENERGY: {Score: 1, Measurements: map[string]Range{
			"power_w": {0, 50_000_000}, "voltage_v": {0, 500_000}, "energy_wh": {0, 1 << 62},
		}, MinInterval: time.Second, StuckAfter: 30, MaxJump: map[string]int64{"voltage_v": 60_000},
			JumpWindow: 10 * time.Minute, MaxSpeedKmh: 200, MaxDriftM: 500,
			CrossRules: cross(map[string]int64{"power_w": 10_000, "voltage_v": 1000}, map[string]int64{"power_w": 10_000, "voltage_v": 2000}, 0)},
		pb.ResourceKind_RESOURCE_KIND_BANDWIDTH: {Score: 1, Measurements: map[string]Range{
			"throughput_mbps": {0, 100_000_000}, "latency_ms": {0, 10_000_000}, "served_gb": {0, 1 << 62},
		}, MinInterval: time.Second, StuckAfter: 20, MaxSpeedKmh: 200, MaxDriftM: 500,
			CrossRules: cross(map[string]int64{"throughput_mbps": 1000, "latency_ms": 1000}, map[string]int64{"throughput_mbps": 5000, "latency_ms": 2000}, 0)},
	}
}

// DuplicateWindow is how many of a device's last accepted readings are
// remembered to tell a retry (DUPLICATE) from a replay (SEQUENCE_REPLAY):
// a retried batch of up to this many readings of one device is recognised.
const DuplicateWindow = 64

// Checker decides readings. It is not safe for concurrent use; the service
// runs one per partition.
type Checker struct {
	rules     map[pb.ResourceKind]KindRules
	maxFuture time.Duration
	maxPast   time.Duration
	state     map[string]*deviceState // committed
	pending   map[string]*deviceState // changed in the open transaction
	x         *cross                  // across devices
	newestMs  int64                   // newest event time accepted
	// How far back any kind's checks across devices look: clone and sybil
	// comparisons, and witnessed beacons. Kept apart: a hotspot's 10-minute
	// witness window once kept every reading's clone entry for 20 minutes,
	// which grew a validator by about 1 GB in a 4-minute soak at 12,000
	// readings a second.
	cloneWindow, beaconWindow time.Duration
	// Lookup finds a device's registry record (nil: no registry).
	Lookup func(id string) *pb.Device
	// Maker finds a maker's registry record (nil: no registry).
	Maker func(id string) *pb.Maker
}

// NewChecker returns a checker with empty history.
func NewChecker(rules map[pb.ResourceKind]KindRules, maxFuture, maxPast time.Duration) *Checker {
	c := &Checker{rules: rules, maxFuture: maxFuture, maxPast: maxPast, state: map[string]*deviceState{}, pending: map[string]*deviceState{}, x: newCross()}
	for _, r := range rules {
		c.cloneWindow, c.beaconWindow = max(c.cloneWindow, r.CloneWindow), max(c.beaconWindow, r.WitnessWindow)
	}
	return c
}

// Decision is the outcome for one reading: Reason is empty when it is valid.
type Decision struct {
	Reason string
	Detail string // the evidence: the values that tripped the rule, and the rule
	Score  uint64
}

func (c *Checker) last(device string) *deviceState {
	if st, ok := c.pending[device]; ok {
		return st
	}
	return c.state[device]
}

func reject(reason, format string, args ...any) Decision {
	return Decision{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// fingerprint identifies a signed reading in the duplicate window.
func fingerprint(seq uint64, sigHash [32]byte) uint64 {
	return seq ^ binary.LittleEndian.Uint64(sigHash[:8])
}

// Check decides one reading; dev is the device's registry record (nil if
// unknown here: its checks are skipped). Times are judged against the
// ingest clock (received_at), never the validator's, so a replayed log
// decides the same. A valid reading becomes history in the pending state.
func (c *Checker) Check(raw *pb.RawReading, dev *pb.Device) Decision {
	r := raw.GetSigned().GetReading()
	sigHash := sha256.Sum256(raw.GetSigned().GetSignature())
	fp := fingerprint(r.Seq, sigHash)
	if st := c.last(r.DeviceId); st != nil && slices.Contains(st.rejected, fp) {
		return reject(ReasonDuplicate, "seq %d already rejected", r.Seq)
	}
	d := c.check(raw, dev, sigHash)
	if d.Reason != "" && d.Reason != ReasonDuplicate {
		c.rejected(r.DeviceId, fp) // its retry is a duplicate, not a second verdict
	}
	return d
}

// RejectedWindow is how many of a device's last rejected readings are
// remembered, so that a retried copy of one is DUPLICATE rather than decided
// (and stored) a second time.
const RejectedWindow = 16

// rejected remembers a rejected reading's fingerprint, in the pending state.
func (c *Checker) rejected(device string, fp uint64) {
	st := c.pendingState(device)
	if len(st.rejected) < RejectedWindow {
		st.rejected = append(st.rejected, fp)
	} else {
		st.rejected[st.rnext] = fp
		st.rnext = (st.rnext + 1) % RejectedWindow
	}
}

// rememberRejected records a rejected reading read back from the rejected
// topic. The caller commits.
func (c *Checker) rememberRejected(v *pb.RejectedReading) {
	if v.Reason == ReasonDuplicate || v.GetReading() == nil {
		return
	}
	c.rejected(v.Reading.DeviceId, fingerprint(v.Reading.Seq, sha256.Sum256(v.Signature)))
}

// pendingState is the device's state to change in the open transaction.
func (c *Checker) pendingState(device string) *deviceState {
	st, ok := c.pending[device]
	if !ok {
		if committed := c.state[device]; committed != nil {
			st = committed.clone()
		} else {
			st = &deviceState{}
		}
		c.pending[device] = st
	}
	return st
}

func (c *Checker) check(raw *pb.RawReading, dev *pb.Device, sigHash [32]byte) Decision {
	r := raw.GetSigned().GetReading()
	st := c.last(r.DeviceId)
	if st != nil && r.Seq <= st.lastSeq && st.lastSeq > 0 {
		if slices.Contains(st.recent, fingerprint(r.Seq, sigHash)) {
			return reject(ReasonDuplicate, "seq %d already accepted", r.Seq)
		}
		return reject(ReasonSequenceReplay, "seq %d, last accepted %d", r.Seq, st.lastSeq)
	}
	if dev != nil && dev.LastChangeMs <= raw.ReceivedAtMs {
		if dev.Denied {
			return reject(ReasonDeviceDenylisted, "denylisted at %d (%s), received at %d", dev.LastChangeMs, dev.DeniedReason, raw.ReceivedAtMs)
		}
		if !dev.Active {
			return reject(ReasonDeviceInactive, "deactivated at %d, received at %d", dev.LastChangeMs, raw.ReceivedAtMs)
		}
	}
	if m := c.maker(dev); m != nil && !m.Active && m.LastChangeMs <= raw.ReceivedAtMs {
		return reject(ReasonMakerRemoved, "maker %s removed at %d, received at %d", m.MakerId, m.LastChangeMs, raw.ReceivedAtMs)
	}
	skew := time.Duration(r.EventTimeMs-raw.ReceivedAtMs) * time.Millisecond
	if skew > c.maxFuture {
		return reject(ReasonClockFuture, "event time %s ahead of ingest, limit %s", skew, c.maxFuture)
	}
	if -skew > c.maxPast {
		return reject(ReasonClockStale, "event time %s behind ingest, limit %s", -skew, c.maxPast)
	}
	rules := c.rules[r.Kind]
	values := sortedValues(r) // the first offending measurement is reported, deterministically
	for _, m := range values {
		rg, ok := rules.Measurements[m.name]
		if !ok {
			return reject(ReasonUnknownMeasurement, "%s is not a measurement of %s", m.name, r.Kind)
		}
		if m.value < rg.Min || m.value > rg.Max {
			return reject(ReasonOutOfRange, "%s=%d outside [%d, %d]", m.name, m.value, rg.Min, rg.Max)
		}
	}
	if st != nil && st.lastSeq > 0 {
		if d := c.history(st, r, values, rules); d.Reason != "" {
			return d
		}
	}
	if d := drift(r, dev, rules); d.Reason != "" {
		return d
	}
	m := c.crossMatch(r, dev, values, rules, st)
	if d := c.x.witness(r, dev, c.lookup, rules.CrossRules, regionOf); d.Reason != "" {
		return d
	}
	if m.clone != "" && m.streak >= rules.CloneAfter {
		return reject(ReasonClonedStream, "%s near-identical to %s's readings %d times in a row, limit %d", formatValues(values), m.clone, m.streak, rules.CloneAfter)
	}
	if rules.SybilMaxPerCell > 0 && m.peers >= rules.SybilMaxPerCell {
		return reject(ReasonSybilCluster, "%d devices established in its 0.003-degree cell at (%d, %d) report the same: %s; limit %d",
			m.peers, int64(m.cell.lat)*30_000, int64(m.cell.lon)*30_000, formatPeers(m.peerIDs), rules.SybilMaxPerCell)
	}
	c.accept(r, values, sigHash, m)
	return Decision{Score: rules.Score}
}

// match is what the checks across devices found for a reading.
type match struct {
	clone    string // another device with near-identical readings, or ""
	cloneKey uint64
	streak   int // clone streak counting this reading
	cell     cellKey
	hasCell  bool
	peers    int // established devices of the cell saying the same
	peerIDs  []string
}

// maker returns the device's maker, or nil (no lookup, no maker, or one
// not heard of yet: the registration checked it).
func (c *Checker) maker(dev *pb.Device) *pb.Maker {
	if c.Maker == nil || dev.GetMakerId() == "" {
		return nil
	}
	return c.Maker(dev.MakerId)
}

func (c *Checker) lookup(id string) *pb.Device {
	if c.Lookup == nil {
		return nil
	}
	return c.Lookup(id)
}

// regionOf is the region ingest partitions a device's readings by.
func regionOf(l *pb.Location) string {
	if l == nil {
		return ""
	}
	return kafka.Region(l.LatE7, l.LonE7)
}

// crossMatch compares a reading with other devices' accepted ones.
func (c *Checker) crossMatch(r *pb.Reading, dev *pb.Device, values []measurement, rules KindRules, st *deviceState) match {
	var m match
	prefer := ""
	if st != nil {
		prefer = st.cloneOf
	}
	m.clone, m.cloneKey = c.x.cloneMatch(r, values, rules.CrossRules, prefer)
	if m.clone != "" {
		m.streak = 1
		if st != nil && st.cloneOf == m.clone {
			m.streak = st.cloneStreak + 1
		}
	}
	lat, lon := r.GetLocation().GetLatE7(), r.GetLocation().GetLonE7()
	if l := dev.GetLocation(); l != nil {
		lat, lon = l.LatE7, l.LonE7
	}
	if lat != 0 || lon != 0 {
		m.cell, m.hasCell = cellOf(r.Kind, lat, lon), true
		if rules.SybilMaxPerCell > 0 {
			m.peers, m.peerIDs = c.x.sybil(m.cell, r.DeviceId, r.EventTimeMs, values, rules.CrossRules)
		}
	}
	return m
}

// history runs the checks that compare a reading with the device's last
// accepted ones.
func (c *Checker) history(st *deviceState, r *pb.Reading, values []measurement, rules KindRules) Decision {
	if gap := r.EventTimeMs - st.lastEventMs; rules.MinInterval > 0 && gap < rules.MinInterval.Milliseconds() {
		return reject(ReasonRateExceeded, "event time %d ms after the last accepted reading's, least %s for %s", gap, rules.MinInterval, r.Kind)
	}
	if rules.StuckAfter > 0 && st.same >= rules.StuckAfter && slices.Equal(values, st.lastValues) {
		return reject(ReasonStuckSensor, "%s unchanged for %d readings, limit %d", formatValues(values), st.same, rules.StuckAfter)
	}
	if dt := r.EventTimeMs - st.lastEventMs; len(rules.MaxJump) > 0 && dt >= 0 && dt <= rules.JumpWindow.Milliseconds() {
		for _, m := range values {
			limit, ok := rules.MaxJump[m.name]
			if !ok {
				continue
			}
			if i, found := slices.BinarySearchFunc(st.lastValues, m.name, func(x measurement, n string) int {
				return strings.Compare(x.name, n)
			}); found {
				if jump := abs(m.value - st.lastValues[i].value); jump > limit {
					return reject(ReasonImplausibleJump, "%s %d -> %d in %d ms, limit %d within %s", m.name, st.lastValues[i].value, m.value, dt, limit, rules.JumpWindow)
				}
			}
		}
	}
	if lat, lon := r.GetLocation().GetLatE7(), r.GetLocation().GetLonE7(); rules.MaxSpeedKmh > 0 && (lat != 0 || lon != 0) && (st.lat != 0 || st.lon != 0) {
		dist := geo.DistanceM(st.lat, st.lon, lat, lon)
		dtMs := max(r.EventTimeMs-st.lastEventMs, 1000) // a second at least: clocks tick in seconds
		// dist/dt > max km/h, in integers: dist[m] * 3600 > max * dt[ms]
		if dist*3_600 > rules.MaxSpeedKmh*dtMs {
			return reject(ReasonImpossibleMovement, "moved %d m in %d ms from (%d, %d) to (%d, %d), limit %d km/h", dist, dtMs, st.lat, st.lon, lat, lon, rules.MaxSpeedKmh)
		}
	}
	return Decision{}
}

// drift checks a reported position against the asserted location.
func drift(r *pb.Reading, dev *pb.Device, rules KindRules) Decision {
	lat, lon := r.GetLocation().GetLatE7(), r.GetLocation().GetLonE7()
	a := dev.GetLocation()
	if rules.MaxDriftM <= 0 || (lat == 0 && lon == 0) || a == nil || (a.LatE7 == 0 && a.LonE7 == 0) {
		return Decision{}
	}
	if d := geo.DistanceM(a.LatE7, a.LonE7, lat, lon); d > rules.MaxDriftM {
		return reject(ReasonLocationDrift, "reported (%d, %d) is %d m from the asserted (%d, %d), limit %d m", lat, lon, d, a.LatE7, a.LonE7, rules.MaxDriftM)
	}
	return Decision{}
}

// accept makes r the device's last accepted reading, in the pending state.
func (c *Checker) accept(r *pb.Reading, values []measurement, sigHash [32]byte, m match) {
	st := c.pendingState(r.DeviceId)
	apply(st, r, values, sigHash)
	st.cloneStreak, st.cloneOf = m.streak, m.clone
	rules := c.rules[r.Kind]
	if rules.CloneAfter > 0 {
		c.x.addClone(m.cloneKey, r.DeviceId, r.EventTimeMs)
	}
	if m.hasCell && rules.SybilMaxPerCell > 0 {
		cd, known := c.x.cells[m.cell][r.DeviceId]
		if !known {
			cd.firstMs = r.EventTimeMs
		}
		cd.lastMs, cd.values = r.EventTimeMs, values
		c.x.setCell(m.cell, r.DeviceId, cd)
	}
	if tx, ok := r.Measurements[BeaconTxMeasurement]; ok && r.Kind == pb.ResourceKind_RESOURCE_KIND_HOTSPOT {
		c.x.addBeacon(beaconKey{r.DeviceId, r.Seq}, beacon{eventMs: r.EventTimeMs, txMilli: tx, lat: r.GetLocation().GetLatE7(), lon: r.GetLocation().GetLonE7()})
	}
	c.newestMs = max(c.newestMs, r.EventTimeMs)
}

// Commit makes the pending decisions history (the transaction committed).
func (c *Checker) Commit() {
	for k, v := range c.pending {
		c.state[k] = v
	}
	clear(c.pending)
	c.x.commit(c.newestMs, c.cloneWindow, c.beaconWindow)
}

// Abort forgets the pending decisions (the transaction aborted: the readings
// will be decided again).
func (c *Checker) Abort() {
	clear(c.pending)
	c.x.abort()
}

// remember records an accepted reading read back from the valid topic,
// the way accepting it did. The caller commits.
func (c *Checker) remember(v *pb.ValidReading) {
	r := v.Reading
	if st := c.last(r.DeviceId); st != nil && r.Seq < st.lastSeq {
		return
	}
	values := sortedValues(r)
	dev := c.lookup(r.DeviceId)
	c.accept(r, values, sha256.Sum256(v.Signature), c.crossMatch(r, dev, values, c.rules[r.Kind], c.last(r.DeviceId)))
}
