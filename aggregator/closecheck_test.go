package aggregator

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// The closing of epochs is checked at most every closeCheckEvery (a tenth
// of an epoch, at most 5 s), not after every block; a replay checks every
// time, since it closes what it can before it stops.
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
	closeEpoch := func(epoch uint64) {
		t.Helper()
		if err := e.conn.Exec(ctx, sqlInsertEpoch, epoch, time.Unix(0, 0), time.Unix(1, 0), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	check := func(want uint64, what string) {
		t.Helper()
		if err := svc.maybeClose(ctx); err != nil {
			t.Fatal(err)
		}
		if svc.closedThrough != want {
			t.Fatalf("%s: closed through %d, want %d", what, svc.closedThrough, want)
		}
	}
	// Not the closer: a check reads what the closer closed.
	closeEpoch(3)
	check(3, "first check")
	closeEpoch(4)
	check(3, "a check right after the last") // not checked again yet
	svc.nextClose = time.Now()               // the interval has passed
	check(4, "a check after the interval")

	svc.replayEnds = map[topicPartition]int64{}
	closeEpoch(5)
	check(5, "a replay's check right after the last")
}
