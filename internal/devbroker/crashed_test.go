package devbroker

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// A broker restarted on the data directory of a process killed with a
// transaction open: once Start has run AbortCrashed, the partition's log
// ends in a marker that a read-committed reader reaches, the open
// transaction's records stay aborted, and the same producer's next
// transaction there is seen. (Without it kfake marks nothing: the reader
// never reaches the end, and the next transaction is hidden as part of the
// aborted one.)
func TestAbortCrashed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "kafka")
	c := startBroker(t, dir)
	produce := func(c *Cluster, txn func(*kgo.Client)) *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.TransactionalID("validator"),
			kgo.DefaultProduceTopic("t"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			t.Fatal(err)
		}
		txn(cl)
		return cl
	}
	send := func(cl *kgo.Client, partition int32, value string) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: partition, Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	adm := kadm.NewClient(client(t, c))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	cl := produce(c, func(cl *kgo.Client) {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		send(cl, 0, "committed")
		send(cl, 1, "committed")
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		send(cl, 0, "open 1")
		send(cl, 0, "open 2")
	})
	// What a kill -9 leaves: kfake writes every batch with write(2) as it
	// takes it (nothing buffered in the process), so a copy of the
	// directory taken now is the directory of a process killed now.
	crashed := filepath.Join(t.TempDir(), "crashed")
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	c.Close()

	c = startBroker(t, crashed)
	if c.Aborted != 1 {
		t.Errorf("Start wrote %d abort markers, want 1 (partition 0's open transaction)", c.Aborted)
	}
	if again, err := AbortCrashed(ctx, c.ListenAddrs()); err != nil || again != 0 {
		t.Errorf("AbortCrashed again wrote %d markers (%v), want 0", again, err)
	}
	produce(c, func(cl *kgo.Client) {
		defer cl.Close()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		send(cl, 0, "after")
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
	})
	ends, err := kadm.NewClient(client(t, c)).ListEndOffsets(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup("t", 0)
	// Partition 0: committed, its marker, open 1, open 2, the abort marker,
	// after, its marker.
	if end.Offset != 7 {
		t.Errorf("partition 0 ends at %d, want 7", end.Offset)
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset().At(0)}}))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var values []string
	last := int64(-1)
	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
	defer rcancel()
	for last < end.Offset-1 && rctx.Err() == nil {
		for _, r := range rd.PollFetches(rctx).Records() {
			last = r.Offset
			if !r.Attrs.IsControl() {
				values = append(values, string(r.Value))
			}
		}
	}
	if last != end.Offset-1 {
		t.Errorf("a read-committed reader got to offset %d of partition 0, whose last is %d", last, end.Offset-1)
	}
	if len(values) != 2 || values[0] != "committed" || values[1] != "after" {
		t.Errorf("a read-committed reader saw %q on partition 0, want the committed record and the one after the restart", values)
	}
}

func startBroker(t *testing.T, dir string) *Cluster {
	p, err := freeport.Port("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Start(context.Background(), dir, []int{p}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func client(t *testing.T, c *Cluster) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
