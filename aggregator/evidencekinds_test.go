package aggregator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The information checks for the counter kinds (energy, bandwidth), the
// coverage kind's witness reports, and several identities behind one clock.

// meter is an honest household meter: an always-on base load, small loads
// (lights, chargers) switching every minute or two, a fridge switching on
// and off at irregular times, appliances switched on now and then, a
// little noise, and the energy counter integrating the power.
type meter struct {
	id, owner    string
	latE7, lonE7 int32
	rng          *rand.Rand
	phaseMs      int64
	base, fridge float64
	small        float64
	fridgeLeft   int // ticks until the fridge switches
	appliance    float64
	applianceFor int
	energy       float64 // Wh
}

var meterNames = []string{"energy_wh", "power_w"} // sorted, as streamNames sorts Track

func newMeter(r *rand.Rand, id, owner string, latE7 int32) *meter {
	return &meter{id: id, owner: owner, latE7: latE7, lonE7: -91_400_000, rng: rand.New(rand.NewPCG(r.Uint64(), r.Uint64())),
		phaseMs: r.Int64N(4000), base: 100 + 150*r.Float64(), fridgeLeft: r.IntN(200), energy: float64(r.IntN(1 << 30))}
}

// power is the meter's load at the next tick (W).
func (m *meter) power() float64 {
	if m.fridgeLeft--; m.fridgeLeft <= 0 {
		if m.fridge > 0 {
			m.fridge, m.fridgeLeft = 0, 180+m.rng.IntN(180) // off 15 to 30 minutes
		} else {
			m.fridge, m.fridgeLeft = 100+40*m.rng.Float64(), 120+m.rng.IntN(120) // on 10 to 20
		}
	}
	if m.applianceFor--; m.applianceFor <= 0 {
		m.appliance = 0
		if m.rng.IntN(120) == 0 { // about once in ten minutes
			m.appliance, m.applianceFor = 500+2500*m.rng.Float64(), 12+m.rng.IntN(170)
		}
	}
	if m.rng.IntN(20) == 0 {
		m.small = float64(m.rng.IntN(4)) * (5 + 20*m.rng.Float64())
	}
	return m.base + m.small + m.fridge + m.appliance + 3*m.rng.NormFloat64()
}

// row is a reading of power p at tick k: the counter moved on by p for 5 s.
func (m *meter) row(k int64, p float64) windowRow {
	m.energy += p * 5 / 3600
	m.phaseMs += m.rng.Int64N(41) - 20
	return windowRow{kind: pb.ResourceKind_RESOURCE_KIND_ENERGY, device: m.id, owner: m.owner, latE7: m.latE7, lonE7: m.lonE7,
		timeMs: tickMs(k) + m.phaseMs, values: []int64{int64(m.energy * 1000), int64(math.Round(p)) * 1000}}
}

// TestCounterChecks: a meter whose power and counter follow another's, a
// meter that loops its own recorded past, and a meter whose load is a
// random walk with even steps (a generator's, not a load's), beside honest
// meters of the same street.
func TestCounterChecks(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	var honest []*meter
	for i := range 10 {
		honest = append(honest, newMeter(r, fmt.Sprintf("em-%02d", i), "owner-h", 387_000_000+int32(i)*2_000))
	}
	follower := newMeter(r, "em-follows", "owner-c", 387_050_000)
	looper := newMeter(r, "em-loops", "owner-l", 387_060_000)
	walker := newMeter(r, "em-walks", "owner-w", 387_070_000)
	walk := 2000.0
	var rows []windowRow
	var tape []float64
	for k := range ticks() {
		var target float64
		for i, m := range honest {
			p := m.power()
			rows = append(rows, m.row(k, p))
			if i == 3 {
				target = p
			}
		}
		rows = append(rows, follower.row(k, target+5*r.NormFloat64()))
		if p := looper.power(); k < 48 {
			tape = append(tape, p)
			rows = append(rows, looper.row(k, p))
		} else {
			rows = append(rows, looper.row(k, tape[k%48]))
		}
		walk = min(max(walk+float64(r.IntN(401)-200), 0), 10_000)
		rows = append(rows, walker.row(k, walk))
	}
	found, stop := run(t, rows, meterNames)
	for device, reason := range map[string]string{"em-follows": ReasonTracked, "em-loops": ReasonLooped, "em-walks": ReasonGenerated} {
		if stop[device] != reason {
			t.Errorf("%s: verdict %q, want %s (%+v)", device, stop[device], reason, found[device+" "+reason])
		}
	}
	if f := found["em-follows "+ReasonTracked]; f.Other != "em-03" {
		t.Errorf("the follower tracked %q, want em-03", f.Other)
	}
	for _, m := range honest {
		if stop[m.id] != "" {
			t.Errorf("honest %s: %s %+v", m.id, stop[m.id], found[m.id+" "+stop[m.id]])
		}
		if k := found[m.id+" "+ReasonGenerated]; k.Value < 4000 {
			t.Errorf("honest %s: its load's changes have kurtosis %d thousandths; a load's steps should give far more than noise's 3000", m.id, k.Value)
		}
	}
}

// TestWitnessLoop: a hotspot that reports the same pattern of witnesses
// (beaconer, signal) over and over repeats itself; one that hears two
// beaconers in turn, with fading, does not.
func TestWitnessLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	fading := func() int64 { return int64(10 * math.Log10(-math.Log(1-r.Float64())) * 1000) } // Rayleigh, in thousandths of a dB
	var rows []windowRow
	type heard struct {
		beaconer   string
		rssi, snrV int64
	}
	var tape []heard
	for k := range ticks() {
		at := tickMs(k) + 2500
		b := []string{"hs-near", "hs-far"}[k%2]
		mean := map[string]int64{"hs-near": -80_000, "hs-far": -105_000}[b]
		rows = append(rows, windowRow{kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT, device: "hs-honest", owner: "o1", latE7: 387_000_000, lonE7: -91_400_000,
			timeMs: at, witnessOf: b, values: []int64{mean + fading(), 8_000 + fading()/2}})
		h := heard{b, mean + fading(), 8_000 + fading()/2}
		if k >= 12 {
			h = tape[k%12]
		} else {
			tape = append(tape, h)
		}
		rows = append(rows, windowRow{kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT, device: "hs-loop", owner: "o2", latE7: 387_100_000, lonE7: -91_400_000,
			timeMs: at + 7, witnessOf: h.beaconer, values: []int64{h.rssi, h.snrV}})
	}
	found, stop := run(t, rows, []string{"rssi_dbm", "snr_db"})
	if f := found["hs-loop "+ReasonLooped]; stop["hs-loop"] != ReasonLooped || f.Measurement[:8] != "witness:" || f.LagMs%60_000 != 0 {
		t.Errorf("the looping hotspot: %+v, verdict %q; want LOOPED_STREAM of its witnesses, every 12 reports (60 s, or a multiple)", f, stop["hs-loop"])
	}
	if stop["hs-honest"] != "" || found["hs-honest "+ReasonLooped].Value > DefaultInformation().LoopZMilli*3/4 {
		t.Errorf("the honest hotspot: %+v", found["hs-honest "+ReasonLooped])
	}
}

// TestSharedClock: three identities of one owner at one spot sent by one
// program keep time together and are stopped; the owner's real station at
// the same spot, with its own clock, is not; nor are another owner's
// devices that happen to read at the same moments.
func TestSharedClock(t *testing.T) {
	w, st := neighbourhood(13)
	real := st[0]
	r := rand.New(rand.NewPCG(13, 13))
	fakes := []*meter{newMeter(r, "em-fake", real.owner, real.latE7+100), newMeter(r, "em-fake2", real.owner, real.latE7+200)}
	other := newMeter(r, "em-other", "owner-o", real.latE7+300)
	var rows []windowRow
	for k := range ticks() {
		w.step()
		rows = append(rows, real.read(w, k))
		for _, m := range append(slices.Clone(fakes), other) {
			row := m.row(k, m.power())
			row.timeMs = tickMs(k) + 1234 // one program's tick
			rows = append(rows, row)
		}
	}
	all := []string{"energy_wh", "humidity_pct", "power_w", "pressure_hpa", "temperature_c"}
	for i, row := range rows { // each kind's values, in the order of all
		names := map[bool][]string{true: weatherNames, false: meterNames}[row.kind == pb.ResourceKind_RESOURCE_KIND_WEATHER]
		v := filled(len(all))
		for j, n := range names {
			v[slices.Index(all, n)] = row.values[j]
		}
		rows[i].values = v
	}
	found, stop := run(t, rows, all)
	for _, m := range fakes {
		if f := found[m.id+" "+ReasonSharedClock]; stop[m.id] != ReasonSharedClock || f.Value != 0 {
			t.Errorf("%s: %+v, verdict %q", m.id, f, stop[m.id])
		}
	}
	if stop[real.id] != "" || stop["em-other"] != "" {
		t.Errorf("the owner's real station: %q %+v; the other owner's meter: %q", stop[real.id], found[real.id+" "+ReasonSharedClock], stop["em-other"])
	}
}

// TestFindingsDoNotDependOnOrder: the same window's rows, read in another
// order of devices, give the same findings (a replay, or verify-epoch,
// must find exactly what the live close did).
func TestFindingsDoNotDependOnOrder(t *testing.T) {
	w, st := neighbourhood(14)
	var rows []windowRow
	for k := range ticks() {
		w.step()
		for _, s := range st {
			rows = append(rows, s.read(w, k))
		}
	}
	s := DefaultScoring()
	from, to := s.Window(testLength, testEpoch)
	judgeRows := func(rows []windowRow) []Finding {
		readings, witnesses := buildStreams(s, rows, weatherNames, from, to)
		found, _ := judge(s.Information, testEpoch, readings, witnesses)
		return found
	}
	slices.SortStableFunc(rows, func(a, b windowRow) int { return map[bool]int{true: -1, false: 1}[a.device < b.device] })
	first := judgeRows(rows)
	slices.SortStableFunc(rows, func(a, b windowRow) int { return map[bool]int{true: 1, false: -1}[a.device < b.device] })
	if len(first) < len(st)+4 {
		t.Fatalf("%d findings of %d stations: the checks did not run", len(first), len(st))
	}
	if second := judgeRows(rows); !slices.Equal(first, second) {
		t.Errorf("findings differ with the devices' order:\n%v\n%v", first, second)
	}
}
