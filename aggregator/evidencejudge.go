package aggregator

// From an evidence window's readings to the findings: the streams each
// device's readings make, and every check run over them.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// windowRow is a valid reading of an evidence window, as evidencedata.go
// reads it: values in the order of the names it asked for, none where the
// reading lacks the measurement.
type windowRow struct {
	kind          pb.ResourceKind
	device, owner string
	timeMs        int64
	receivedMs    int64 // when ingest received it
	latE7, lonE7  int32
	witnessOf     string
	values        []int64
}

// witnessNames are a witness report's measurements that its loop check
// compares.
var witnessNames = []string{"rssi_dbm", "snr_db"}

// kindNames are the measurements a kind's streams carry: the tracked ones,
// then the generator and noise ones not tracked, each group sorted.
func streamNames(ks KindScoring) (names []string, track []bool) {
	add := func(ms []string, tracked bool) {
		ms = slices.Clone(ms)
		slices.Sort(ms)
		for _, m := range ms {
			if !slices.Contains(names, m) {
				names, track = append(names, m), append(track, tracked)
			}
		}
	}
	add(ks.Track, true)
	add(ks.Generator, false)
	noisy := make([]string, 0, len(ks.Noise))
	for m := range ks.Noise {
		noisy = append(noisy, m)
	}
	add(noisy, false)
	return names, track
}

// buildStreams turns a window's rows (in kind, device, time order) into
// reading streams, one sample per interval of the window [fromMs, toMs),
// and witness streams of the coverage kinds. names[i] is the position in a
// row's values of measurement i of all.
func buildStreams(s Scoring, rows []windowRow, all []string, fromMs, toMs int64) (readings, witnesses []*stream) {
	pos := map[string]int{}
	for i, n := range all {
		pos[n] = i
	}
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end].kind == rows[start].kind && rows[end].device == rows[start].device {
			end++
		}
		ks := s.Kinds[rows[start].kind]
		var own, heard []windowRow
		for _, r := range rows[start:end] {
			if r.witnessOf != "" {
				heard = append(heard, r)
			} else {
				own = append(own, r)
			}
		}
		if len(own) > 0 && ks.Interval > 0 {
			readings = append(readings, readingStream(ks, own, pos, fromMs, toMs))
		}
		if len(heard) > 0 && ks.WitnessesPerBeacon > 0 {
			witnesses = append(witnesses, witnessStream(heard, pos))
		}
		start = end
	}
	return readings, witnesses
}

// readingStream is a device's readings, the first of each interval, with the
// changes of its measurements from the interval before (a counter's: of
// what it delivered in each interval). Its intervals are cut at its own
// phase (phaseCut), and every stream of a kind has as many (one more than
// the window holds intervals), so index i of two streams is at most an
// interval apart, which the lags cover.
func readingStream(ks KindScoring, rows []windowRow, pos map[string]int, fromMs, toMs int64) *stream {
	step := ks.Interval.Milliseconds()
	cut := phaseCut(rows, step)
	first := floorDiv(fromMs-cut, step)
	n := int(floorDiv(toMs-1, step) - floorDiv(fromMs, step) + 2)
	names, track := streamNames(ks)
	st := newStream(rows[0], names, n)
	st.stepMs, st.track = step, track
	values := make([][]int64, len(names))
	for m := range values {
		values[m] = filled(n)
	}
	for _, r := range rows {
		i := int(floorDiv(r.timeMs-cut, step) - first)
		if i < 0 || i >= n || st.times[i] != none {
			continue
		}
		st.times[i], st.received[i] = r.timeMs, r.receivedMs
		for m, name := range names {
			values[m][i] = r.values[pos[name]]
		}
	}
	for m, name := range names {
		v := values[m]
		if name == ks.Counter {
			v = differences(v) // delivered in each interval
		}
		if name != ks.Counter {
			// A counter rounding a steady load to its unit repeats the
			// rounding's pattern exactly: its load is checked for loops, it
			// is not.
			st.levels[m] = v
		}
		st.raw[m] = differences(v)
		st.counter[m] = name == ks.Counter
		st.ceiling[m] = ks.Noise[name]
		st.generator[m] = slices.Contains(ks.Generator, name)
	}
	st.finish()
	return st
}

// witnessStream is a coverage device's witness reports in time order, each
// measurement less the mean of the reports of the same beaconer in the
// window: a hotspot hears a near beaconer louder than a far one, and hearing
// them in turn is not a repeat. Its loop check compares what remains.
func witnessStream(rows []windowRow, pos map[string]int) *stream {
	names := make([]string, len(witnessNames))
	for i, n := range witnessNames {
		names[i] = "witness:" + n
	}
	st := newStream(rows[0], names, len(rows))
	st.track = []bool{true, true}
	for m, name := range witnessNames {
		sum, cnt := map[string]int64{}, map[string]int64{}
		for _, r := range rows {
			if v := r.values[pos[name]]; v != none {
				sum[r.witnessOf] += v
				cnt[r.witnessOf]++
			}
		}
		v := filled(len(rows))
		for i, r := range rows {
			st.times[i], st.received[i] = r.timeMs, r.receivedMs
			if x := r.values[pos[name]]; x != none {
				v[i] = x - sum[r.witnessOf]/cnt[r.witnessOf]
			}
		}
		st.levels[m] = v
		st.raw[m] = differences(v)
	}
	st.finish()
	return st
}

func newStream(r windowRow, names []string, n int) *stream {
	st := &stream{device: r.device, owner: r.owner, kind: r.kind, latE7: r.latE7, lonE7: r.lonE7, names: names,
		times: filled(n), received: filled(n), changes: make([][]int64, len(names)), raw: make([][]int64, len(names)), levels: make([][]int64, len(names)),
		shift: make([]uint, len(names)), level: make([]int64, len(names)), steps: make([][]int, len(names)), counter: make([]bool, len(names)), ceiling: make([]int64, len(names)), generator: make([]bool, len(names))}
	return st
}

// finish clips the changes and scales them for comparing.
func (st *stream) finish() {
	for m := range st.raw {
		st.changes[m] = slices.Clone(st.raw[m])
		top, level := clip(st.changes[m])
		st.shift[m], st.level[m] = shiftFor(top), level
		for i, x := range st.raw[m] {
			if x != none && level > 0 && absInt(x) >= level {
				st.steps[m] = append(st.steps[m], i)
			}
		}
	}
}

func filled(n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = none
	}
	return v
}

// differences: v[i] - v[i-1] where both are there, none elsewhere.
func differences(v []int64) []int64 {
	d := filled(len(v))
	for i := 1; i < len(v); i++ {
		if v[i] != none && v[i-1] != none {
			d[i] = v[i] - v[i-1]
		}
	}
	return d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// judge runs every check over an epoch's streams: each device's findings, in
// device then check order (EvidenceReasons), and the reason that stops each
// flagged device's pay (the first flagged, in that order).
func judge(in Information, epoch uint64, readings, witnesses []*stream) ([]Finding, map[string]string) {
	found := tracked(in, readings)
	orig := originals(in, found)
	clocks := sharedClock(in, readings)
	own := map[string]*stream{}
	for _, s := range readings {
		own[s.device] = s
	}
	heard := map[string]*stream{}
	devices := make([]string, 0, len(readings)+len(witnesses))
	for _, s := range readings {
		devices = append(devices, s.device)
	}
	for _, w := range witnesses {
		heard[w.device] = w
		if own[w.device] == nil {
			devices = append(devices, w.device)
		}
	}
	slices.Sort(devices)
	// The loop check, device by device on every CPU (its own part of the
	// work: the comparisons with neighbours are tracked's).
	loops := make([]Finding, len(devices))
	hasLoop := make([]bool, len(devices))
	parallel(len(devices), func(i int) {
		loops[i], hasLoop[i] = loopOf(in, epoch, own[devices[i]], heard[devices[i]])
	})
	var out []Finding
	for i, d := range devices {
		s := own[d]
		if s != nil {
			if c, ok := found[s]; ok {
				out = append(out, s.finding(epoch, ReasonTracked, c, c.z >= in.ZMilli && !orig[s]))
			}
		}
		if hasLoop[i] {
			out = append(out, loops[i])
		}
		if f, ok := clocks[s]; ok && s != nil {
			f.Epoch, f.Flagged = epoch, f.Value <= in.LockstepMs
			out = append(out, f)
		}
		if s != nil {
			out = append(out, s.shape(in, epoch)...)
		}
	}
	stop := map[string]string{}
	for _, f := range out {
		if f.Flagged && stop[f.Device] == "" {
			stop[f.Device] = f.Reason
		}
	}
	return out, stop
}

// finding describes a comparison: with another device's stream, or with the
// device's own past (Other empty).
func (st *stream) finding(epoch uint64, reason string, c candidate, flagged bool) Finding {
	f := Finding{Epoch: epoch, Device: st.device, Reason: reason, Flagged: flagged, Measurement: st.names[c.meas],
		LagMs: meanGap(st.times, c.other.times, c.lag), Samples: c.m.n, BetaBP: c.m.slopeBP(), Value: c.z}
	if c.together > 1 {
		// Several measurements together: named by their strongest, with
		// how many there were.
		f.Measurement = fmt.Sprintf("%s and %d more", f.Measurement, c.together-1)
	}
	if c.other != st {
		f.Other = c.other.device
	}
	f.FromMs, f.ToMs = c.other.times[c.m.first-c.lag], c.other.times[c.m.last-c.lag]
	return f
}

// loopOf is a device's loop finding: the stronger fold of its readings
// and its witness reports. Readings are folded from MinPeriod on, up to a
// third of the window (a real stream's values smoothed by its sensor make a
// fold of two long passes look a little alike); witness reports, each heard
// afresh, from as many reports as MinPeriod holds readings of 5 s, up to
// half of the reports.
func loopOf(in Information, epoch uint64, own, heard *stream) (Finding, bool) {
	var loop fold
	var from *stream
	for _, x := range []*stream{own, heard} {
		if x == nil {
			continue
		}
		step, passes := x.stepMs, 3
		if step == 0 {
			step, passes = 5000, 2
		}
		minPeriod := max(3, int((in.MinPeriod.Milliseconds()+step-1)/step))
		if f, ok := looped(in, x, minPeriod, passes); ok && (from == nil || f.zMilli > loop.zMilli) {
			loop, from = f, x
		}
	}
	if from == nil {
		return Finding{}, false
	}
	return from.loopFinding(epoch, loop, loop.zMilli >= in.LoopZMilli), true
}

// loopFinding describes a fold: the period, and the first pass of the
// stretch the stream repeated.
func (st *stream) loopFinding(epoch uint64, f fold, flagged bool) Finding {
	out := Finding{Epoch: epoch, Device: st.device, Reason: ReasonLooped, Flagged: flagged, Measurement: st.names[f.meas],
		LagMs: meanGap(st.times, st.times, f.period), Samples: f.n, BetaBP: f.shareBP, Value: f.zMilli, FromMs: st.times[f.first]}
	for i := f.last; i >= f.first; i-- {
		if st.times[i] != none {
			out.ToMs = st.times[i]
			break
		}
	}
	return out
}

// shape is the checks of a stream's own changes: noisier than its kind's
// sensors, or flatter than noise.
func (st *stream) shape(in Information, epoch uint64) []Finding {
	var out []Finding
	noisy := Finding{Epoch: epoch, Device: st.device, Reason: ReasonNoisy, Value: -1}
	flat := Finding{Epoch: epoch, Device: st.device, Reason: ReasonGenerated, Value: -1}
	for m, name := range st.names {
		if c := st.ceiling[m]; c > 0 {
			rms, n := noiseRMS(st.raw[m])
			if bp := rms * 10_000 / c; n >= in.MinSamples && bp > noisy.Value {
				noisy.Measurement, noisy.Samples, noisy.Value, noisy.Flagged = name, int64(n), bp, rms > c
			}
		}
		if st.generator[m] {
			k, n := kurtosisMilli(st.raw[m])
			if n >= in.MinSamples && k > 0 && (flat.Value < 0 || k < flat.Value) {
				flat.Measurement, flat.Samples, flat.Value, flat.Flagged = name, int64(n), k, k < in.KurtosisMilli
			}
		}
	}
	// In EvidenceReasons' order.
	for _, f := range []Finding{flat, noisy} {
		if f.Value >= 0 {
			f.FromMs, f.ToMs = st.span()
			out = append(out, f)
		}
	}
	return out
}

// span is the times of the stream's first and last samples.
func (st *stream) span() (int64, int64) {
	ts := sampleTimes(st)
	if len(ts) == 0 {
		return 0, 0
	}
	return ts[0], ts[len(ts)-1]
}

// sortFindings orders findings by device, then check.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := strings.Compare(a.Device, b.Device); c != 0 {
			return c
		}
		return cmp.Compare(slices.Index(EvidenceReasons, a.Reason), slices.Index(EvidenceReasons, b.Reason))
	})
}
