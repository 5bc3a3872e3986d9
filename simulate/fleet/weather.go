package fleet

// The air the fleet stands in: what honest devices near each other share.
// Two real weather stations a few hundred metres apart see the same fronts,
// clouds and daily cycle and differ by their siting (a microclimate), their
// calibration and their noise; meters on one feeder see the same voltage.
// The information checks must pay such neighbours in full while stopping
// copies of them, so the honest fleet is built the way real neighbours are.

import (
	"math"
	"math/rand/v2"
	"time"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// The shared fields, each a mean-reverting walk on every point of a grid
// and read between the points by bilinear interpolation: devices 100 m
// apart share nearly all of it, devices 10 km apart little.
const (
	fieldTemperature = iota // °C
	fieldHumidity           // %
	fieldPressure           // hPa
	fieldVoltage            // V, a feeder's
	fields
)

var (
	fieldStd = [fields]float64{0.6, 3, 0.3, 2}
	fieldTau = [fields]time.Duration{15 * time.Minute, 15 * time.Minute, time.Hour, 5 * time.Minute}
)

// gridStepE7 is the grid's spacing, 1e-7 degrees (about 2 km north-south,
// 1.6 km east-west at Lisbon's latitude); the grid spans gridN by gridN
// points around the fleet's centre, and positions beyond it read its edge.
const (
	gridStepE7 = 180_000
	gridN      = 32
)

type air struct {
	center *pb.Location
	rng    *rand.Rand
	grid   [fields][gridN][gridN]float64
	atMs   int64
}

func newAir(center *pb.Location, seed uint64) *air {
	a := &air{center: center, rng: rand.New(rand.NewPCG(seed, 0x61697221))}
	for f := range fields {
		for i := range gridN {
			for j := range gridN {
				a.grid[f][i][j] = fieldStd[f] * a.rng.NormFloat64()
			}
		}
	}
	return a
}

// advance moves every field on to atMs (called once a tick, before the
// devices read it).
func (a *air) advance(atMs int64) {
	if a.atMs == 0 || atMs <= a.atMs {
		a.atMs = max(a.atMs, atMs)
		return
	}
	dt := float64(atMs - a.atMs)
	a.atMs = atMs
	for f := range fields {
		keep := math.Exp(-dt / float64(fieldTau[f].Milliseconds()))
		kick := fieldStd[f] * math.Sqrt(1-keep*keep)
		for i := range gridN {
			for j := range gridN {
				a.grid[f][i][j] = a.grid[f][i][j]*keep + kick*a.rng.NormFloat64()
			}
		}
	}
}

// at is field f at a position, with the day's cycle for the weather: two
// degrees warmer in the afternoon (and the air drier, three points of
// humidity a degree), the pressure's twice-daily tide.
func (a *air) at(f int, loc *pb.Location, atMs int64) float64 {
	x := float64(loc.LatE7-a.center.LatE7)/gridStepE7 + gridN/2
	y := float64(loc.LonE7-a.center.LonE7)/gridStepE7 + gridN/2
	x, y = min(max(x, 0), gridN-1.001), min(max(y, 0), gridN-1.001)
	i, j := int(x), int(y)
	fx, fy := x-float64(i), y-float64(j)
	g := &a.grid[f]
	v := g[i][j]*(1-fx)*(1-fy) + g[i+1][j]*fx*(1-fy) + g[i][j+1]*(1-fx)*fy + g[i+1][j+1]*fx*fy
	day := 2 * math.Pi * float64(atMs%86_400_000) / 86_400_000
	switch f {
	case fieldTemperature:
		v += -2 * math.Cos(day-0.6)
	case fieldHumidity:
		v -= 3 * a.at(fieldTemperature, loc, atMs)
	case fieldPressure:
		v += 0.5 * math.Cos(2*day)
	}
	return v
}
