package aggregator

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/kafka"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// BenchmarkToRow measures a decided record decoded into a block's
// columns (toRow and add): a v2 weather reading with three measurements,
// its signed bytes and signature, as the pipeline's.
//
//	go test -run '^$' -bench ToRow ./aggregator
func BenchmarkToRow(b *testing.B) {
	const n = 10_000
	s := &Service{cfg: DefaultConfig(), topics: kafka.Config{TopicPrefix: "b."}.Topics()}
	recs := make([]*kgo.Record, n)
	for i := range recs {
		body, err := proto.Marshal(&pb.Reading{DeviceId: fmt.Sprintf("weather-%05d", i), Seq: uint64(i), EventTimeMs: 1_795_000_000_000 + int64(i),
			Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": 21_500 + int64(i%100), "humidity_pct": 55_000, "pressure_hpa": 1_013_000}})
		if err != nil {
			b.Fatal(err)
		}
		v, err := proto.Marshal(&pb.ValidReading{ReadingBytes: body, Signature: make([]byte, 64), Owner: "0x00000000000000000000000000000000000000a1", ReceivedAtMs: 1_795_000_000_100 + int64(i)})
		if err != nil {
			b.Fatal(err)
		}
		recs[i] = &kgo.Record{Topic: s.topics.Valid, Partition: int32(i % 4), Offset: int64(i), Value: v, Timestamp: time.UnixMilli(1_795_000_000_100)}
	}
	b.ReportAllocs()
	c := newColumns(n)
	for b.Loop() {
		c.reset()
		wm := map[topicPartition]time.Time{}
		for _, rec := range recs {
			c.add(s.toRow(rec, wm))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
