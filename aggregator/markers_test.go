package aggregator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Two validators write into the same rejected partitions; one is killed
// mid-transaction and its transaction aborted after the other's commit.
// The rejected topic's partitions then end in two markers, or in an aborted
// record and its marker with nothing stored at all: the epoch still closes.
func TestMarkersDoNotHoldEpochsOpen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	base := time.Now().Truncate(10 * time.Second).Add(-time.Minute).UnixMilli()
	epoch := uint64(base / 10_000)
	validator := func(id string) *kgo.Client {
		cl, err := kgo.NewClient(append(e.kc.Opts(), kgo.TransactionalID(id), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	rejected := func(p int32, seq uint64) *kgo.Record {
		v, _ := proto.Marshal(&pb.RejectedReading{
			Reading: &pb.Reading{DeviceId: "d9", Seq: seq, EventTimeMs: base + 1000, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER},
			Owner:   "0xA", ReceivedAtMs: base + 1000, Reason: "OUT_OF_RANGE", Detail: "x",
		})
		return &kgo.Record{Topic: e.kc.Topics().Rejected, Partition: p, Key: []byte("d9"), Value: v}
	}
	killed, alive := validator("v-killed"), validator("v-alive")
	for _, cl := range []*kgo.Client{killed, alive} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
	}
	if err := killed.ProduceSync(ctx, rejected(0, 1), rejected(1, 2)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := alive.ProduceSync(ctx, rejected(0, 1)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := alive.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if err := killed.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	e.sendValid(t, 0, "d0", 1, base+1000)
	e.sendValid(t, 1, "d1", 2, base+1000)
	e.sendValid(t, 0, "d0", 3, base+12_000)
	e.sendValid(t, 1, "d1", 4, base+12_000)
	e.start(t)
	e.waitCount(t, 1, "SELECT count() FROM rejections WHERE epoch = ?", epoch)
	e.waitCount(t, 1, "SELECT count() FROM epochs WHERE epoch = ?", epoch)
}

// Records at or below the offset ClickHouse holds for their partition are
// dropped before a block is made: a consumer that goes back (a leader
// change, a reset) must not store them again.
func TestUnstoredDropsWhatClickHouseHolds(t *testing.T) {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil)), stored: map[topicPartition]int64{{"v", 0}: 10, {"v", 1}: -1}}
	var recs []*kgo.Record
	for _, r := range []struct {
		p   int32
		off int64
	}{{0, 9}, {0, 10}, {0, 11}, {1, 0}, {2, 5}} {
		recs = append(recs, &kgo.Record{Topic: "v", Partition: r.p, Offset: r.off})
	}
	var got []string
	for _, r := range s.unstored(recs) {
		got = append(got, fmt.Sprintf("%d/%d", r.Partition, r.Offset))
	}
	if want := "[0/11 1/0 2/5]"; fmt.Sprint(got) != want {
		t.Fatalf("kept %v, want %s", got, want)
	}
}
