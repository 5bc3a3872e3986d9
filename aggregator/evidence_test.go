package aggregator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The information checks on synthetic streams: each check's tripping case
// beside the closest honest case, with the real weather's physics in small
// (a field common to a neighbourhood, each sensor's own microclimate, bias,
// response time and noise). simulate/fleet has the full model, run through
// the whole pipeline by the simulator's tests.

const (
	testEpoch  = 100_000_000 // 30 s epochs: Unix time 3e9 s
	testLength = 30 * time.Second
)

// world is a neighbourhood's weather: a common field per measurement (a
// mean-reverting walk, 15 minutes' memory), shared by every station.
type world struct {
	rng   *rand.Rand
	field [3]float64
}

var weatherNames = []string{"humidity_pct", "pressure_hpa", "temperature_c"} // sorted, as streamNames sorts Track

// station is an honest weather station: the field, its own microclimate
// (another walk), a bias, a sensor that follows the air with a 30 s
// response time, noise, and readings rounded to the sensor's resolution.
type station struct {
	id, owner    string
	latE7, lonE7 int32
	rng          *rand.Rand
	phaseMs      int64 // its clock: an offset that wanders a few ms a reading
	micro, lp    [3]float64
	noise, bias  [3]float64
	started      bool
}

var (
	fieldStd = [3]float64{3, 0.3, 0.6}     // humidity %, pressure hPa, temperature °C
	microStd = [3]float64{1.5, 0.02, 0.25} //
	quantum  = [3]float64{0.1, 0.01, 0.01}
)

func (w *world) step() {
	a := math.Exp(-5.0 / 900)
	for m := range w.field {
		w.field[m] = w.field[m]*a + fieldStd[m]*math.Sqrt(1-a*a)*w.rng.NormFloat64()
	}
}

func newStation(r *rand.Rand, id, owner string, latE7, lonE7 int32) *station {
	s := &station{id: id, owner: owner, latE7: latE7, lonE7: lonE7, rng: rand.New(rand.NewPCG(r.Uint64(), r.Uint64())), phaseMs: r.Int64N(4000)}
	s.noise = [3]float64{0.2 + 0.2*r.Float64(), 0.01 + 0.02*r.Float64(), 0.02 + 0.03*r.Float64()}
	s.bias = [3]float64{2 * r.NormFloat64(), 0.8 * r.NormFloat64(), 0.3 * r.NormFloat64()}
	return s
}

// read is the station's reading at tick k of the world.
func (s *station) read(w *world, k int64) windowRow {
	base := [3]float64{65, 1013, 16}
	a, follow := math.Exp(-5.0/600), 1-math.Exp(-5.0/30)
	v := make([]int64, 3)
	for m := range 3 {
		s.micro[m] = s.micro[m]*a + microStd[m]*math.Sqrt(1-a*a)*s.rng.NormFloat64()
		air := w.field[m] + s.micro[m]
		if !s.started {
			s.lp[m] = air
		}
		s.lp[m] += follow * (air - s.lp[m])
		x := base[m] + s.bias[m] + s.lp[m] + s.noise[m]*s.rng.NormFloat64()
		v[m] = int64(math.Round(x/quantum[m])) * int64(math.Round(quantum[m]*1000))
	}
	s.started = true
	s.phaseMs += s.rng.Int64N(41) - 20
	return windowRow{kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, device: s.id, owner: s.owner, latE7: s.latE7, lonE7: s.lonE7,
		timeMs: tickMs(k) + s.phaseMs, receivedMs: tickMs(k) + s.phaseMs + 80, values: v}
}

// tickMs is tick k's time: the window of testEpoch starts at tick 0.
func tickMs(k int64) int64 {
	from, _ := DefaultScoring().Window(testLength, testEpoch)
	return from + k*5000
}

// ticks is how many 5 s ticks the window of testEpoch holds.
func ticks() int64 {
	from, to := DefaultScoring().Window(testLength, testEpoch)
	return (to - from) / 5000
}

// run judges rows with the default policy and returns the findings by
// device and reason, and the verdicts.
func run(t *testing.T, rows []windowRow, names []string) (map[string]Finding, map[string]string) {
	t.Helper()
	s := DefaultScoring()
	slices.SortStableFunc(rows, func(a, b windowRow) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		if a.device != b.device {
			return map[bool]int{true: -1, false: 1}[a.device < b.device]
		}
		return int(a.timeMs - b.timeMs)
	})
	from, to := s.Window(testLength, testEpoch)
	readings, witnesses := buildStreams(s, rows, names, from, to)
	findings, stop := judge(s.Information, testEpoch, readings, witnesses)
	out := map[string]Finding{}
	for _, f := range findings {
		out[f.Device+" "+f.Reason] = f
	}
	return out, stop
}

// neighbourhood is 12 honest stations in clusters 100 m to 2 km apart, and
// the world they stand in.
func neighbourhood(seed uint64) (*world, []*station) {
	r := rand.New(rand.NewPCG(seed, 7))
	w := &world{rng: rand.New(rand.NewPCG(seed, 8))}
	var st []*station
	for c := range 4 {
		lat := 387_000_000 + int32(c)*300_000
		for j := range 3 {
			st = append(st, newStation(r, fmt.Sprintf("ws-%d%d", c, j), "owner-h", lat, -91_400_000))
			lat += int32(900 + r.IntN(18_000)) // the next 100 m to 2 km north, in 1e-7 degrees of latitude
		}
	}
	return w, st
}

// withNoise is a weather station's values (humidity, pressure,
// temperature) plus uniform noise of up to steps grid steps (1 %, 0.1 hPa,
// 0.1 °C) each: a copier hiding its copy.
func withNoise(r *rand.Rand, values []int64, steps float64) []int64 {
	out := slices.Clone(values)
	for m, g := range []int64{1000, 100, 100} {
		out[m] += int64(math.Round((2*r.Float64() - 1) * steps * float64(g)))
	}
	return out
}

// withCopy is neighbourhood(1)'s readings and ws-copy's, a kilometre north
// of ws-11 (the fifth station): its values withNoise, dated and received
// when date says.
func withCopy(seed uint64, noise float64, date func(row windowRow, k int64, r *rand.Rand) (timeMs, receivedMs int64)) ([]*station, []windowRow) {
	w, st := neighbourhood(1)
	r := rand.New(rand.NewPCG(seed, seed))
	var rows []windowRow
	for k := range ticks() {
		w.step()
		for i, s := range st {
			row := s.read(w, k)
			rows = append(rows, row)
			if i == 4 {
				cp := row
				cp.device, cp.owner, cp.latE7 = "ws-copy", "owner-c", row.latE7+90_000
				cp.timeMs, cp.receivedMs = date(row, k, r)
				cp.values = withNoise(r, row.values, noise)
				rows = append(rows, cp)
			}
		}
	}
	return st, rows
}

// TestTrackedCopy: a noisy copy of a station, a kilometre off and a second
// late, tracks it; the station it copies, and honest neighbours sharing
// the same weather 100 m to 2 km apart, do not.
func TestTrackedCopy(t *testing.T) {
	for _, noise := range []float64{0, 0.25, 0.5, 0.75} { // grid steps: 0.1 °C, 1 %, 0.1 hPa; from 1 on, NOISY_STREAM
		t.Run(fmt.Sprintf("noise %.2f steps", noise), func(t *testing.T) {
			st, rows := withCopy(2, noise, func(row windowRow, _ int64, _ *rand.Rand) (int64, int64) { return row.timeMs + 1000, row.receivedMs })
			found, stop := run(t, rows, weatherNames)
			if f := found["ws-copy "+ReasonTracked]; !f.Flagged || f.Other != "ws-11" || stop["ws-copy"] != ReasonTracked {
				t.Errorf("the copy: %+v, verdict %q; want TRACKED_STREAM of ws-11", f, stop["ws-copy"])
			} else if f.LagMs < 900 || f.LagMs > 1100 {
				t.Errorf("the copy runs %d ms behind, want about 1000", f.LagMs)
			}
			for _, s := range st {
				if stop[s.id] != "" {
					t.Errorf("honest %s stopped: %s %+v", s.id, stop[s.id], found[s.id+" "+stop[s.id]])
				}
				if f := found[s.id+" "+ReasonTracked]; f.Value > 2000 && f.Other != "ws-copy" {
					t.Errorf("honest %s comes within a standard error of tracking %s: %+v", s.id, f.Other, f)
				}
			}
		})
	}
}

// TestCopyOnABoundary: a copy dated on the boundaries between intervals,
// a few hundred ms either side by turns, is still one reading behind its
// original at every reading: each stream is cut into intervals at its own
// phase. (Cut on a common grid, the copy fell in the original's interval
// and the next by turns, split between two lags: in the simulator, a copy
// with a quarter of a grid step of noise passed at half its evidence.)
func TestCopyOnABoundary(t *testing.T) {
	for _, noise := range []float64{0, 0.25, 0.5, 0.75} {
		t.Run(fmt.Sprintf("noise %.2f steps", noise), func(t *testing.T) {
			st, rows := withCopy(4, noise, func(row windowRow, k int64, r *rand.Rand) (int64, int64) {
				return tickMs(k) + 5000 + r.Int64N(601) - 300, row.receivedMs + 200 // the next boundary, give or take 300 ms
			})
			found, stop := run(t, rows, weatherNames)
			if f := found["ws-copy "+ReasonTracked]; !f.Flagged || f.Other != "ws-11" || stop["ws-copy"] != ReasonTracked {
				t.Errorf("the copy: %+v, verdict %q; want TRACKED_STREAM of ws-11", f, stop["ws-copy"])
			}
			// Every reading matched: an exact copy is exact.
			if f := found["ws-copy "+ReasonTracked]; f.Samples < ticks()*9/10 || (noise == 0 && f.Value != maxU) {
				t.Errorf("the copy: %d of %d changes matched, value %d; want nine in ten at least, and an exact copy exact", f.Samples, ticks(), f.Value)
			}
			for _, s := range st {
				if stop[s.id] != "" {
					t.Errorf("honest %s stopped: %s %+v", s.id, stop[s.id], found[s.id+" "+stop[s.id]])
				}
			}
		})
	}
}

// TestExactCopy: two streams that are the same values track each other;
// the copy is the one ingest received later, though it dates its readings
// a second earlier than its original's (a copier dates readings as it
// likes, but cannot send a copy before the original is out).
func TestExactCopy(t *testing.T) {
	w, st := neighbourhood(3)
	var rows []windowRow
	for k := range ticks() {
		w.step()
		row := st[0].read(w, k)
		cp := row
		cp.device, cp.owner, cp.latE7, cp.timeMs, cp.receivedMs = "ws-000-copy", "owner-c", row.latE7+50_000, row.timeMs-1000, row.receivedMs+300
		rows = append(rows, row, cp)
	}
	found, stop := run(t, rows, weatherNames)
	if stop["ws-000-copy"] != ReasonTracked || stop[st[0].id] != "" {
		t.Errorf("verdicts %v; want the one received later, ws-000-copy, tracked", stop)
	}
	// Named the other way round, the copy is still the one received later.
	for i := range rows {
		rows[i].device = map[string]string{"ws-000-copy": "ws-aaa", st[0].id: "ws-zzz"}[rows[i].device]
	}
	if _, stop := run(t, rows, weatherNames); stop["ws-aaa"] != ReasonTracked || stop["ws-zzz"] != "" {
		t.Errorf("renamed: verdicts %v; want ws-aaa (the copy) tracked", stop)
	}
	if f := found[st[0].id+" "+ReasonTracked]; f.Flagged || f.Value != maxU {
		t.Errorf("the original: %+v; want its evidence kept, unflagged", f)
	}
}

// TestLoopedStream: a station that loops three minutes of readings (with a
// little jitter) repeats its own past; honest stations do not.
func TestLoopedStream(t *testing.T) {
	for _, jitter := range []float64{0, 0.25} {
		w, st := neighbourhood(4)
		r := rand.New(rand.NewPCG(5, 5))
		var rows []windowRow
		var tape [][]int64
		for k := range ticks() {
			w.step()
			for _, s := range st {
				rows = append(rows, s.read(w, k))
			}
			row := st[5].read(w, k)
			row.device, row.owner = "ws-loop", "owner-l"
			if k < 36 {
				tape = append(tape, row.values)
			} else {
				row.values = withNoise(r, tape[k%36], jitter)
			}
			rows = append(rows, row)
		}
		found, stop := run(t, rows, weatherNames)
		f := found["ws-loop "+ReasonLooped]
		if stop["ws-loop"] != ReasonLooped || f.Other != "" || f.LagMs < 179_000 || f.LagMs > 181_000 {
			t.Errorf("jitter %.2f: the loop: %+v, verdict %q; want LOOPED_STREAM with a 180 s period", jitter, f, stop["ws-loop"])
		}
		for _, s := range st {
			if g := found[s.id+" "+ReasonLooped]; g.Flagged || g.Value > DefaultInformation().LoopZMilli*3/4 {
				t.Errorf("honest %s: %+v; want well under the threshold", s.id, g)
			}
		}
	}
}

// TestNoisyStream: a copy hidden under three grid steps of noise is
// noisier than any sensor of the kind; the honest stations are not.
func TestNoisyStream(t *testing.T) {
	w, st := neighbourhood(6)
	r := rand.New(rand.NewPCG(6, 6))
	var rows []windowRow
	for k := range ticks() {
		w.step()
		for i, s := range st {
			row := s.read(w, k)
			rows = append(rows, row)
			if i == 2 {
				row.device, row.values = "ws-noisy", withNoise(r, row.values, 3)
				rows = append(rows, row)
			}
		}
	}
	found, stop := run(t, rows, weatherNames)
	if stop["ws-noisy"] == "" || !found["ws-noisy "+ReasonNoisy].Flagged {
		t.Errorf("the noisy copy: %+v, verdict %q", found["ws-noisy "+ReasonNoisy], stop["ws-noisy"])
	}
	for _, s := range st {
		if f := found[s.id+" "+ReasonNoisy]; f.Flagged || f.Value > 9000 || f.Value <= 0 {
			t.Errorf("honest %s: %+v; want measured, and under 90%% of the ceiling", s.id, f)
		}
	}
}

// TestZMilliIsTheStatistic holds the exact integer statistic to its
// floating-point formula on random data, slopes from 0 to 3: inside (½, 2)
// the distance from the nearer bound in standard errors, else 0.
func TestZMilliIsTheStatistic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for range 200 {
		n := 10 + r.IntN(300)
		a, b := make([]int64, n), make([]int64, n)
		beta := r.Float64() * 3
		for i := range a {
			a[i] = int64(r.NormFloat64() * 300)
			b[i] = int64(beta*float64(a[i]) + r.NormFloat64()*200)
		}
		m := compare(a, b, 0, 0)
		var sa, sb, saa, sbb, sab float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			sa, sb, saa, sbb, sab = sa+x, sb+y, saa+x*x, sbb+y*y, sab+x*y
		}
		N := float64(n)
		A, B, C := N*saa-sa*sa, N*sbb-sb*sb, N*sab-sa*sb
		se := math.Sqrt((B*A - C*C) / (A * A * (N - 2)))
		u := min(C/A-0.5, 2-C/A) / se // inside (½, 2), from the nearer bound
		want := int64(math.Floor(1000 * u))
		if u <= 0 {
			want = 0
		}
		if got := m.zMilli(5000); got < want-1 || got > want+1 {
			t.Fatalf("n %d, slope %.2f: zMilli %d, the formula gives %d", n, beta, got, want)
		}
		if bp, f := m.slopeBP(), math.Floor(C/A*10_000); float64(bp) < f-1 || float64(bp) > f+1 {
			t.Fatalf("slopeBP %d, the formula gives %.0f", bp, f)
		}
	}
	// Sums too large for 64 bits are exact in the big arithmetic.
	huge := match{n: 60_000, a: math.MaxInt64 / 3, b: math.MaxInt64 / 3, c: math.MaxInt64/3 - 1}
	if huge.zMilli(5000) <= 0 {
		t.Errorf("a near-perfect fit of large sums: zMilli %d", huge.zMilli(5000))
	}
}

// TestEvidenceReasonsAreDocumented: every information check's code has its
// row in the validators' catalog and its part in docs/scoring.md.
func TestEvidenceReasonsAreDocumented(t *testing.T) {
	catalog, err := os.ReadFile("../validators/README.md")
	if err != nil {
		t.Fatal(err)
	}
	scoring, err := os.ReadFile("../docs/scoring.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range EvidenceReasons {
		if !strings.Contains(string(catalog), "| `"+r+"` |") {
			t.Errorf("validators/README.md has no catalog row for %s", r)
		}
		if !strings.Contains(string(scoring), "`"+r+"`") {
			t.Errorf("docs/scoring.md does not explain %s", r)
		}
	}
}
