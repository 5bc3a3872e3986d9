package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitRegistered: a replica that learns the fleet late is waited for,
// device by device, and one that never does is given up on when the
// context ends. (A fake replica: the lag of a real one cannot be produced
// on demand.)
func TestWaitRegistered(t *testing.T) {
	var asked atomic.Int64
	var known atomic.Int64 // the replica knows the devices numbered below this
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		var d int64
		if _, err := fmt.Sscanf(r.URL.Path, "/v1/devices/fleet-%d", &d); err != nil || d >= known.Load() {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	l := &Load{opts: Options{Devices: 20}, http: newHTTP(1)}

	known.Store(10)
	go func() {
		time.Sleep(300 * time.Millisecond)
		known.Store(20)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitRegistered(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	if n := asked.Load(); n < 22 { // 20 found, and device 10 asked again at least twice
		t.Errorf("asked %d times: it did not wait for the devices the replica learned late", n)
	}

	known.Store(5)
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if err := l.WaitRegistered(short, srv.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a replica that never learns the fleet: %v", err)
	}
}
