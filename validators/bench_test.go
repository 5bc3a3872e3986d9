package validators

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// benchRecords are n raw readings of 10,000 weather stations, each with a
// position near its asserted location and changing values, a few seconds
// apart: what a validator sees from a live network.
func benchRecords(n int) ([]*kgo.Record, map[string]*pb.Device) {
	const devices = 10_000
	devs := make(map[string]*pb.Device, devices)
	for i := range devices {
		id := fmt.Sprintf("ws-%05d", i)
		devs[id] = &pb.Device{DeviceId: id, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Active: true,
			Location: &pb.Location{LatE7: 387_000_000 + int32(i)*100, LonE7: -91_000_000}}
	}
	recs := make([]*kgo.Record, n)
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	for j := range recs {
		dev, round := j%devices, j/devices
		id := fmt.Sprintf("ws-%05d", dev)
		r := &pb.Reading{DeviceId: id, Seq: uint64(round + 1), EventTimeMs: base + int64(round)*5000, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
			Measurements: map[string]int64{"temperature_c": 18_000 + int64((round*7+dev)%300), "humidity_pct": 60_000 + int64(round%50), "pressure_hpa": 1_013_000},
			Location:     &pb.Location{LatE7: 387_000_000 + int32(dev)*100 + int32(round%3), LonE7: -91_000_000}}
		v, _ := proto.Marshal(&pb.RawReading{Signed: &pb.SignedReading{Reading: r, Signature: make([]byte, 64)}, Owner: "0x0000000000000000000000000000000000000001", ReceivedAtMs: r.EventTimeMs + 200})
		recs[j] = &kgo.Record{Key: []byte(id), Value: v, Offset: int64(j)}
	}
	return recs, devs
}

// BenchmarkChecks measures the per-reading and per-device checks alone, on
// decoded readings: readings decided per second on one core (run with
// -cpu 1; the checker is single-threaded, one per partition).
func BenchmarkChecks(b *testing.B) {
	recs, devs := benchRecords(200_000)
	raws := make([]*pb.RawReading, len(recs))
	for i, r := range recs {
		raws[i] = &pb.RawReading{}
		proto.Unmarshal(r.Value, raws[i])
	}
	c := NewChecker(DefaultRules(), 2*time.Minute, time.Hour)
	rejected := 0
	b.ResetTimer()
	for i := range b.N {
		if i > 0 && i%len(raws) == 0 {
			b.StopTimer()
			c = NewChecker(DefaultRules(), 2*time.Minute, time.Hour) // history starts over with the readings
			b.StartTimer()
		}
		raw := raws[i%len(raws)]
		if d := c.Check(raw, devs[raw.Signed.Reading.DeviceId]); d.Reason != "" {
			rejected++
		}
		if i%5000 == 4999 {
			c.Commit() // a transaction's worth
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
	if rejected > 0 {
		b.Fatalf("%d honest readings rejected", rejected)
	}
}

// BenchmarkDecide adds what the stage does around the checks for every
// record: decode the raw reading, decide, encode the valid or rejected one.
// Kafka's consume and produce are not included.
func BenchmarkDecide(b *testing.B) {
	recs, _ := benchRecords(200_000)
	s, err := New(DefaultConfig(), kafka.Config{Brokers: []string{"127.0.0.1:1"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	c := NewChecker(s.rules, 2*time.Minute, time.Hour)
	b.ResetTimer()
	for i := range b.N {
		if i > 0 && i%len(recs) == 0 {
			b.StopTimer()
			c = NewChecker(s.rules, 2*time.Minute, time.Hour)
			b.StartTimer()
		}
		if _, topic, _ := s.decide(c, recs[i%len(recs)]); topic != s.topics.Valid {
			b.Fatal("an honest reading rejected")
		}
		if i%5000 == 4999 {
			c.Commit()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}
