package aggregator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestMirrorBatchesRegistrations registers devices one by one, 10 ms apart,
// as a registration burst does: the mirror stores every one, in a few
// INSERTs (one a flush interval), not one each.
func TestMirrorBatchesRegistrations(t *testing.T) {
	e := newEnv(t)
	e.cfg.FlushInterval = time.Second
	_, stop := e.start(t)
	defer stop()
	const n = 150
	for i := range n {
		d := &pb.Device{DeviceId: fmt.Sprintf("burst-%03d", i), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Owner: "0xA",
			Active: true, RegisteredAtMs: time.Now().UnixMilli()}
		v, err := proto.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: e.kc.Topics().Devices, Partition: 0, Key: []byte(d.DeviceId), Value: v}
		if err := e.prod.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.waitCount(t, n, "SELECT count() FROM devices_current")
	// Every INSERT takes the table's next block number, and the parts
	// merged from them span the numbers.
	inserts := e.count(t, "SELECT toUInt64(max(max_block_number)) FROM system.parts WHERE database = currentDatabase() AND table = 'devices' AND active")
	if inserts == 0 || inserts > 8 {
		t.Errorf("%d registrations over about %d ms were stored in %d INSERTs, want a few (one a flush interval)", n, n*10, inserts)
	}
	t.Logf("%d registrations in %d INSERTs", n, inserts)
}
