package aggregator

// The statistics of the information checks (information.go has the policy,
// evidencechecks.go the checks). Everything that decides is integer
// arithmetic, so every machine finds the same evidence: sums of products in
// 64 bits (changes are scaled into 12 bits first), the test statistic in
// math/big, its square root rounded down.

import (
	"math"
	"math/big"
	"math/bits"
	"slices"
)

// none marks an index of a stream with no change (no reading there, or none
// just before it).
const none = math.MinInt64

// maxU is the statistic of a perfect fit (an exact copy): no residual at all.
const maxU = 1_000_000_000

// match is the comparison of a stream's changes b with another's a (another
// device's, or its own past), lagged: sums over the indexes both have, of
// the changes centred by n (A = n·Σa² - (Σa)², and so on), so that a trend
// common to both (a warming morning) counts for nothing.
type match struct {
	n       int64
	a, b, c int64 // A, B (b's) and C (the cross term)
	first   int   // the first and last index of b matched
	last    int
}

// compare matches b[i] with a[i-lag] wherever both have a change. Both are
// already clipped; shift scales them into 12 bits, so that the sums fit in
// 64 bits for up to 65,536 samples.
func compare(a, b []int64, lag int, shift uint) match {
	var n, sa, sb, saa, sbb, sab int64
	first, last := -1, -1
	lo, hi := max(0, lag), min(len(b), len(a)+lag)
	for i := lo; i < hi; i++ {
		x, y := a[i-lag], b[i]
		if x == none || y == none {
			continue
		}
		x, y = x>>shift, y>>shift
		n++
		sa, sb = sa+x, sb+y
		saa, sbb, sab = saa+x*x, sbb+y*y, sab+x*y
		if first < 0 {
			first = i
		}
		last = i
	}
	return match{n: n, a: n*saa - sa*sa, b: n*sbb - sb*sb, c: n*sab - sa*sb, first: first, last: last}
}

// shiftFor is the right shift that brings changes up to maxAbs into 12 bits.
func shiftFor(maxAbs int64) uint {
	if l := bits.Len64(uint64(maxAbs)); l > 12 {
		return uint(l - 12)
	}
	return 0
}

// slopeBP is the slope of b on a in basis points (10,000: b moves as a does).
func (m match) slopeBP() int64 {
	if m.a <= 0 {
		return 0
	}
	q := new(big.Int).Quo(new(big.Int).Mul(big.NewInt(m.c), big.NewInt(10_000)), big.NewInt(m.a))
	if !q.IsInt64() {
		return map[bool]int64{true: math.MaxInt64, false: math.MinInt64}[q.Sign() > 0]
	}
	return q.Int64()
}

// zMilli is how far the slope of b on a lies inside (betaBP, slopeMaxBP), in
// thousandths of its standard error (rounded down) from the nearer bound, or
// 0 when it does not lie inside: u² = (C - β₀·A)²·(n - 2) / (B·A - C²), the
// t statistic of a regression slope against β₀. A copy's slope is one, a
// neighbour's the share of its changes that weather common to both explains.
func (m match) zMilli(betaBP int64) int64 {
	if m.n < 3 || m.a <= 0 || m.b <= 0 {
		return 0
	}
	// Most comparisons have a slope well below betaBP: settled in floating
	// point first, with a margin far wider than its rounding, so that only
	// a slope that may be above betaBP is computed exactly.
	if float64(m.c)/float64(m.a)*10_000 < float64(betaBP)-1e-3 {
		return 0
	}
	return max(m.zSigned(betaBP), 0)
}

// zSigned is zMilli's distance with its sign: negative when the slope lies
// outside (betaBP, slopeMaxBP), by as many standard errors.
func (m match) zSigned(betaBP int64) int64 {
	if m.n < 3 || m.a <= 0 || m.b <= 0 {
		return 0
	}
	A, B, C := big.NewInt(m.a), big.NewInt(m.b), big.NewInt(m.c)
	den := new(big.Int).Sub(new(big.Int).Mul(B, A), new(big.Int).Mul(C, C))
	// Below the upper bound too: a slope far above one is no copy, but a
	// stream that barely moves (a dithered constant) regressed on.
	return min(u(C, A, den, betaBP, m.n, 1), u(C, A, den, slopeMaxBP, m.n, -1))
}

// zApprox is zSigned in floating point, for deciding which comparisons are
// worth computing exactly.
func (m match) zApprox(betaBP int64) float64 {
	if m.n < 3 || m.a <= 0 || m.b <= 0 {
		return 0
	}
	a, b, c := float64(m.a), float64(m.b), float64(m.c)
	se := math.Sqrt(math.Max(b*a-c*c, 0)/(a*a*float64(m.n-2))) + 1e-300
	beta := c / a
	return math.Min(beta-float64(betaBP)/10_000, float64(slopeMaxBP)/10_000-beta) / se
}

// slopeMaxBP is the steepest slope a copy has: one, with room for a copy
// that scales what it copies.
const slopeMaxBP = 20_000

// u is sign·(C - β·A)·√(n-2) / √den in thousandths, rounded toward zero:
// the distance of the slope C/A above β (sign 1) or below it (sign -1) in
// standard errors (den = B·A - C²), negative on the other side.
func u(C, A, den *big.Int, betaBP, n, sign int64) int64 {
	num := new(big.Int).Sub(new(big.Int).Mul(C, big.NewInt(10_000)), new(big.Int).Mul(A, big.NewInt(betaBP)))
	num.Mul(num, big.NewInt(sign))
	s := int64(num.Sign())
	if s == 0 {
		return 0
	}
	if den.Sign() <= 0 {
		return s * maxU
	}
	// u_milli² = num²·(n-2)·10⁶ / (10⁸·den) = num²·(n-2) / (100·den)
	q := num.Mul(num, num)
	q.Mul(q, big.NewInt(n-2))
	q.Quo(q, new(big.Int).Mul(den, big.NewInt(100)))
	if q.Sqrt(q); !q.IsInt64() || q.Int64() > maxU {
		return s * maxU
	}
	return s * q.Int64()
}

// clip winsorizes a stream's changes in place at four times the 75th
// percentile of their size, or their 95th percentile if more (plus one
// unit), so that a single large change (a
// front passing two stations, an appliance switched on) cannot make two
// streams look alike, and returns the largest size left. A copy shares
// every change, large or small, and stays alike.
func clip(d []int64) (int64, int64) {
	var abs []int64
	for _, x := range d {
		if x != none {
			abs = append(abs, absInt(x))
		}
	}
	if len(abs) == 0 {
		return 0, 0
	}
	slices.Sort(abs)
	c := 4*abs[len(abs)*3/4] + 1
	var top int64
	for i, x := range d {
		if x != none {
			d[i] = min(max(x, -c), c)
			top = max(top, absInt(d[i]))
		}
	}
	return top, c
}

// Echoes: a load's changes are noise most of the time and steps now and
// then (a light, a kettle, a session starting), and clipping, which keeps a
// chance alignment of two steps from passing for a copy, also leaves a copy
// little to show when it adds noise. But a copy has every step its original
// has, at one lag, and a real neighbour's steps fall at their own times.
// b's steps (changes beyond its clip level) are echoed when a has a change
// of the same sign and between half and twice the size at the same index.

// minEchoes is the fewest echoed steps that count as evidence, and then
// three quarters of the steps must be echoed: for two real meters whose
// steps each fall at one index in twenty, six chance echoes at one lag are
// a one-in-a-billion event, far rarer than the comparisons an epoch makes.
const minEchoes = 6

// echoes counts b's steps (its indexes steps, whose changes lie beyond its
// clip level) and those a echoes, lag indexes earlier, in the raw changes:
// with a step of its own (beyond levelA), so that a stream that changes a
// lot all the time echoes nothing by chance.
func echoes(a, b []int64, steps []int, lag int, levelA int64) (inRange, echoed int64) {
	if levelA <= 0 {
		return 0, 0
	}
	for _, i := range steps {
		if i-lag < 0 || i-lag >= len(a) {
			continue
		}
		inRange++
		y, x := b[i], a[i-lag]
		if x != none && absInt(x) >= levelA && (x > 0) == (y > 0) && 2*absInt(x) >= absInt(y) && absInt(x) <= 2*absInt(y) {
			echoed++
		}
	}
	return inRange, echoed
}

// echoZMilli is echo evidence as a standard score, in thousandths: echoed
// steps against the one in ten a chance would echo, (10·m - s) / √(9·s), 0
// unless at least minEchoes and three quarters of the steps were echoed.
func echoZMilli(steps, echoed int64) int64 {
	if echoed < minEchoes || 4*echoed < 3*steps {
		return 0
	}
	num := 10*echoed - steps
	return int64(isqrt(uint64(num * num * 1_000_000 / (9 * steps))))
}

func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// noiseRMS is the root mean square of a stream's changes, leaving out the
// largest tenth (a real sensor's rare jumps: a gust, a glitch), rounded
// down, and how many changes it counted.
func noiseRMS(d []int64) (int64, int) {
	var abs []int64
	for _, x := range d {
		if x != none {
			abs = append(abs, min(absInt(x), 1<<24)) // beyond any ceiling; keeps the squares in 64 bits
		}
	}
	if len(abs) == 0 {
		return 0, 0
	}
	slices.Sort(abs)
	kept := abs[:len(abs)-len(abs)/10]
	var sum uint64
	for _, x := range kept {
		sum += uint64(x * x)
	}
	return int64(isqrt(sum / uint64(len(kept)))), len(abs)
}

// kurtosisMilli is n·Σd⁴ / (Σd²)² of a stream's changes, in thousandths
// (rounded down), and how many changes it counted; 0 when they never move.
// Gaussian noise has 3000, a uniform random walk's steps 1800, a load's
// steps far more.
func kurtosisMilli(d []int64) (int64, int) {
	s2, s4, sq := new(big.Int), new(big.Int), new(big.Int)
	n := 0
	for _, x := range d {
		if x == none {
			continue
		}
		n++
		sq.SetInt64(x)
		sq.Mul(sq, sq)
		s2.Add(s2, sq)
		s4.Add(s4, sq.Mul(sq, sq))
	}
	if s2.Sign() == 0 {
		return 0, n
	}
	num := s4.Mul(s4, big.NewInt(int64(n)*1000))
	q := num.Quo(num, s2.Mul(s2, s2))
	if !q.IsInt64() {
		return math.MaxInt64, n
	}
	return q.Int64(), n
}

// isqrt is the integer square root (floor).
func isqrt(n uint64) uint64 {
	r := uint64(math.Sqrt(float64(n)))
	for r*r > n { // float64 may round up near 2^64
		r--
	}
	for (r+1)*(r+1) <= n && r+1 != 0 {
		r++
	}
	return r
}
