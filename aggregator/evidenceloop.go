package aggregator

// The loop check: a stream that repeats its own past.

import (
	"math/big"
	"slices"
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

// looped finds the period, from minPeriod indexes up to one that the
// window holds passes times, at which a compared measurement's values
// repeat most strongly: the share of
// their variance that lies between the phases of the fold (a one-way
// analysis of variance by phase over every pass in the window, which pools
// the passes where comparing one jittered pass with the next would halve
// the evidence), as a standard score against the share a stream with no
// repeat has by chance. A fold needs MinSamples values, and at least half
// of its phases seen twice or more.
func looped(in Information, s *stream, minPeriod, passes int) (fold, bool) {
	var best fold
	found := false
	for m := range s.levels {
		if !s.track[m] {
			continue
		}
		v, shift := centred(s.levels[m])
		s0, st := inflation(v, shift)
		for p := minPeriod; passes*p <= len(v); p++ {
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

// centred is a stream's values, changed into its changes from one reading
// to the next: what repeats of a loop is every wiggle of its recording,
// while a real stream's slow drift (a warming afternoon) would tie its
// values to one another across passes by itself, and a step (a load
// switched on) is one change, not a shape that every other step of its
// sign shares. Clipped at twice the 75th percentile of their size, so that
// the fold weighs every change alike, a load's steps no more than its
// noise (a few steps a period apart would otherwise pass for a repeat),
// while a loop repeats its noise too; with the shift that scales them into
// 12 bits.
func centred(v []int64) ([]int64, uint) {
	out := differences(v)
	var abs []int64
	for _, x := range out {
		if x != none {
			abs = append(abs, absInt(x))
		}
	}
	if len(abs) == 0 {
		return out, 0
	}
	slices.Sort(abs)
	c := 2*abs[len(abs)*3/4] + 1
	for i, x := range out {
		if x != none {
			out[i] = min(max(x, -c), c)
		}
	}
	return out, shiftFor(c)
}

// foldAt folds values v (scaled by shift) at period p: the sums of
// squares between the phases (SSb) and within them (SSw), kept exact as
// fractions over the product of the distinct phase counts, and the score
// of F = (SSb/(P-1)) / (SSw/(N-P)) for P phases and N values (whMilli).
func foldAt(v []int64, p int, shift uint, minSamples int64) (fold, bool) {
	cnt := make([]int64, p)
	for i, x := range v {
		if x != none {
			cnt[i%p]++
		}
	}
	// Only phases seen twice or more can show a repeat: a phase seen once
	// adds its value to the variance between phases with nothing to hold
	// it against (a load switched on once would look like a loop).
	sum := make([]int64, p)
	var n, total, squares int64
	first, last := -1, -1
	for i, x := range v {
		if x == none || cnt[i%p] < 2 {
			continue
		}
		x >>= shift
		sum[i%p] += x
		n, total, squares = n+1, total+x, squares+x*x
		if first < 0 {
			first = i
		}
		last = i
	}
	var seen int64
	counts := map[int64]bool{}
	for _, c := range cnt {
		if c >= 2 {
			seen++
			counts[c] = true
		}
	}
	if n < minSamples || 2*seen < int64(p) || n <= seen || seen < 2 {
		return fold{}, false
	}
	L := big.NewInt(1)
	for c := range counts {
		L.Mul(L, big.NewInt(c))
	}
	B := new(big.Int) // L·Σ S_φ²/K_φ
	for i, c := range cnt {
		if c >= 2 {
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
	f.zMilli = whMilli(ssb, new(big.Int).Sub(sst, ssb), seen-1, n-seen)
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

// whMilli is the F ratio (b/d1) / (w/d2) as a standard normal score, in
// thousandths (Wilson and Hilferty's cube-root approximation, good from a
// few degrees of freedom up, where the F distribution's own tail is long):
//
//	z = ((1 - 2/(9·d2))·F^⅓ - (1 - 2/(9·d1))) / √(2/(9·d1) + F^⅔·2/(9·d2))
//
// in fixed point with 18 decimals: integer cube and square roots, every
// step rounded down, so that every machine computes the same score.
func whMilli(b, w *big.Int, d1, d2 int64) int64 {
	if w.Sign() <= 0 {
		return maxU
	}
	const scale = 1_000_000 // F^⅓ and the rest carry six decimals
	// F·10¹⁸ = b·d2·10¹⁸ / (w·d1); its cube root is F^⅓·10⁶.
	f := new(big.Int).Mul(b, big.NewInt(d2))
	f.Mul(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))
	f.Quo(f, new(big.Int).Mul(w, big.NewInt(d1)))
	c := icbrt(f) // F^⅓ · 10⁶
	// numerator · 10⁶ · 9·d1·d2 = (9·d2 - 2)·d1·c - (9·d1 - 2)·d2·10⁶
	num := new(big.Int).Mul(big.NewInt((9*d2-2)*d1), c)
	num.Sub(num, big.NewInt((9*d1-2)*d2*scale))
	// denominator² · 10¹² · (9·d1·d2)² = 9·d1·d2·(2·d2·10¹² + 2·d1·c²)
	den := new(big.Int).Mul(c, c)
	den.Mul(den, big.NewInt(2*d1))
	den.Add(den, big.NewInt(0).Mul(big.NewInt(2*d2), big.NewInt(scale*scale)))
	den.Mul(den, big.NewInt(9*d1*d2))
	den.Sqrt(den) // denominator · 10⁶ · 9·d1·d2
	if den.Sign() == 0 {
		return maxU
	}
	z := num.Mul(num, big.NewInt(1000))
	z.Quo(z, den)
	if !z.IsInt64() || z.Int64() > maxU {
		return maxU
	}
	return max(z.Int64(), -maxU)
}

// icbrt is the integer cube root of x ≥ 0 (floor), by Newton's method from
// above.
func icbrt(x *big.Int) *big.Int {
	if x.Sign() <= 0 {
		return new(big.Int)
	}
	r := new(big.Int).Lsh(big.NewInt(1), uint(x.BitLen()/3+1))
	three, two := big.NewInt(3), big.NewInt(2)
	for {
		// next = (2·r + x/r²) / 3
		next := new(big.Int).Quo(x, new(big.Int).Mul(r, r))
		next.Add(next, new(big.Int).Mul(two, r))
		next.Quo(next, three)
		if next.Cmp(r) >= 0 {
			return r
		}
		r = next
	}
}
