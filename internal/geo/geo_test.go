package geo

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		lat1, lon1, lat2, lon2 int32
		want                   int64 // metres, great-circle
	}{
		{387_000_000, -91_000_000, 387_000_000, -91_000_000, 0},
		{0, 0, 10_000_000, 0, 111_195},                                      // one degree of latitude
		{387_000_000, -91_000_000, 387_000_000, -90_000_000, 8_678},         // 0.1° of longitude at 38.7° N
		{-337_000_000, 1_799_000_000, -337_000_000, -1_799_000_000, 18_502}, // across the antimeridian
	} {
		got := DistanceM(c.lat1, c.lon1, c.lat2, c.lon2)
		if diff := max(got-c.want, c.want-got); diff*200 > c.want+200 { // within 0.5% (1 m near zero)
			t.Errorf("(%d,%d)-(%d,%d): %d m, want %d", c.lat1, c.lon1, c.lat2, c.lon2, got, c.want)
		}
	}
}
