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
	// state is every device's, changed in place by the open transaction;
	// undo takes those changes back if it aborts. (A copy of each device's
	// state per transaction, kept apart until the commit, cost a copy of its
	// rings and three map operations a reading: 18% of the bytes a
	// validator allocated in the pipeline.)
	state    map[string]*deviceState
	undo     undoLog
	x        *cross // across devices
	newestMs int64  // newest event time accepted
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
	c := &Checker{rules: rules, maxFuture: maxFuture, maxPast: maxPast, state: map[string]*deviceState{}, undo: undoLog{txn: 1}, x: newCross()}
	for _, r := range rules {
		c.cloneWindow, c.beaconWindow = max(c.cloneWindow, r.CloneWindow), max(c.beaconWindow, r.WitnessWindow)
	}
	return c
}

// Decision is the outcome for one reading: Reason is empty when it is valid.
type Decision struct {
	Reason string
	Detail string // the evidence: the values that tripped the rule, and the rule
}

func (c *Checker) last(device string) *deviceState { return c.state[device] }

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
	c.undo.ringPut(&st.rejected, &st.rnext, RejectedWindow, fp)
}

// rememberRejected records a rejected reading read back from the rejected
// topic. The caller commits.
func (c *Checker) rememberRejected(v *pb.RejectedReading) {
	if v.Reason == ReasonDuplicate || v.GetReading() == nil {
		return
	}
	c.rejected(v.Reading.DeviceId, fingerprint(v.Reading.Seq, sha256.Sum256(v.Signature)))
}

// pendingState is the device's state, ready to change in the open
// transaction: saved for undo at the transaction's first change to it.
func (c *Checker) pendingState(device string) *deviceState {
	st := c.state[device]
	if st == nil {
		st = &deviceState{id: device}
		c.state[device] = st
		c.undo.add(st)
	} else {
		c.undo.save(st)
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
	return Decision{}
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
	apply(st, r, values, sigHash, &c.undo)
	st.cloneStreak, st.cloneOf = m.streak, m.clone
	rules := c.rules[r.Kind]
	if rules.CloneAfter > 0 {
		c.x.addClone(m.cloneKey, st.id, r.EventTimeMs) // the clone window keeps a minute of entries: not a string each
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
	c.undo.forget()
	c.x.commit(c.newestMs, c.cloneWindow, c.beaconWindow)
}

// Abort forgets the pending decisions (the transaction aborted: the readings
// will be decided again).
func (c *Checker) Abort() {
	c.undo.takeBack(c.state)
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
