// What a validator remembers of each device between readings, and the
// measurements of a reading in a stable order.

package validators

import (
	"fmt"
	"slices"
	"strings"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// measurement is one value of the last accepted reading.
type measurement struct {
	name  string
	value int64
}

// deviceState is what the checks remember of one device, all of it derived
// from its accepted readings in order, so that the valid topic rebuilds it.
type deviceState struct {
	id          string // the device's id, one string for all it remembers (not each reading's)
	lastSeq     uint64
	lastEventMs int64
	lastValues  []measurement // sorted by name; replaced, never changed in place (clones share it)
	same        int           // accepted readings in a row with lastValues
	lat, lon    int32         // last reported position (0, 0: none yet)
	recent      []uint64      // ring of seq ^ signature hash of the last accepted readings
	next        int           // next slot of recent
	cloneStreak int           // accepted readings in a row near-identical to cloneOf's
	cloneOf     string
	rejected    []uint64 // ring of fingerprints of the last rejected readings
	rnext       int
	saved       uint64 // the transaction whose undo log holds this state as it was before it
}

// undoLog takes back what the open transaction changed in device states:
// each state as it was before the transaction's first change to it (a copy
// of the struct: its rings' slices share their arrays), each ring slot the
// transaction overwrote, and the states it made.
type undoLog struct {
	txn    uint64 // the open transaction's number, from 1
	states []savedState
	slots  []savedSlot
	made   []*deviceState
}

type savedState struct {
	st  *deviceState
	was deviceState
}

type savedSlot struct {
	ring []uint64
	i    int
	was  uint64
}

// save keeps st as it is, unless the open transaction saved it already.
func (u *undoLog) save(st *deviceState) {
	if st.saved == u.txn {
		return
	}
	st.saved = u.txn
	u.states = append(u.states, savedState{st, *st})
}

// add notes a state the open transaction made (an abort removes it).
func (u *undoLog) add(st *deviceState) {
	st.saved = u.txn
	u.made = append(u.made, st)
}

// ringPut adds v to a ring of at most size values whose next slot to
// overwrite, once full, is *next; an overwritten value is saved (appending
// needs nothing saved: the state's saved slice is shorter).
func (u *undoLog) ringPut(ring *[]uint64, next *int, size int, v uint64) {
	if len(*ring) < size {
		*ring = append(*ring, v)
		return
	}
	u.slots = append(u.slots, savedSlot{*ring, *next, (*ring)[*next]})
	(*ring)[*next] = v
	*next = (*next + 1) % size
}

// forget starts the next transaction, keeping every change (a commit).
func (u *undoLog) forget() {
	clear(u.states) // the saved copies hold strings and slices: let them go
	clear(u.made)
	u.states, u.slots, u.made = u.states[:0], u.slots[:0], u.made[:0]
	u.txn++
}

// takeBack undoes the open transaction's changes, latest first, and starts
// the next (an abort). A ring slot overwritten twice gets its first value
// back because the slots are restored in reverse.
func (u *undoLog) takeBack(states map[string]*deviceState) {
	for i := len(u.slots) - 1; i >= 0; i-- {
		s := u.slots[i]
		s.ring[s.i] = s.was
	}
	for i := len(u.states) - 1; i >= 0; i-- {
		*u.states[i].st = u.states[i].was
	}
	for _, st := range u.made {
		delete(states, st.id)
	}
	u.forget()
}

// apply folds an accepted reading into a device's state: the one place the
// state changes, for live decisions and for rebuilds alike. The state must
// have been made ready for the transaction (Checker.pendingState).
func apply(st *deviceState, r *pb.Reading, values []measurement, sigHash [32]byte, u *undoLog) {
	if slices.Equal(values, st.lastValues) {
		st.same++
	} else {
		st.same = 1
		st.lastValues = values
	}
	st.lastSeq, st.lastEventMs = r.Seq, r.EventTimeMs
	if lat, lon := r.GetLocation().GetLatE7(), r.GetLocation().GetLonE7(); lat != 0 || lon != 0 {
		st.lat, st.lon = lat, lon
	}
	u.ringPut(&st.recent, &st.next, DuplicateWindow, fingerprint(r.Seq, sigHash))
}

func formatValues(values []measurement) string {
	s := ""
	for i, m := range values {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", m.name, m.value)
	}
	return s
}

// sortedValues is a reading's measurements sorted by name: the order the
// checks compare and report them in.
func sortedValues(r *pb.Reading) []measurement {
	values := make([]measurement, 0, len(r.Measurements))
	for name, v := range r.Measurements {
		values = append(values, measurement{name, v})
	}
	// slices.SortFunc, not sort.Slice: no reflection, no swapper allocated
	// for every reading.
	slices.SortFunc(values, func(a, b measurement) int { return strings.Compare(a.name, b.name) })
	return values
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
