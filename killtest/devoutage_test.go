package killtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
)

// TestDevStackRidesOutClickHouseFreeze runs `fieldmint dev` under a stream
// of readings and freezes its ClickHouse server (SIGSTOP) for 3 minutes.
// The process stays up; ingest answers every batch 2xx throughout; the
// stack prints one line when ClickHouse goes away and one when it is back,
// with how long it was gone; afterwards every reading answered 2xx is
// stored exactly once and the epochs settle.
func TestDevStackRidesOutClickHouseFreeze(t *testing.T) {
	if testing.Short() {
		t.Skip("freezes the dev stack's ClickHouse for 3 minutes")
	}
	t.Parallel()
	length := outageLength(t)
	const before, after = 20 * time.Second, 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), length+before+after+6*time.Minute)
	defer cancel()
	p := &pipeline{t: t, ctx: ctx, dir: t.TempDir(), steps: int((length+before+after)/time.Second) / 10 * 10}
	dev, data, tcp, rpcURL := startDev(p)
	retried := 0
	p.onRetry = func(err error) { retried++ }
	server := onlyChild(t, dev) // the ClickHouse server

	started := time.Now()
	var froze, thawed time.Time
	p.stream(func(step int) {
		time.Sleep(time.Until(started.Add(time.Duration(step) * time.Second)))
		switch {
		case froze.IsZero() && time.Since(started) >= before:
			if err := syscall.Kill(server, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			froze = time.Now()
			t.Logf("%s: ClickHouse (pid %d) frozen", froze.Format("15:04:05"), server)
		case !froze.IsZero() && thawed.IsZero() && time.Since(froze) >= length:
			if err := syscall.Kill(server, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			thawed = time.Now()
			t.Logf("%s: ClickHouse thawed after %s; %d batches retried meanwhile", thawed.Format("15:04:05"), thawed.Sub(froze).Round(time.Second), retried)
		}
	})
	if thawed.IsZero() {
		t.Fatal("the stream ended before ClickHouse was thawed")
	}
	if retried != 0 {
		p.fail("%d batches were refused while ClickHouse was frozen: ingest must answer 2xx", retried)
	}
	eclient, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer eclient.Close()
	settled, _ := checkDevStore(p, tcp, eclient, readContracts(t, data))
	if n := dev.Exits(); n != 0 {
		p.fail("fieldmint dev exited %d times", n)
	}
	raw, err := os.ReadFile(filepath.Join(p.dir, "dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	var went, back []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "[") && strings.Contains(line, "] clickhouse ") {
			switch {
			case strings.Contains(line, " is away ("):
				went = append(went, line)
			case strings.Contains(line, " is back after "):
				back = append(back, line)
			}
		}
	}
	// One line each way per outage: the freeze, and each restart of the
	// embedded server after it that a probe fell in (see
	// chserver.Options.Restart).
	if most := 1 + strings.Count(string(raw), "starting it again"); len(went) != len(back) || len(went) < 1 || len(went) > most {
		p.fail("fieldmint dev printed %d lines for ClickHouse going away and %d for it coming back, want one each per outage (1 to %d)", len(went), len(back), most)
	}
	t.Logf("fieldmint dev printed:\n%s\n%s", went[0], back[0])
	t.Logf("fieldmint dev stayed up through a %s ClickHouse freeze; %d readings stored once each; %d epochs settled and verified",
		thawed.Sub(froze).Round(time.Second), (p.steps+1)*devices, settled)
}

// onlyChild returns the pid of p's only child process: the ClickHouse
// server that `fieldmint dev` and `fieldmint clickhouse` run (in a process
// group of its own).
func onlyChild(t *testing.T, p *proc) int {
	pid := p.PID()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		t.Fatal(err)
	}
	var children []int
	for _, task := range tasks {
		raw, err := os.ReadFile(task)
		if err != nil {
			continue // the thread ended
		}
		for _, f := range strings.Fields(string(raw)) {
			if c, err := strconv.Atoi(f); err == nil {
				children = append(children, c)
			}
		}
	}
	if len(children) != 1 {
		t.Fatalf("%s (pid %d) has children %v, want its ClickHouse server alone", p.Name(), pid, children)
	}
	return children[0]
}
