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
}

// clone is a copy of st that can change without changing st. lastValues is
// shared: it is replaced, never changed in place.
func (st *deviceState) clone() *deviceState {
	c := *st
	c.recent = slices.Clone(st.recent)
	c.rejected = slices.Clone(st.rejected)
	return &c
}

// apply folds an accepted reading into a device's state: the one place the
// state changes, for live decisions and for rebuilds alike.
func apply(st *deviceState, r *pb.Reading, values []measurement, sigHash [32]byte) {
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
	fp := fingerprint(r.Seq, sigHash)
	if len(st.recent) < DuplicateWindow {
		st.recent = append(st.recent, fp)
	} else {
		st.recent[st.next] = fp
		st.next = (st.next + 1) % DuplicateWindow
	}
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
