package aggregator

// The information checks over an epoch's evidence window: each device's
// streams compared with its neighbours', with its own past, and with the
// other devices of its owner at its spot (docs/scoring.md, "Streams without
// information of their own").

import (
	"cmp"
	"math"
	"math/big"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fieldmint/fieldmint/internal/geo"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// stream is one device's samples in the window: its readings, one per
// interval (index i is the window's i-th interval), or a coverage kind's
// witness reports, one per report in time order.
type stream struct {
	device, owner string
	kind          pb.ResourceKind
	latE7, lonE7  int32     // its first reading's position in the window
	stepMs        int64     // an index's length in time; 0 for witness reports
	times         []int64   // each index's event time (ms), none where there is no sample
	received      []int64   // each index's time of receipt by ingest (ms), none where there is no sample
	names         []string  // the measurements compared, as changes[m] holds them
	changes       [][]int64 // changes[m][i]: measurement m's change at index i (clipped), or none
	raw           [][]int64 // the same, unclipped, for noise and kurtosis
	levels        [][]int64 // the values themselves (a counter's: delivered), for the loop check
	shift         []uint    // per measurement, the scaling of the clipped changes into 12 bits
	level         []int64   // per measurement, the clip level: changes beyond it are steps (echoes)
	steps         [][]int   // per measurement, the indexes of its steps
	track         []bool    // per measurement, whether it is compared (KindScoring.Track)
	counter       []bool    // per measurement, whether it is the kind's counter (it says what its load says)
	ceiling       []int64   // per measurement, its noise ceiling (KindScoring.Noise), or 0
	generator     []bool    // per measurement, whether its changes must not be flatter than noise
}

// Finding is one check's strongest evidence about one device in one epoch,
// flagged when it stopped the device's pay. Every device a check could
// judge has its row, flagged or not: how close it came is evidence too.
type Finding struct {
	Epoch       uint64
	Device      string
	Reason      string // the check: one of EvidenceReasons
	Flagged     bool
	Other       string // the device it tracked or kept time with; "" for its own past
	Measurement string // "witness:" before a witness report's measurement
	// LagMs: TRACKED_STREAM, how far behind Other the device ran (mean over
	// the matched readings); LOOPED_STREAM, the period it repeats with;
	// SHARED_CLOCK, the mean offset of its readings from Other's.
	LagMs int64
	// FromMs, ToMs: the stretch compared of the earlier stream (Other's, or
	// the device's own past), by event time.
	FromMs, ToMs int64
	Samples      int64
	BetaBP       int64 // the slope of its changes on the other's (basis points)
	// Value: TRACKED_STREAM and LOOPED_STREAM, the slope's distance above
	// Information.BetaBP in thousandths of a standard error; NOISY_STREAM,
	// the noisiest measurement's change as basis points of its ceiling;
	// GENERATED_STREAM, the flattest measurement's kurtosis (thousandths);
	// SHARED_CLOCK, the spread of the offsets (ms).
	Value int64
}

// candidate is a comparison of a device's stream with another's.
type candidate struct {
	m        match
	z        int64
	other    *stream
	meas     int // the measurement (its strongest, when several together)
	lag      int
	together int // how many measurements the evidence adds up, or 0 for one
}

// better orders candidates: the stronger evidence first, then by other
// device, measurement and lag, so that the choice never depends on the
// order they were tried in.
func (c candidate) better(o candidate) bool {
	if c.z != o.z {
		return c.z > o.z
	}
	if c.other.device != o.other.device {
		return c.other.device < o.other.device
	}
	if c.meas != o.meas {
		return c.meas < o.meas
	}
	return absInt(int64(c.lag)) < absInt(int64(o.lag)) || (absInt(int64(c.lag)) == absInt(int64(o.lag)) && c.lag < o.lag)
}

// strongest compares b with a at each lag of lags, measurement by
// measurement, and keeps the strongest comparison with enough samples in
// best: a measurement's slope's distance above betaBP in standard errors,
// or its steps' echoes; or, where two or more measurements were compared,
// their distances together (their sum over the square root of their number:
// a copy copies every measurement, each a little evidence, and a cheater
// hiding each under the threshold does not hide their sum). A counter is
// left out of the sum: what it delivered is what its load says again.
func strongest(in Information, a, b *stream, lags []int, betaBP int64, best *candidate) {
	ms := make([]match, len(b.changes))
	for _, lag := range lags {
		var approx float64
		together := 0
		for m := range b.changes {
			ms[m] = match{}
			if !b.track[m] {
				continue
			}
			mt := compare(a.changes[m], b.changes[m], lag, max(a.shift[m], b.shift[m]))
			if mt.n < int64(in.MinSamples) {
				continue
			}
			if !b.counter[m] { // a counter repeats its load's evidence
				ms[m], together, approx = mt, together+1, approx+mt.zApprox(betaBP)
			}
			c := candidate{m: mt, z: mt.zMilli(betaBP), other: a, meas: m, lag: lag}
			if len(b.steps[m]) >= minEchoes {
				if steps, echoed := echoes(a.raw[m], b.raw[m], b.steps[m], lag, a.level[m]); echoed >= minEchoes {
					c.z = max(c.z, echoZMilli(steps, echoed))
				}
			}
			if c.z > 0 && (best.other == nil || c.better(*best)) {
				*best = c
			}
		}
		// The sum, computed exactly where its approximation comes within one
		// standard error of the threshold.
		if together < 2 || approx/math.Sqrt(float64(together)) < float64(in.ZMilli)/1000-1 {
			continue
		}
		var sum int64
		strongestM := -1
		for m, mt := range ms {
			if mt.n == 0 {
				continue
			}
			sum += mt.zSigned(betaBP)
			if strongestM < 0 || mt.zApprox(betaBP) > ms[strongestM].zApprox(betaBP) {
				strongestM = m
			}
		}
		if sum <= 0 {
			continue
		}
		z := min(int64(isqrt(uint64(sum)*uint64(sum)/uint64(together))), maxU)
		c := candidate{m: ms[strongestM], z: z, other: a, meas: strongestM, lag: lag, together: together}
		if best.other == nil || c.better(*best) {
			*best = c
		}
	}
}

// tracked finds, for each reading stream, the neighbour of its kind within
// RadiusM whose changes its own follow most strongly, at a lag up to
// MaxLag either way. Two streams that each track the other (an exact copy
// and its original) keep the finding on the copy: the one whose slope on
// the other is steeper (a copy's is one, its original's less by the noise
// added), then the later one.
func tracked(in Information, streams []*stream) map[*stream]candidate {
	var jobs [][2]any // each stream with its kind's group
	for _, group := range byKind(streams) {
		for _, b := range group {
			jobs = append(jobs, [2]any{b, group})
		}
	}
	best := make([]candidate, len(jobs))
	parallel(len(jobs), func(i int) {
		b, group := jobs[i][0].(*stream), jobs[i][1].([]*stream)
		maxLag := int(in.MaxLag.Milliseconds() / b.stepMs)
		lags := make([]int, 0, 2*maxLag+1)
		for l := -maxLag; l <= maxLag; l++ {
			lags = append(lags, l)
		}
		for _, a := range neighbours(group, b, in.RadiusM) {
			strongest(in, a, b, lags, in.BetaBP, &best[i])
		}
	})
	out := map[*stream]candidate{}
	for i, c := range best {
		if c.other != nil {
			out[jobs[i][0].(*stream)] = c
		}
	}
	return out
}

// parallel runs work(0..n-1) on every CPU. Each call writes only its own
// result, so the results are the same however the calls interleave.
func parallel(n int, work func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				work(i)
			}
		}()
	}
	wg.Wait()
}

// originals are the streams that track and are tracked by the same stream
// while not being the copy of the two (copyOf): their finding stands, but
// does not stop their pay.
func originals(in Information, found map[*stream]candidate) map[*stream]bool {
	out := map[*stream]bool{}
	for b, cb := range found {
		ca, ok := found[cb.other]
		if ok && ca.other == b && cb.z >= in.ZMilli && ca.z >= in.ZMilli && copyOf(b, cb, ca) {
			out[cb.other] = true
		}
	}
	return out
}

// copyOf reports whether b, not a (cb.other), is the copy of the pair that
// track each other. A copy is its original plus the noise it adds, so the
// noisier of the two is the copy, when their changes' variances differ by
// more than three times the error of the estimate (3/√n); a copy adding
// less noise than that is told by ingest's clock: a copier can date its
// readings as it likes, but ingest cannot receive a copy before the
// original it copies (the later received is the copy). Then the greater id.
func copyOf(b *stream, cb, ca candidate) bool {
	// cb.m compares b (its b) with a; its sums are n·Σ, so A and B compare.
	vb, va, n := cb.m.b, cb.m.a, cb.m.n
	margin := 1000 + 3000/int64(max(isqrt(uint64(n)), 1))
	switch {
	case mulGreater(vb, 1000, va, margin):
		return true
	case mulGreater(va, 1000, vb, margin):
		return false
	}
	if d := meanGap(b.received, cb.other.received, cb.lag); d != 0 {
		return d > 0
	}
	return b.device > cb.other.device
}

// mulGreater reports whether x·p > y·q, in 128 bits.
func mulGreater(x, p, y, q int64) bool {
	return new(big.Int).Mul(big.NewInt(x), big.NewInt(p)).Cmp(new(big.Int).Mul(big.NewInt(y), big.NewInt(q))) > 0
}

// meanGap is how much later b's times are than a's, lag indexes earlier, on
// average over the indexes both have (ms, rounded toward zero): of their
// receipt by ingest (stream.received) or of their readings (stream.times).
func meanGap(b, a []int64, lag int) int64 {
	var sum, n int64
	for i := max(0, lag); i < min(len(b), len(a)+lag); i++ {
		if b[i] != none && a[i-lag] != none {
			sum += b[i] - a[i-lag]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// sharedClock finds, for each reading stream, the device of the same owner
// within SiteRadiusM (any kind) whose readings' times stay at one offset
// from its own most tightly: the spread of the offsets, over the readings
// of the two that fall within half an interval of each other.
func sharedClock(in Information, streams []*stream) map[*stream]Finding {
	owners := map[string][]*stream{}
	for _, s := range streams {
		owners[s.owner] = append(owners[s.owner], s)
	}
	out := map[*stream]Finding{}
	for _, group := range owners {
		for _, a := range group {
			for _, b := range neighbours(group, a, in.SiteRadiusM) {
				f, ok := clockOffsets(a, b, int64(in.MinSamples))
				if !ok {
					continue
				}
				if best, seen := out[a]; !seen || f.Value < best.Value || (f.Value == best.Value && f.Other < best.Other) {
					out[a] = f
				}
			}
		}
	}
	return out
}

// clockOffsets pairs each of a's readings with b's nearest one within half
// the shorter interval and measures the spread of their offsets.
func clockOffsets(a, b *stream, minSamples int64) (Finding, bool) {
	half := min(a.stepMs, b.stepMs) / 2
	at, bt := sampleTimes(a), sampleTimes(b)
	var n, sum, lo, hi int64
	j := 0
	for _, t := range at {
		for j+1 < len(bt) && absInt(bt[j+1]-t) <= absInt(bt[j]-t) {
			j++
		}
		if j >= len(bt) || absInt(bt[j]-t) > half {
			continue
		}
		d := t - bt[j]
		if n == 0 || d < lo {
			lo = d
		}
		if n == 0 || d > hi {
			hi = d
		}
		n, sum = n+1, sum+d
	}
	if n < minSamples {
		return Finding{}, false
	}
	return Finding{Device: a.device, Reason: ReasonSharedClock, Other: b.device, LagMs: sum / n, FromMs: bt[0], ToMs: bt[len(bt)-1], Samples: n, Value: hi - lo}, true
}

func sampleTimes(s *stream) []int64 {
	var out []int64
	for _, t := range s.times {
		if t != none {
			out = append(out, t)
		}
	}
	return out
}

// byKind groups streams by kind, each group in device order.
func byKind(streams []*stream) [][]*stream {
	m := map[pb.ResourceKind][]*stream{}
	for _, s := range streams {
		m[s.kind] = append(m[s.kind], s)
	}
	kinds := make([]pb.ResourceKind, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	out := make([][]*stream, 0, len(kinds))
	for _, k := range kinds {
		g := m[k]
		slices.SortFunc(g, func(x, y *stream) int { return cmp.Compare(x.device, y.device) })
		out = append(out, g)
	}
	return out
}

// neighbours lists the streams of group (sorted by device) other than s
// within radius metres of it: a scan of the group, cheap where a latitude
// band rules a device out (docs/scoring.md, "Speed", has what it costs).
func neighbours(group []*stream, s *stream, radiusM int64) []*stream {
	band := int32(min(radiusM*90, 1<<30)) // 1e-7 degrees of latitude per metre: 1/0.011132 < 90
	var out []*stream
	for _, o := range group {
		if o == s || o.latE7 > s.latE7+band || o.latE7 < s.latE7-band {
			continue
		}
		if geo.DistanceM(s.latE7, s.lonE7, o.latE7, o.lonE7) <= radiusM {
			out = append(out, o)
		}
	}
	return out
}
