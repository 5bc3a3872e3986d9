package aggregator

// The loop check: a stream that repeats its own past.

import (
	"math/big"
)

// fold is a stream's values of one measurement folded at a period: the
// values at the same phase of every pass through the window, against the
// values at different phases. A loop replays the same sequence each pass
// (its jitter aside), so its values agree at each phase across passes; a
// real stream's values at one phase of different passes are as far apart
// as its noise and drift make them, and nothing ties them to the phase.
type fold struct {
	meas, period int
	n, phases    int64 // values folded, and phases with one or more
	first, last  int   // the first folded index, and the last of its pass
	zMilli       int64 // the between-phase share's standard score, thousandths
	shareBP      int64 // the between-phase share of the variance, basis points
}

// better: the stronger fold, then the shorter period, then the measurement.
func (f fold) better(o fold) bool {
	if f.zMilli != o.zMilli {
		return f.zMilli > o.zMilli
	}
	if f.period != o.period {
		return f.period < o.period
	}
	return f.meas < o.meas
}

// looped finds the period, from minPeriod indexes to half the window, at
// which a compared measurement's values repeat most strongly: the share of
// their variance that lies between the phases of the fold (a one-way
// analysis of variance by phase over every pass in the window, which pools
// the passes where comparing one jittered pass with the next would halve
// the evidence), as a standard score against the share a stream with no
// repeat has by chance. A fold needs MinSamples values, and at least half
// of its phases seen twice or more.
func looped(in Information, s *stream, minPeriod int) (fold, bool) {
	var best fold
	found := false
	for m := range s.levels {
		if !s.track[m] {
			continue
		}
		v, shift := centred(s.levels[m])
		s0, st := inflation(v, shift)
		for p := minPeriod; 3*p <= len(v); p++ {
			f, ok := foldAt(v, p, shift, int64(in.MinSamples))
			if !ok {
				continue
			}
			f.meas, f.zMilli = m, deflate(f.zMilli, s0, st)
			if !found || f.better(best) {
				best, found = f, true
			}
		}
	}
	return best, found
}

// centred is a stream's values less their mean over the values within
// smooth indexes either side (rounded down): what repeats of a loop is
// every wiggle of its recording, while a real stream's slow drift (a
// warming afternoon) would tie its values to one another across passes by
// itself. Clipped like changes (clip), so that one wild value cannot fill
// a phase; with the shift that scales them into 12 bits.
func centred(v []int64) ([]int64, uint) {
	const smooth = 6
	out := filled(len(v))
	for i, x := range v {
		if x == none {
			continue
		}
		var sum, n int64
		for j := max(0, i-smooth); j <= min(len(v)-1, i+smooth); j++ {
			if v[j] != none {
				sum, n = sum+v[j], n+1
			}
		}
		out[i] = x - floorDiv(sum, n)
	}
	top, _ := clip(out)
	return out, shiftFor(top)
}

// foldAt folds values v (scaled by shift) at period p. The score is the
// between-phase share r = SSb / SSt against its mean and spread with no
// repeat, (P-1)/(N-1) and √(2(P-1)(N-P) / ((N-1)²(N+1))) for P phases and N
// values: z = ((N-1)·SSb - (P-1)·SSt)·√(N+1) / (SSt·√(2(P-1)(N-P))),
// computed exactly (the sums of squares as fractions over the product of
// the distinct phase counts) and rounded down.
func foldAt(v []int64, p int, shift uint, minSamples int64) (fold, bool) {
	sum := make([]int64, p)
	cnt := make([]int64, p)
	var n, total, squares int64
	first, last := -1, -1
	for i, x := range v {
		if x == none {
			continue
		}
		x >>= shift
		sum[i%p] += x
		cnt[i%p]++
		n, total, squares = n+1, total+x, squares+x*x
		if first < 0 {
			first = i
		}
		last = i
	}
	var seen, twice int64
	counts := map[int64]bool{}
	for _, c := range cnt {
		if c > 0 {
			seen++
			counts[c] = true
		}
		if c >= 2 {
			twice++
		}
	}
	if n < minSamples || 2*twice < int64(p) || n <= seen || seen < 2 {
		return fold{}, false
	}
	L := big.NewInt(1)
	for c := range counts {
		L.Mul(L, big.NewInt(c))
	}
	B := new(big.Int) // L·Σ S_φ²/K_φ
	for i, c := range cnt {
		if c > 0 {
			term := big.NewInt(sum[i])
			term.Mul(term, term)
			B.Add(B, term.Mul(term, new(big.Int).Quo(L, big.NewInt(c))))
		}
	}
	// SSb·L·n = B·n - total²·L and SSt·L·n = squares·L·n - total²·L.
	N := big.NewInt(n)
	t2L := new(big.Int).Mul(new(big.Int).Mul(big.NewInt(total), big.NewInt(total)), L)
	ssb := new(big.Int).Sub(new(big.Int).Mul(B, N), t2L)
	sst := new(big.Int).Sub(new(big.Int).Mul(new(big.Int).Mul(big.NewInt(squares), L), N), t2L)
	f := fold{period: p, n: n, phases: seen, first: first, last: min(last, first+p-1)}
	if sst.Sign() <= 0 { // a constant: nothing repeats that did not stay
		return f, true
	}
	share := new(big.Int).Mul(ssb, big.NewInt(10_000))
	f.shareBP = share.Quo(share, sst).Int64()
	num := new(big.Int).Sub(new(big.Int).Mul(ssb, big.NewInt(n-1)), new(big.Int).Mul(sst, big.NewInt(seen-1)))
	sign := int64(num.Sign())
	// z_milli² = num²·(N+1)·10⁶ / (SSt²·2·(P-1)·(N-P)), z's sign num's
	q := num.Mul(num, num)
	q.Mul(q, big.NewInt((n+1)*1_000_000))
	den := new(big.Int).Mul(sst, sst)
	q.Quo(q, den.Mul(den, big.NewInt(2*(seen-1)*(n-seen))))
	if q.Sqrt(q); !q.IsInt64() || q.Int64() > maxU {
		f.zMilli = sign * maxU
	} else {
		f.zMilli = sign * q.Int64()
	}
	return f, true
}

// inflation measures how much a stream's values are tied to their
// neighbours: Σx² and Σx² + 2·Σ_{k=1..6} Σ x_i·x_{i+k} (no less than Σx²).
// Values a sensor smooths, or the edges of a load's steps, hang together
// over a few readings, and a fold of n such values varies as a fold of
// fewer independent ones would: the score is deflated by √(Σx² / that).
func inflation(v []int64, shift uint) (*big.Int, *big.Int) {
	var s0, sk int64
	for i, x := range v {
		if x == none {
			continue
		}
		x >>= shift
		s0 += x * x
		for k := 1; k <= 6 && i+k < len(v); k++ {
			if y := v[i+k]; y != none {
				sk += x * (y >> shift)
			}
		}
	}
	return big.NewInt(s0), big.NewInt(max(s0, s0+2*sk))
}

// deflate is z·√(s0/st), rounded toward zero, keeping z's sign.
func deflate(z int64, s0, st *big.Int) int64 {
	if st.Sign() <= 0 || z == 0 {
		return z
	}
	q := new(big.Int).Mul(big.NewInt(z), big.NewInt(z))
	q.Mul(q, s0)
	q.Quo(q, st)
	r := q.Sqrt(q).Int64()
	if z < 0 {
		return -r
	}
	return r
}
