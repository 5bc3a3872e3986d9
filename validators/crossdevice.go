package validators

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Checks across devices. Ingest partitions readings by region (the 1-degree
// square of the device's asserted location, internal/kafka.Region), so one
// checker sees every device of its regions in order, and compares them
// here. What it remembers derives from accepted readings only, like the
// per-device history, so the valid topic rebuilds it too.

// CrossRules are the thresholds of the checks across devices, per kind. A
// zero turns a check off.
type CrossRules struct {
	// CloneGrid rounds each measurement to this step before two readings are
	// compared: readings equal after rounding are near-identical.
	CloneGrid map[string]int64 `yaml:"cloneGrid"`
	// CloneAfter: a device whose readings were near-identical to the same
	// other device's (within CloneWindow) this many times in a row, the
	// current one included, is CLONED_STREAM from then on.
	CloneAfter  int           `yaml:"cloneAfter"`
	CloneWindow time.Duration `yaml:"cloneWindow"`
	// SybilMaxPerCell: how many devices of the kind may report correlated
	// data (every measurement within SybilTolerance of each other, within
	// CloneWindow) from one ~300 m cell; the later ones are SYBIL_CLUSTER.
	SybilMaxPerCell int              `yaml:"sybilMaxPerCell"`
	SybilTolerance  map[string]int64 `yaml:"sybilTolerance"`
	// Witnesses (hotspots): a witness must be at least WitnessMinDistM from
	// the beacon, hear it within WitnessWindow, and not hear it stronger
	// than free space allows at WitnessFreqMHz plus WitnessMarginMilliDB
	// (antenna gains, calibration). MaxTxMilliDBm is the transmit power
	// assumed when the beacon's own report is not at hand.
	WitnessMinDistM      int64         `yaml:"witnessMinDistM"`
	WitnessWindow        time.Duration `yaml:"witnessWindow"`
	WitnessFreqMHz       int64         `yaml:"witnessFreqMHz"`
	WitnessMarginMilliDB int64         `yaml:"witnessMarginMilliDB"`
	MaxTxMilliDBm        int64         `yaml:"maxTxMilliDBm"`
}

// Reason codes of the checks across devices.
const (
	// ReasonClonedStream: near-identical to another device's readings,
	// CloneAfter times in a row: one device's data copied onto another.
	ReasonClonedStream = "CLONED_STREAM"
	// ReasonSybilCluster: one device too many in a small cell, all saying
	// the same thing: devices multiplied to multiply rewards.
	ReasonSybilCluster = "SYBIL_CLUSTER"
	// ReasonWitnessSelf: a hotspot witnessing its own beacon.
	ReasonWitnessSelf = "WITNESS_SELF"
	// ReasonWitnessUnknownBeacon: witnessing a beacon nobody sent.
	ReasonWitnessUnknownBeacon = "WITNESS_UNKNOWN_BEACON"
	// ReasonWitnessTooClose: the witness stands closer to the beacon than
	// useful coverage allows (co-located hotspots vouching for each other).
	ReasonWitnessTooClose = "WITNESS_TOO_CLOSE"
	// ReasonWitnessTooStrong: received stronger than free-space path loss
	// allows at the asserted distance: the two are not where they claim.
	ReasonWitnessTooStrong = "WITNESS_TOO_STRONG"
)

// Measurement names with a role in the witness checks.
const (
	BeaconTxMeasurement = "beacon_tx_dbm" // a beacon's transmit power, milli-dBm
	RSSIMeasurement     = "rssi_dbm"      // a witness's received strength, milli-dBm
)

// cross is what the checker remembers across devices. Changes made while a
// transaction is open are logged in undo, so Abort can take them back.
type cross struct {
	clones  map[uint64]cloneList // rounded-values key -> readings with it
	cloneQ  fifo[cloneRef]       // insertion order, for expiry
	beacons map[beaconKey]beacon
	beaconQ fifo[beaconKey]
	cells   map[cellKey]map[string]cellDevice
	undo    []undoOp
}

// undoOp takes back one change of an open transaction (a typed record
// rather than a closure: one is logged per accepted reading).
type undoOp struct {
	op     uint8 // opClone, opCell or opBeacon
	had    bool  // the cell entry or beacon existed before
	key    uint64
	cell   cellKey
	device string
	old    cellDevice
	bkey   beaconKey
	oldB   beacon
}

const (
	opClone = iota + 1
	opCell
	opBeacon
)

type cloneEntry struct {
	device  string
	eventMs int64
}

// cloneList is the readings of one key, oldest first, never empty: the
// first kept in the map itself. Most keys hold one reading, and a slice for
// each had been an allocation per reading and, at 25,000 readings a second
// kept for a minute, 1.5 million objects more for the collector to mark.
type cloneList struct {
	first cloneEntry
	rest  []cloneEntry
}

func (l *cloneList) len() int { return 1 + len(l.rest) }

func (l *cloneList) at(i int) cloneEntry {
	if i == 0 {
		return l.first
	}
	return l.rest[i-1]
}

// without is l without its i-th reading; empty when that was the last.
func (l cloneList) without(i int) (_ cloneList, empty bool) {
	switch {
	case len(l.rest) == 0:
		return cloneList{}, true
	case i == 0:
		// Two statements: in one, Go may read rest[0] after Delete moved it.
		l.first = l.rest[0]
		l.rest = slices.Delete(l.rest, 0, 1)
	default:
		l.rest = slices.Delete(l.rest, i-1, i)
	}
	return l, false
}

type cloneRef struct {
	key     uint64
	device  string
	eventMs int64
}

type beaconKey struct {
	device string
	seq    uint64
}

type beacon struct {
	eventMs  int64
	txMilli  int64
	lat, lon int32
}

type cellKey struct {
	kind     pb.ResourceKind
	lat, lon int32 // cell indices
}

// cellDevice is a device's standing in its cell: when it was first
// accepted there, and its last accepted values and time.
type cellDevice struct {
	firstMs, lastMs int64
	values          []measurement
}

func newCross() *cross {
	return &cross{clones: map[uint64]cloneList{}, beacons: map[beaconKey]beacon{}, cells: map[cellKey]map[string]cellDevice{}}
}

var seed = maphash.MakeSeed()

// cloneKey is a reading's values rounded to the kind's grid, hashed with
// its kind. The hash only buckets readings; matches are compared in full.
func cloneKey(kind pb.ResourceKind, values []measurement, grid map[string]int64) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(kind))
	h.Write(b[:])
	for _, m := range values {
		h.WriteString(m.name)
		binary.LittleEndian.PutUint64(b[:], uint64(roundTo(m.value, grid[m.name])))
		h.Write(b[:])
	}
	return h.Sum64()
}

func roundTo(v, step int64) int64 {
	if step <= 1 {
		return v
	}
	q := v / step
	if v%step < 0 {
		q--
	}
	return q
}

// cloneMatch returns another device that accepted a reading with the same
// rounded values within the window, or "".
// The device of the current streak, prefer, is chosen when it matches.
func (x *cross) cloneMatch(r *pb.Reading, values []measurement, rules CrossRules, prefer string) (string, uint64) {
	if rules.CloneAfter <= 0 {
		return "", 0
	}
	key := cloneKey(r.Kind, values, rules.CloneGrid)
	window := rules.CloneWindow.Milliseconds()
	found := ""
	// A device whose reading did not move from its own earlier one is not
	// a clone of whoever copied that earlier reading: the other one is.
	l, ok := x.clones[key]
	if !ok {
		return "", key
	}
	mine := int64(math.MaxInt64)
	for i := range l.len() {
		if e := l.at(i); e.device == r.DeviceId {
			mine = min(mine, e.eventMs)
		}
	}
	for i := l.len() - 1; i >= 0; i-- {
		if e := l.at(i); e.device != r.DeviceId && abs(e.eventMs-r.EventTimeMs) <= window && e.eventMs < mine {
			if e.device == prefer {
				return e.device, key
			}
			if found == "" {
				found = e.device
			}
		}
	}
	return found, key
}

// addClone remembers an accepted reading's rounded values.
func (x *cross) addClone(key uint64, device string, eventMs int64) {
	e := cloneEntry{device, eventMs}
	if l, ok := x.clones[key]; ok {
		l.rest = append(l.rest, e)
		x.clones[key] = l
	} else {
		x.clones[key] = cloneList{first: e}
	}
	x.cloneQ.push(cloneRef{key, device, eventMs})
	x.undo = append(x.undo, undoOp{op: opClone, key: key})
}

// cellOf is the ~300 m cell (0.003 degree squares) of a position.
func cellOf(kind pb.ResourceKind, lat, lon int32) cellKey {
	return cellKey{kind, int32(roundTo(int64(lat), 30_000)), int32(roundTo(int64(lon), 30_000))}
}

// sybil counts the devices of the cell established before this one (first
// accepted earlier) whose last reading, within the window, agrees with this
// reading on every measurement within tolerance.
func (x *cross) sybil(cell cellKey, device string, eventMs int64, values []measurement, rules CrossRules) (int, []string) {
	mine, known := x.cells[cell][device]
	window := rules.CloneWindow.Milliseconds()
	var peers []string
	for id, d := range x.cells[cell] {
		if id == device || (known && d.firstMs >= mine.firstMs && !(d.firstMs == mine.firstMs && id < device)) {
			continue
		}
		if abs(d.lastMs-eventMs) > window || len(d.values) != len(values) {
			continue
		}
		close := true
		for i, m := range values {
			if d.values[i].name != m.name || abs(d.values[i].value-m.value) > rules.SybilTolerance[m.name] {
				close = false
				break
			}
		}
		if close {
			peers = append(peers, id)
		}
	}
	slices.Sort(peers) // the evidence lists them in a stable order
	return len(peers), peers
}

func (x *cross) setCell(cell cellKey, device string, d cellDevice) {
	m := x.cells[cell]
	if m == nil {
		m = map[string]cellDevice{}
		x.cells[cell] = m
	}
	old, had := m[device]
	m[device] = d
	x.undo = append(x.undo, undoOp{op: opCell, cell: cell, device: device, old: old, had: had})
}

func (x *cross) addBeacon(k beaconKey, b beacon) {
	old, had := x.beacons[k]
	x.beacons[k] = b
	x.beaconQ.push(k)
	x.undo = append(x.undo, undoOp{op: opBeacon, bkey: k, oldB: old, had: had})
}

// commit keeps the transaction's changes and forgets what is too old to
// matter: clone entries older than twice cloneWindow, and beacons older
// than twice beaconWindow, before the newest event time seen.
func (x *cross) commit(newestMs int64, cloneWindow, beaconWindow time.Duration) {
	x.undo = x.undo[:0]
	for x.cloneQ.len() > 0 && x.cloneQ.front().eventMs < newestMs-2*cloneWindow.Milliseconds() {
		ref := x.cloneQ.front()
		if l, ok := x.clones[ref.key]; ok {
			for i := range l.len() {
				if l.at(i) == (cloneEntry{ref.device, ref.eventMs}) {
					if l, empty := l.without(i); empty {
						delete(x.clones, ref.key)
					} else {
						x.clones[ref.key] = l
					}
					break
				}
			}
		}
		x.cloneQ.dropFront()
	}
	for x.beaconQ.len() > 0 {
		k := x.beaconQ.front()
		b, ok := x.beacons[k]
		if ok && b.eventMs >= newestMs-2*beaconWindow.Milliseconds() {
			break
		}
		delete(x.beacons, k)
		x.beaconQ.dropFront()
	}
}

func (x *cross) abort() {
	for i := len(x.undo) - 1; i >= 0; i-- {
		u := x.undo[i]
		switch u.op {
		case opClone:
			l := x.clones[u.key]
			if l, empty := l.without(l.len() - 1); empty {
				delete(x.clones, u.key)
			} else {
				x.clones[u.key] = l
			}
			x.cloneQ.popBack()
		case opCell:
			if u.had {
				x.cells[u.cell][u.device] = u.old
			} else {
				delete(x.cells[u.cell], u.device)
			}
		case opBeacon:
			if u.had {
				x.beacons[u.bkey] = u.oldB
			} else {
				delete(x.beacons, u.bkey)
			}
			x.beaconQ.popBack()
		}
	}
	x.undo = x.undo[:0]
}
