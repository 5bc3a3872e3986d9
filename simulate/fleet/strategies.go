package fleet

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Strategy is what a simulated device does.
type Strategy string

// The strategies. Honest devices measure; each other strategy is one way of
// cheating, named for the report.
const (
	Honest   Strategy = "honest"
	Replay   Strategy = "replay"   // after three readings, only re-sends those
	Clock    Strategy = "clock"    // dates its readings ten minutes ahead, to be paid in a later epoch too
	Inflate  Strategy = "inflate"  // reports values beyond what the kind can measure, or sudden jumps
	Constant Strategy = "constant" // fabricates data: the same values every time
	Spoof    Strategy = "spoof"    // reports from 5 km away from where it was registered, hopping about
	Clone    Strategy = "clone"    // copies an honest device's readings as its own
	Sybil    Strategy = "sybil"    // one of four devices in one spot, all sending the same data
	Witness  Strategy = "witness"  // a hotspot reporting witnesses of beacons it never heard
	Flood    Strategy = "flood"    // sends ten readings a tick, a tenth of a second apart
	Forge    Strategy = "forge"    // signs with a key that is not its registered one
	// Counterfeit is a device made at home: a key attested by a maker key
	// of its own, which the network does not know.
	Counterfeit Strategy = "counterfeit"

	// Strategies written from validators/README.md to stay just under each
	// documented threshold, or to straddle a region border.

	// Dither fabricates a constant with a dither of one unit: never the same
	// values twice in a row, so STUCK_SENSOR (exact repeats) never fires.
	Dither Strategy = "dither"
	// Trickle sends two readings per tick, 1001 ms apart: just over every
	// kind's minInterval, so RATE_EXCEEDED never fires.
	Trickle Strategy = "trickle"
	// Drifter reports from 450 m off its asserted location, under
	// maxDriftM (500 m): a device moved to a better spot that keeps
	// claiming the old one.
	Drifter Strategy = "drifter"
	// Border is one box with two keys, registered 110 m apart on either side
	// of a region border (a whole degree of latitude), both reporting the
	// same weather: SYBIL_CLUSTER and CLONED_STREAM compare devices within
	// a region only.
	Border Strategy = "border"
	// Hopper replays its old readings, moving its asserted location to
	// another region before each: the validators' history of a device is
	// kept per partition, and a region is a partition.
	Hopper Strategy = "hopper"

	// Streams without information of their own (docs/scoring.md), each
	// parameterized (Params) so that a sweep can look for where it stops
	// being caught.

	// NearCopy is a weather station that does not exist, a kilometre or so
	// from a real one, sending the real one's values plus Noise grid steps
	// of noise (0.1 °C, 1 %, 0.1 hPa), Delay after it.
	NearCopy Strategy = "nearcopy"
	// Loop is a weather station that does not exist: it records Length
	// readings of the air where it says it stands, then loops them with
	// fresh sequence numbers and times, Jitter grid steps added to each.
	Loop Strategy = "loop"
	// CounterCopy is a meter that does not exist whose power follows a real
	// meter's (Noise watts added), Delay after it, and whose counter
	// integrates it: a counter that advances like another meter's.
	CounterCopy Strategy = "countercopy"
	// CounterLoop is a meter that does not exist, looping Length recorded
	// readings of a household's power (Jitter watts added), its counter
	// integrating them: a counter that advances like its own past.
	CounterLoop Strategy = "counterloop"
	// WitnessLoop is a hotspot whose witness reports repeat a recorded
	// pattern of Length reports (beaconer, signal), each naming the
	// beaconer's latest real beacon.
	WitnessLoop Strategy = "witnessloop"
	// MultiKind is one site, several kinds: an owner's real weather station
	// and, at the same spot, an energy meter, a bandwidth node and a
	// hotspot that do not exist, their streams made up by one program
	// (random walks with even steps, counters integrating them), on its
	// clock, with Jitter ms of jitter on each identity's times. They come
	// four to a site.
	MultiKind Strategy = "multikind"
)

// Cheats lists the cheating strategies, in the order they are handed out.
var Cheats = []Strategy{Replay, Clock, Inflate, Constant, Spoof, Clone, Sybil, Witness, Flood, Forge, Counterfeit,
	Dither, Trickle, Drifter, Border, Hopper, NearCopy, Loop, CounterCopy, CounterLoop, WitnessLoop, MultiKind}

// Params are a parameterized strategy's settings (which each uses: its
// comment). A zero field keeps the strategy's default.
type Params struct {
	Noise  float64       // nearcopy: grid steps; countercopy: watts
	Delay  time.Duration // nearcopy, countercopy: after the original
	Length int           // loop, counterloop: readings; witnessloop: reports
	Jitter float64       // loop: grid steps; counterloop: watts; multikind: ms
}

// DefaultParams are each parameterized strategy's defaults: what the
// cheats seen on a live network did (noise of a few grid steps a moment
// after the original, loops of a few minutes).
func DefaultParams(s Strategy) Params {
	switch s {
	case NearCopy:
		return Params{Noise: 2, Delay: 1500 * time.Millisecond}
	case Loop:
		return Params{Length: 36, Jitter: 0.25}
	case CounterCopy:
		return Params{Noise: 20, Delay: 1500 * time.Millisecond}
	case CounterLoop:
		return Params{Length: 36, Jitter: 1}
	case WitnessLoop:
		return Params{Length: 12}
	}
	return Params{}
}

func (p Params) over(def Params) Params {
	if p.Noise == 0 {
		p.Noise = def.Noise
	}
	if p.Delay == 0 {
		p.Delay = def.Delay
	}
	if p.Length == 0 {
		p.Length = def.Length
	}
	if p.Jitter == 0 {
		p.Jitter = def.Jitter
	}
	return p
}

// Variant is a strategy with its parameters, as the fleet hands it out; a
// sweep hands out one variant per parameter value.
type Variant struct {
	Strategy Strategy
	Params   Params
	// Label names the variant in the report: the strategy, and the swept
	// parameter's value in a sweep.
	Label string
}

// SweepParam is a parameter a sweep may raise: a Params field by name.
func SweepParam(s Strategy, name string) (string, error) {
	params := map[Strategy][]string{NearCopy: {"noise", "delay"}, Loop: {"length", "jitter"}, CounterCopy: {"noise", "delay"},
		CounterLoop: {"length", "jitter"}, WitnessLoop: {"length"}, MultiKind: {"jitter"}}
	names, ok := params[s]
	if !ok {
		return "", fmt.Errorf("fleet: %s has no parameter to sweep (parameterized: nearcopy, loop, countercopy, counterloop, witnessloop, multikind)", s)
	}
	if name == "" {
		return names[0], nil
	}
	for _, n := range names {
		if n == name {
			return n, nil
		}
	}
	return "", fmt.Errorf("fleet: %s has no parameter %q (it has %s)", s, name, strings.Join(names, ", "))
}

// With returns the variant of s with parameter name set to v, the others
// at their defaults.
func With(s Strategy, name string, v float64) Variant {
	return WithBase(s, DefaultParams(s), name, v)
}

// WithBase returns the variant of s with parameter name set to v, the
// others as in base.
func WithBase(s Strategy, base Params, name string, v float64) Variant {
	return Variant{Strategy: s, Params: base.Set(name, v), Label: fmt.Sprintf("%s %s=%s", s, name, strconv.FormatFloat(v, 'f', -1, 64))}
}

// Set returns p with parameter name (noise, delay in ms, length, jitter)
// set to v.
func (p Params) Set(name string, v float64) Params {
	switch name {
	case "noise":
		p.Noise = v
	case "delay":
		p.Delay = time.Duration(v * float64(time.Millisecond))
	case "length":
		p.Length = int(v)
	case "jitter":
		p.Jitter = v
	}
	if v == 0 { // a zero would mean the default: say none with a tiny value
		p = p.zero(name)
	}
	return p
}

// zero sets a field to its smallest value (no noise, no jitter).
func (p Params) zero(name string) Params {
	switch name {
	case "noise":
		p.Noise = 1e-9
	case "jitter":
		p.Jitter = 1e-9
	case "delay":
		p.Delay = time.Millisecond
	}
	return p
}
