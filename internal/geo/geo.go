// Package geo is integer geodesy: distances that decide validity and pay
// are computed the same on every machine.
package geo

import (
	"math"
	"math/bits"
)

// Distances decide validity, and so rewards: they are computed in integers
// (an equirectangular approximation, within 0.5% of the great-circle
// distance up to a few hundred kilometres, which is all the checks compare),
// so every validator, on any machine, decides the same.

// cosMicro[d] is cos(d degrees) * 1e6, rounded, for d = 0..90. It is built
// once from math.Cos; rounding to six digits leaves no room for the last-bit
// differences a libm could have.
var cosMicro = func() (t [91]int64) {
	for d := range t {
		t[d] = int64(math.Round(math.Cos(float64(d)*math.Pi/180) * 1e6))
	}
	return
}()

// metresPerE7 is the length of 1e-7 degree of latitude, in micrometres
// (111,320 m per degree).
const metresPerE7 = 11_132 // µm

// DistanceM is the distance in metres between two positions given in
// degrees times 1e7.
func DistanceM(lat1, lon1, lat2, lon2 int32) int64 {
	dLat := int64(lat2) - int64(lat1)
	dLon := int64(lon2) - int64(lon1)
	if dLon > 180e7 { // the short way round the antimeridian
		dLon -= 360e7
	} else if dLon < -180e7 {
		dLon += 360e7
	}
	y := dLat * metresPerE7 / 1_000_000 // metres
	x := dLon * metresPerE7 / 1_000_000 * cosE6(abs(int64(lat1)+int64(lat2))/2) / 1_000_000
	return int64(isqrt(uint64(x*x + y*y)))
}

// cosE6 is cos(latE7 / 1e7 degrees) * 1e6 for latE7 in [0, 90e7],
// interpolated linearly between whole degrees (error below 1e-4).
func cosE6(latE7 int64) int64 {
	d, frac := min(latE7/1e7, 90), latE7%1e7
	if d == 90 {
		return cosMicro[90]
	}
	return cosMicro[d] + (cosMicro[d+1]-cosMicro[d])*frac/1e7
}

// isqrt is the integer square root (floor).
func isqrt(n uint64) uint64 {
	if n < 2 {
		return n
	}
	// Start above the root (a power of two) and descend with Newton's method.
	x := uint64(1) << ((bits.Len64(n) + 1) / 2)
	for {
		y := (x + n/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
