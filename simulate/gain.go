package simulate

// What the settler paid each strategy, against what is fair: the gain
// columns of the detection report.

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// paidByDevice is each device's pay over the epochs: its share of each
// epoch's emission by its device_scores score (what the settler splits),
// and the epochs whose pay an information check stopped, by reason.
func paidByDevice(ctx context.Context, conn driver.Conn, emission map[uint64]*big.Int) (map[string]*big.Int, map[string]map[string]uint64, error) {
	epochs := make([]uint64, 0, len(emission))
	for e := range emission {
		epochs = append(epochs, e)
	}
	rows, err := tables.DeviceScores(ctx, conn, "WHERE has(?, epoch)", epochs)
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: %w", err)
	}
	totals := map[uint64]uint64{} // each epoch's score, which its emission is split by
	for _, d := range rows {
		totals[d.Epoch] += d.Score
	}
	out, stopped := map[string]*big.Int{}, map[string]map[string]uint64{}
	for _, d := range rows {
		if d.Evidence != "" {
			if stopped[d.DeviceID] == nil {
				stopped[d.DeviceID] = map[string]uint64{}
			}
			stopped[d.DeviceID][d.Evidence]++
		}
		if totals[d.Epoch] == 0 || d.Score == 0 {
			continue
		}
		x := new(big.Int).Mul(emission[d.Epoch], new(big.Int).SetUint64(d.Score))
		x.Quo(x, new(big.Int).SetUint64(totals[d.Epoch]))
		if out[d.DeviceID] == nil {
			out[d.DeviceID] = new(big.Int)
		}
		out[d.DeviceID].Add(out[d.DeviceID], x)
	}
	return out, stopped, nil
}

func epochEmissions(epochs map[uint64]*epochInfo) map[uint64]*big.Int {
	out := make(map[uint64]*big.Int, len(epochs))
	for e, info := range epochs {
		out[e] = info.emission
	}
	return out
}

// physical is how many physical devices a strategy's devices stand for:
// fabrications (a stream replayed, copied, looped, made up, made at home,
// or signed with another key) stand for none, a Sybil ring of four for one,
// a border pair for one, a multikind site of four for its real station,
// every other cheat for itself.
func physical(s fleet.Strategy, devices int) int {
	switch s {
	case fleet.Replay, fleet.Clone, fleet.Constant, fleet.Forge, fleet.Counterfeit, fleet.Dither, fleet.Hopper,
		fleet.NearCopy, fleet.Loop, fleet.CounterCopy, fleet.CounterLoop, fleet.WitnessLoop:
		return 0
	case fleet.Sybil, fleet.MultiKind:
		return (devices + 3) / 4
	case fleet.Border:
		return (devices + 1) / 2
	}
	return devices
}

// fairGain fills each row's Paid, Fair and Gain: Fair is the mean pay of an
// honest device of each kind, times the physical devices the strategy
// stands for (one, for a fabrication), of the kinds they are (a multikind
// site's real station is a weather station).
func fairGain(rows map[string]*Row, devices []*fleet.Device, paid map[string]*big.Int) {
	honestSum, honestN := map[string]*big.Int{}, map[string]int64{}
	byVariant := map[string][]*fleet.Device{}
	for _, d := range devices {
		byVariant[d.Variant] = append(byVariant[d.Variant], d)
		if d.Strategy == fleet.Honest {
			k := d.Kind.String()
			if honestSum[k] == nil {
				honestSum[k] = new(big.Int)
			}
			if p := paid[d.ID]; p != nil {
				honestSum[k].Add(honestSum[k], p)
			}
			honestN[k]++
		}
	}
	mean := func(kind string) *big.Int {
		if honestN[kind] == 0 {
			return new(big.Int)
		}
		return new(big.Int).Quo(honestSum[kind], big.NewInt(honestN[kind]))
	}
	for label, ds := range byVariant {
		r, s := rows[label], ds[0].Strategy
		got, fair := new(big.Int), new(big.Int)
		for _, d := range ds {
			if p := paid[d.ID]; p != nil {
				got.Add(got, p)
			}
		}
		r.PhysicalDevices = physical(s, len(ds))
		switch {
		case r.PhysicalDevices == 0:
			fair.Set(mean(ds[0].Kind.String()))
		case s == fleet.MultiKind:
			fair.Mul(mean("RESOURCE_KIND_WEATHER"), big.NewInt(int64(r.PhysicalDevices)))
		default:
			// The strategy's devices' kinds, in proportion to the physical devices.
			for _, d := range ds {
				fair.Add(fair, mean(d.Kind.String()))
			}
			fair.Mul(fair, big.NewInt(int64(r.PhysicalDevices)))
			fair.Quo(fair, big.NewInt(int64(len(ds))))
		}
		r.Paid, r.Fair = got.String(), fair.String()
		if fair.Sign() > 0 {
			bp := new(big.Int).Mul(got, big.NewInt(10_000))
			r.GainBasisPoints = bp.Quo(bp, fair).Int64()
		}
		if s != fleet.Honest {
			r.GoalBasisPoints = 10_100
			if r.PhysicalDevices == 0 {
				r.GoalBasisPoints = 100
			}
			r.Met = r.GainBasisPoints <= r.GoalBasisPoints
		}
	}
}

// honestLoss is what the cheating cost the honest devices, in basis points
// of their scores: the honest devices' device_scores in the run's epochs,
// against the same devices scored again among the devices that would be
// there without the cheating, each physical device a cheat stands for once
// (one key of a Sybil ring or a border pair, a multikind site's real
// station, a trickler or drifter as it was scored) and no fabrication. A
// paid fabrication, or a second key sharing an honest neighbour's cell or
// crowding its area, shows here; a physical device sharing its neighbour's
// cell, cheat or not, is fair and does not. Pay splits a fixed emission, so
// the scores, not the pay, are what a cheater can take from a neighbour.
// In the baseline, no honest device has a fraud or an information finding
// against it: whatever the checks wrongly took from one is lost too.
//
// With keepPhysical false the baseline has the honest devices alone: what
// every cheater's device cost them, fair sharing with physical ones
// included.
func honestLoss(ctx context.Context, conn driver.Conn, epochs []uint64, devices []*fleet.Device, s aggregator.Scoring, keepPhysical bool) (int64, error) {
	honest, kept := map[string]bool{}, map[string]bool{}
	seen := map[string]int{}
	for _, d := range devices {
		honest[d.ID] = d.Strategy == fleet.Honest
		n := seen[d.Variant]
		seen[d.Variant]++
		switch {
		case d.Strategy == fleet.Honest:
			kept[d.ID] = true
		case !keepPhysical, physical(d.Strategy, 1) == 0: // a fabrication
		case d.Strategy == fleet.Sybil, d.Strategy == fleet.MultiKind:
			kept[d.ID] = n%4 == 0
		case d.Strategy == fleet.Border:
			kept[d.ID] = n%2 == 0
		default:
			kept[d.ID] = true
		}
	}
	rows, err := tables.DeviceScores(ctx, conn, "WHERE has(?, epoch)", epochs)
	if err != nil {
		return 0, fmt.Errorf("simulate: %w", err)
	}
	byEpoch := map[uint64][]aggregator.DeviceScore{}
	var with uint64
	for _, row := range rows {
		d := aggregator.DeviceScore{DeviceScore: row}
		if honest[d.DeviceID] {
			with += d.Score
		}
		if kept[d.DeviceID] {
			if honest[d.DeviceID] {
				d.Frauds, d.Evidence = 0, ""
			}
			byEpoch[d.Epoch] = append(byEpoch[d.Epoch], d)
		}
	}
	var without uint64
	for _, ds := range byEpoch {
		aggregator.Rescore(ds, s)
		for _, d := range ds {
			if honest[d.DeviceID] {
				without += d.Score
			}
		}
	}
	if without == 0 {
		return 0, nil
	}
	return int64((without - min(with, without)) * 10_000 / without), nil
}
