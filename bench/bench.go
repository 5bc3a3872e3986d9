// Package bench measures fieldmint under load, each role in an OS process
// of its own as deployed: ingest alone (Ingest), the pipeline from HTTP to
// ClickHouse (Pipeline), the proof API over a settled epoch (API) and the
// explorer's pages over a settled network (Explorer). Each returns its
// figures (the JSON object `fieldmint bench NAME --json` prints); progress
// goes to Env.Progress. Dev tooling: the production build links none of it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/procs"
)

// Env is what every bench needs.
type Env struct {
	// Binary is the fieldmint executable whose roles the bench runs (the
	// command passes its own; tests build one).
	Binary string
	// Progress receives progress lines (nil: none).
	Progress io.Writer
}

func (e Env) logf(format string, args ...any) {
	if e.Progress != nil {
		fmt.Fprintf(e.Progress, format+"\n", args...)
	}
}

// stack is the processes a bench starts, in a directory of their own,
// stopped in reverse order; one that exits by itself fails the bench (a
// pipeline with a role missing is not measured).
type stack struct {
	Env
	set procs.Set
	dir string
}

func (e Env) newStack() (*stack, error) {
	if e.Binary == "" {
		return nil, errors.New("bench: no fieldmint binary to run the roles with")
	}
	dir, err := os.MkdirTemp("", "fieldmint-bench-")
	if err != nil {
		return nil, err
	}
	return &stack{Env: e, dir: dir}, nil
}

// start starts a role (this binary with args), env added to ours, its
// output on stderr.
func (s *stack) start(name string, env []string, args ...string) (*procs.Proc, error) {
	return s.set.Start(procs.Options{Name: name, Bin: s.Binary, Args: args, Env: env})
}

// alive fails when a process exited by itself.
func (s *stack) alive() error {
	if err := s.set.Alive(); err != nil {
		return fmt.Errorf("bench: %w; its stderr is above", err)
	}
	return nil
}

// stop stops every process and removes the directory.
func (s *stack) stop() {
	s.set.Stop()
	os.RemoveAll(s.dir)
}

// waitHealthy waits until the /healthz at addr answers, failing when a
// process exits or 30 s pass.
func (s *stack) waitHealthy(ctx context.Context, name, addr string) error {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := s.alive(); err != nil {
			return err
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench: %s did not answer on %s within 30 s", name, addr)
		}
	}
}

// broker starts `fieldmint broker` and returns its address once it listens
// (the roles give up at once if it does not answer yet). Without fsync per
// write, as Kafka itself acknowledges (acks=all is replication, not fsync).
func (s *stack) broker(ctx context.Context) (string, *procs.Proc, error) {
	kport, err := freeport.Port("127.0.0.1")
	if err != nil {
		return "", nil, err
	}
	p, err := s.start("broker", nil, "broker", "--data-dir", filepath.Join(s.dir, "kafka"), "--port", strconv.Itoa(kport))
	if err != nil {
		return "", nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(kport)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr, p, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", nil, errors.New("bench: the broker did not listen within 30 s")
		}
	}
}

// ingest starts `fieldmint ingest` with rate limits off and returns its URL
// once it answers.
func (s *stack) ingest(ctx context.Context, brokers, admin string, extra ...string) (string, *procs.Proc, error) {
	listen := freeport.Addr()
	ing, err := s.start("ingest", nil, append([]string{"ingest", "--log.level", "warn", "--kafka.brokers", brokers, "--kafka.topicPrefix", "bench.",
		"--ingest.listen", listen, "--ingest.clientRate", "0", "--ingest.deviceRate", "0", "--ingest.admins", admin}, extra...)...)
	if err != nil {
		return "", nil, err
	}
	s.logf("bench: ingest (pid %d) starting ...", ing.PID())
	if err := s.waitHealthy(ctx, "ingest", listen); err != nil {
		return "", nil, err
	}
	return "http://" + listen, ing, nil
}

// profileWindow saves a CPU profile of the process serving pprof at addr
// to path, for the measured window's first 10 s (at most d), and answers
// when it is saved; at once when path is "".
func profileWindow(ctx context.Context, addr string, d time.Duration, path string) <-chan error {
	saved := make(chan error, 1)
	if path == "" {
		saved <- nil
		return saved
	}
	go func() {
		saved <- saveProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, min(10, int(d.Seconds())))), path)
	}()
	return saved
}

// saveProfile saves what url serves to path.
func saveProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CPU is a process's user plus system CPU time, from /proc (0: unknown).
func CPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
}

// selfCPU is this process's CPU time (its own, not its children's: the
// roles), to the microsecond: a short run's load generator spends a few
// ticks of /proc's.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MachineCPU is the machine's CPU time so far over every core, and of it
// the time idle (idle and waiting for I/O), from /proc/stat (0s where it
// cannot be read).
func MachineCPU() (total, idle time.Duration) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal (guest time is in user)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	var ticks [8]int64
	for i := range ticks {
		ticks[i], _ = strconv.ParseInt(f[i+1], 10, 64)
		total += time.Duration(ticks[i]) * time.Second / 100
	}
	return total, time.Duration(ticks[3]+ticks[4]) * time.Second / 100
}

// PeakRSS is a process's peak resident set (VmHWM) in bytes, from /proc
// (0: unknown).
func PeakRSS(pid int) int64 { return statusKB(pid, "VmHWM:") }

// RSS is a process's resident set (VmRSS) in bytes (0: unknown).
func RSS(pid int) int64 { return statusKB(pid, "VmRSS:") }

// statusKB reads a "kB" line of /proc/PID/status, in bytes (0: unknown).
func statusKB(pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
