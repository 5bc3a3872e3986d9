package devstack

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// TestFailedStartReleasesEverything: a start refused after Kafka,
// ClickHouse and the chain are up (here: a timelock of 1.5 s, checked last)
// stops them all; their ports are free again.
func TestFailedStartReleasesEverything(t *testing.T) {
	cfg := Defaults()
	cfg.Dev.DataDir, cfg.Dev.Timelock = t.TempDir(), 1500*time.Millisecond
	ports := []*int{&cfg.Dev.KafkaPort, &cfg.Dev.CHTCPPort, &cfg.Dev.CHHTTPPort, &cfg.Dev.RPCPort}
	for _, p := range ports {
		var err error
		if *p, err = freeport.Port("127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := StartStack(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "timelock must be whole seconds") {
		t.Fatalf("start with a timelock of 1.5 s: %v", err)
	}
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(*p))
		if err != nil {
			t.Errorf("port %d still taken after the failed start: %v", *p, err)
			continue
		}
		l.Close()
	}
}
