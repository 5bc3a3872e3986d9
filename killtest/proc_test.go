package killtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// proc is one OS process of the pipeline under a supervisor that restarts it
// whenever it exits, as systemd or Kubernetes would, until stop is called.
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	logf string
	// group: the process leads a process group of its own (with whatever it
	// starts, such as the dev stack's ClickHouse server), and kill ends the
	// whole group, as a pulled plug would.
	group bool

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	stopped  bool
	starts   int
	kills    int
	finished chan struct{}
}

func startProc(t *testing.T, dir, name, bin string, env []string, args ...string) *proc {
	return startProcGroup(t, dir, name, bin, false, env, args...)
}

func startProcGroup(t *testing.T, dir, name, bin string, group bool, env []string, args ...string) *proc {
	p := &proc{name: name, bin: bin, args: args, env: env, logf: filepath.Join(dir, name+".log"), group: group, finished: make(chan struct{})}
	go p.supervise(t)
	t.Cleanup(p.stop)
	return p
}

func (p *proc) supervise(t *testing.T) {
	defer close(p.finished)
	for {
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return
		}
		log, err := os.OpenFile(p.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			p.mu.Unlock()
			t.Errorf("%s: %v", p.name, err)
			return
		}
		fmt.Fprintf(log, "=== start %d at %s\n", p.starts+1, time.Now().Format(time.RFC3339Nano))
		cmd := exec.Command(p.bin, p.args...)
		// Killed with the test process, should it die before its cleanup
		// (a run interrupted by hand left whole stacks running).
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: p.group, Pdeathsig: syscall.SIGKILL}
		cmd.Env = append(os.Environ(), p.env...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			p.mu.Unlock()
			log.Close()
			t.Errorf("%s: %v", p.name, err)
			return
		}
		p.cmd, p.exited = cmd, make(chan struct{})
		p.starts++
		exited := p.exited
		p.mu.Unlock()
		err = cmd.Wait()
		fmt.Fprintf(log, "=== exit at %s: %v\n", time.Now().Format(time.RFC3339Nano), err)
		log.Close()
		close(exited)
		time.Sleep(300 * time.Millisecond)
	}
}

// kill sends SIGKILL, the way a crash or an OOM kill ends a process: no
// cleanup, no flush, no goodbye to the consumer group.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if cmd != nil {
		if p.group {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		} else {
			cmd.Process.Kill()
		}
		p.kills++
	}
	p.mu.Unlock()
	if exited != nil {
		<-exited
	}
}

// stop ends the process for good, politely.
func (p *proc) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		<-p.finished
		return
	}
	p.stopped = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	}
	<-p.finished
}

// tail returns the end of the process's log, for failure messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.logf)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// signal sends sig to the process (to its whole group when it leads one):
// SIGSTOP freezes it as a stuck disk or a paused VM would, SIGCONT thaws it.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s: not running", p.name)
	}
	pid := p.cmd.Process.Pid
	if p.group {
		pid = -pid
	}
	return syscall.Kill(pid, sig)
}

// exits is how many times the process ended (killed or not).
func (p *proc) exits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited != nil {
		select {
		case <-p.exited:
			return p.starts
		default:
		}
	}
	return p.starts - 1
}

// reread runs read again while ClickHouse cannot answer, for up to a
// minute: the embedded server is started again when it dies (which chDB
// does when a killed client's connection resets under it; see
// chserver.Options.Restart), and a check must not fail on those seconds.
// An answer from ClickHouse, an error of a query included, ends it.
func reread(ctx context.Context, read func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := read()
		var ex *ch.Exception
		if err == nil || (errors.As(err, &ex) && ex.Code != 236 /* ABORTED: shutting down */) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
