package aggregator

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkJudge runs every information check over one epoch's evidence
// window (222 readings at 5 s) of n weather stations, one per 4 km² (about
// twenty neighbours within the 5 km compared), in memory: the work of an
// epoch's close after its window is read from ClickHouse.
//
//	go test -run '^$' -bench BenchmarkJudge -benchtime 3x ./aggregator
func BenchmarkJudge(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("stations=%d", n), func(b *testing.B) {
			s := DefaultScoring()
			r := rand.New(rand.NewPCG(1, 1))
			w := &world{rng: rand.New(rand.NewPCG(2, 2))}
			side := 1
			for side*side < n {
				side++
			}
			var st []*station
			for i := range n {
				// A 2 km grid: in 1e-7 degrees, 180,000 north-south, 230,000 east-west at 38.7°.
				st = append(st, newStation(r, fmt.Sprintf("ws-%05d", i), "o", 387_000_000+int32(i/side)*180_000, -91_400_000+int32(i%side)*230_000))
			}
			var rows []windowRow
			for k := range ticks() {
				w.step()
				for _, x := range st {
					rows = append(rows, x.read(w, k))
				}
			}
			sortRows(rows)
			from, to := s.Window(testLength, testEpoch)
			b.ResetTimer()
			for range b.N {
				readings, witnesses := buildStreams(s, rows, weatherNames, from, to)
				judge(s.Information, testEpoch, readings, witnesses)
			}
			b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/float64(n)*1e3, "ms/station")
		})
	}
}
