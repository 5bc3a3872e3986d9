package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRegion(t *testing.T) {
	for _, c := range []struct {
		lat, lon int32
		want     string
	}{
		{387_000_000, -91_000_000, "38,-10"}, // Lisbon: 38.7 N, 9.1 W
		{0, 0, "0,0"},
		{-1, 1, "-1,0"},                          // just south of the equator
		{-337_000_000, 1_799_999_999, "-34,179"}, // Fiji's side of the antimeridian
		{900_000_000, -1_800_000_000, "90,-180"},
	} {
		if got := Region(c.lat, c.lon); got != c.want {
			t.Errorf("Region(%d, %d) = %s, want %s", c.lat, c.lon, got, c.want)
		}
	}
}

// TestRegionPartitioner: readings of one region share a partition whatever
// their device, the partition Kafka's default partitioner gives the region
// as a key; records without the header go by their key as usual.
func TestRegionPartitioner(t *testing.T) {
	const n = 12
	byKey := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	p := RegionPartitioner().ForTopic("t")
	parts := map[int]bool{}
	for i := range 50 {
		r := &kgo.Record{Key: []byte(fmt.Sprint("device-", i)), Headers: []kgo.RecordHeader{{Key: RegionHeader, Value: []byte("38,-10")}}}
		got := p.Partition(r, n)
		parts[got] = true
		if want := byKey.Partition(&kgo.Record{Key: []byte("38,-10")}, n); got != want {
			t.Fatalf("a reading of region 38,-10 went to %d, the region's key hashes to %d", got, want)
		}
	}
	if len(parts) != 1 {
		t.Fatalf("one region's readings spread over partitions %v", parts)
	}
	spread := map[int]bool{}
	for i := range 50 {
		r := &kgo.Record{Key: []byte(fmt.Sprint("device-", i))}
		if got, want := p.Partition(r, n), byKey.Partition(r, n); got != want {
			t.Fatalf("a record without region went to %d, by its key %d", got, want)
		}
		spread[p.Partition(r, n)] = true
	}
	if len(spread) < 4 {
		t.Fatalf("records keyed by device landed in only %d partitions", len(spread))
	}
}
