package validators

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// benchRecords are n raw readings of 10,000 weather stations, each with a
// position near its asserted location and changing values, a few seconds
// apart: what a validator sees from a live network. v2 sends them in wire
// format v2 (the reading's bytes as signed), as the pipeline's fleet does;
// otherwise v1.
func benchRecords(n int, v2 bool) ([]*kgo.Record, map[string]*pb.Device) {
	const devices = 10_000
	devs := make(map[string]*pb.Device, devices)
	for i := range devices {
		id := fmt.Sprintf("ws-%05d", i)
		devs[id] = &pb.Device{DeviceId: id, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Active: true,
			Location: &pb.Location{LatE7: 387_000_000 + int32(i/100)*40_000, LonE7: -91_000_000 + int32(i%100)*40_000}} // a 440 m grid
	}
	recs := make([]*kgo.Record, n)
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	for j := range recs {
		dev, round := j%devices, j/devices
		id := fmt.Sprintf("ws-%05d", dev)
		r := &pb.Reading{DeviceId: id, Seq: uint64(round + 1), EventTimeMs: base + int64(round)*5000, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
			Measurements: map[string]int64{"temperature_c": 10_000 + noise(dev, round, 10_000), "humidity_pct": 40_000 + noise(dev, round+1, 40_000), "pressure_hpa": 1_000_000 + noise(dev, round+2, 20_000)},
			Location:     &pb.Location{LatE7: devs[id].Location.LatE7 + int32(round%3), LonE7: devs[id].Location.LonE7}}
		raw := &pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: make([]byte, 64)}, Owner: "0x0000000000000000000000000000000000000001", ReceivedAtMs: r.EventTimeMs + 200}
		if v2 {
			body, _ := proto.Marshal(r)
			raw.Signed, raw.SignedV2 = nil, &pb.SignedReadingV2{Reading: body, Signature: make([]byte, 64)}
		}
		v, _ := proto.Marshal(raw)
		recs[j] = &kgo.Record{Key: []byte(id), Value: v, Offset: int64(j)}
	}
	return recs, devs
}

// noise is a value in [0, n) that differs by device and round (a hash).
func noise(dev, round int, n int64) int64 {
	x := uint64(dev)*0x9e3779b97f4a7c15 ^ uint64(round)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return int64(x % uint64(n))
}

// BenchmarkChecks measures the checks alone, on decoded readings: readings
// decided per second on one core (run with -cpu 1; a checker is
// single-threaded, one per partition). "device" runs the per-reading and
// per-device checks, "all" the checks across devices too.
func BenchmarkChecks(b *testing.B) {
	recs, devs := benchRecords(200_000, false)
	raws := make([]*pb.RawReading, len(recs))
	for i, r := range recs {
		raws[i] = &pb.RawReading{}
		proto.Unmarshal(r.Value, raws[i])
	}
	perDevice := DefaultRules()
	for k, r := range perDevice {
		r.CrossRules = CrossRules{}
		perDevice[k] = r
	}
	for _, bc := range []struct {
		name  string
		rules map[pb.ResourceKind]KindRules
	}{{"device", perDevice}, {"all", DefaultRules()}} {
		b.Run(bc.name, func(b *testing.B) {
			newChecker := func() *Checker {
				c := NewChecker(bc.rules, 2*time.Minute, time.Hour)
				c.Lookup = func(id string) *pb.Device { return devs[id] }
				return c
			}
			c := newChecker()
			rejected := map[string]int{}
			for i := range b.N {
				if i > 0 && i%len(raws) == 0 {
					b.StopTimer()
					c = newChecker() // history starts over with the readings
					b.StartTimer()
				}
				raw := raws[i%len(raws)]
				if d := c.Check(raw, devs[raw.Signed.Reading.DeviceId]); d.Reason != "" {
					rejected[d.Reason]++
				}
				if i%5000 == 4999 {
					c.Commit() // a transaction's worth
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
			if len(rejected) > 0 {
				b.Fatalf("honest readings rejected: %v", rejected)
			}
		})
	}
}

// BenchmarkDecide adds what the stage does around the checks for every
// record: decode the raw reading, decide, encode the valid or rejected one,
// in each wire format. Kafka's consume and produce are not included.
func BenchmarkDecide(b *testing.B) {
	for _, wire := range []string{"v1", "v2"} {
		b.Run(wire, func(b *testing.B) {
			recs, devs := benchRecords(200_000, wire == "v2")
			s, err := New(DefaultConfig(), kafka.Config{Brokers: []string{"127.0.0.1:1"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(s.Close)
			// Registered, as a pipeline's devices are: the registry's
			// lookups cost what they do there (a map of every device).
			for _, d := range devs {
				s.reg.Put(d)
			}
			c := NewChecker(s.rules, 2*time.Minute, time.Hour)
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%len(recs) == 0 {
					b.StopTimer()
					c = NewChecker(s.rules, 2*time.Minute, time.Hour)
					b.StartTimer()
				}
				if _, topic, _, err := s.decide(c, recs[i%len(recs)]); err != nil || topic != s.topics.Valid {
					b.Fatal("an honest reading rejected")
				}
				if i%5000 == 4999 {
					c.Commit()
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
		})
	}
}

// BenchmarkRebuild measures a partition's takeover: the history rebuilt
// from the decided topics, with 1M and with 20M decided records in the
// partition, received at 1,000 a second (so 17 minutes and 5.6 hours of
// history). The rebuild reads HistoryWindow (92 minutes) back from the
// newest record: all of the first, a quarter of the second. One op is one
// rebuild; it reports the records read and the seconds taken.
func BenchmarkRebuild(b *testing.B) {
	for _, n := range []int{1_000_000, 20_000_000} {
		b.Run(fmt.Sprintf("%dM", n/1_000_000), func(b *testing.B) {
			kc := kafka.Config{Brokers: testenv.Kafka(b), TopicPrefix: fmt.Sprintf("rb%d.", n), Partitions: 1}
			if err := kafka.EnsureTopics(context.Background(), kc); err != nil {
				b.Fatal(err)
			}
			prod, err := kgo.NewClient(append(kc.Opts(), kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))...)
			if err != nil {
				b.Fatal(err)
			}
			defer prod.Close()
			newest := time.Now()
			first := newest.Add(-time.Duration(n) * time.Millisecond) // 1,000 a second
			for i := range n {
				at := first.Add(time.Duration(i) * time.Millisecond)
				dev := i % 10_000
				v, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{DeviceId: fmt.Sprintf("ws-%05d", dev), Seq: uint64(i/10_000 + 1), EventTimeMs: at.UnixMilli(),
					Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": 10_000 + noise(dev, i, 10_000), "humidity_pct": 40_000 + noise(dev, i+1, 40_000), "pressure_hpa": 1_000_000 + noise(dev, i+2, 20_000)}},
					Owner: "0x0000000000000000000000000000000000000001", ReceivedAtMs: at.UnixMilli(), Signature: make([]byte, 64)})
				prod.Produce(context.Background(), &kgo.Record{Topic: kc.Topics().Valid, Value: v, Timestamp: at}, func(_ *kgo.Record, err error) {
					if err != nil {
						b.Error(err)
					}
				})
			}
			if err := prod.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			svc, err := New(DefaultConfig(), kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			read := 0
			for b.Loop() {
				if _, read, err = svc.rebuild(context.Background(), []int32{0}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(read), "records-read")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/rebuild")
		})
	}
}

// BenchmarkCloneWindowHeap: what a checker keeps live for the clone window
// (twice CloneWindow of event time) at 10,000 stations reading once a
// second, all values distinct: the heap's live objects and bytes after a
// collection (the collector's marking grows with the objects). Each
// reading's device id is a string of its own, as decoded from the record.
func BenchmarkCloneWindowHeap(b *testing.B) {
	const devices, seconds = 10_000, 70
	ids := make([]string, devices)
	devs := make([]*pb.Device, devices)
	for d := range devices {
		ids[d] = fmt.Sprintf("ws-%05d", d)
		devs[d] = &pb.Device{DeviceId: ids[d], Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Active: true,
			Location: &pb.Location{LatE7: 470_000_000 + int32(d%100)*100_000, LonE7: 80_000_000 + int32(d/100)*100_000}}
	}
	for range b.N {
		c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
		for s := range seconds {
			for d := range devices {
				r := &pb.Reading{DeviceId: strings.Clone(ids[d]), Seq: uint64(s + 1), EventTimeMs: 1_700_000_000_000 + int64(s)*1000, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
					Measurements: map[string]int64{"temperature_c": int64(d%100)*300 + int64(s)*100 - 10_000, "humidity_pct": 50_000, "pressure_hpa": 950_000 + int64(d)*10}}
				raw := &pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: []byte{byte(d), byte(s)}}, ReceivedAtMs: r.EventTimeMs}
				if dec := c.Check(raw, devs[d]); dec.Reason != "" {
					b.Fatalf("second %d, %s: %+v", s, ids[d], dec)
				}
				if d%2500 == 2499 {
					c.Commit()
				}
			}
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		b.ReportMetric(float64(c.x.cloneQ.len()), "clone-entries")
		b.ReportMetric(float64(m.HeapObjects), "live-objects")
		b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "live-MB")
	}
}

// BenchmarkCountMetrics: a committed transaction's decisions (1,600, as
// `bench pipeline`'s are, of three kinds, 1 in 200 rejected) added to the
// readings counter. One op is one decision.
func BenchmarkCountMetrics(b *testing.B) {
	kinds := []pb.ResourceKind{pb.ResourceKind_RESOURCE_KIND_WEATHER, pb.ResourceKind_RESOURCE_KIND_ENERGY, pb.ResourceKind_RESOURCE_KIND_BANDWIDTH}
	out := make([]decided, 1_600)
	for i := range out {
		out[i].reading = &pb.Reading{Kind: kinds[i%len(kinds)]}
		if i%200 == 7 {
			out[i].d.Reason = ReasonOutOfRange
		}
	}
	m, ctx := newMetrics(), context.Background()
	for i := 0; b.Loop(); i++ {
		if i%len(out) == 0 {
			m.count(ctx, out)
		}
	}
}
