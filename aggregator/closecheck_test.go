package aggregator

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The closer checks whether epochs can close at most every closeCheckEvery
// (a tenth of an epoch, at most 5 s), not after every block; a replay
// checks every time, since it closes what it can before it stops; an
// instance that is not the closer reads what was closed every time, since
// its LATE decisions need it.
func TestCloseCheckedEveryInterval(t *testing.T) {
	e := newEnv(t)
	e.cfg.EpochLength = time.Hour
	if got := e.cfg.closeCheckEvery(); got != 5*time.Second {
		t.Fatalf("epochs of an hour are checked every %s, want 5s", got)
	}
	if got := (Config{EpochLength: 10 * time.Second}).closeCheckEvery(); got != time.Second {
		t.Fatalf("epochs of 10 s are checked every %s, want 1s", got)
	}
	ctx := context.Background()
	svc, err := New(e.cfg, e.kc, e.conn, e.blocks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}

	// Not the closer: every call reads what the closer closed.
	closeEpoch := func(epoch uint64) {
		t.Helper()
		if err := e.conn.Exec(ctx, sqlInsertEpoch, epoch, time.Unix(0, 0), time.Unix(1, 0), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, epoch := range []uint64{3, 4} {
		closeEpoch(epoch)
		if err := svc.maybeClose(ctx); err != nil || svc.closedThrough != epoch {
			t.Fatalf("not the closer, right after epoch %d closed: closed through %d (%v)", epoch, svc.closedThrough, err)
		}
	}

	// The closer, its Kafka out of reach: a check is seen by its error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	l.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(gone))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	svc.admin, svc.closer = kadm.NewClient(cl), true
	checked := func() bool {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		return svc.maybeClose(cctx) != nil
	}
	if !checked() {
		t.Fatal("the closer's first call did not check")
	}
	if checked() {
		t.Fatal("the closer checked again right after its last check")
	}
	svc.nextClose = time.Now() // the interval has passed
	if !checked() {
		t.Fatal("the closer did not check once the interval had passed")
	}
	svc.replayEnds = map[topicPartition]int64{}
	if !checked() {
		t.Fatal("a replay did not check right after its last check")
	}
}
