// Package procs runs OS processes for the benches and the kill tests: each
// with its output in a log file (or on stderr), killed with this process
// if it dies first, and either restarted whenever it exits (as systemd or
// Kubernetes would) or reported when it exits by itself. Hand-written over
// os/exec: the supervisors of the field (systemd, s6) are not libraries, and
// what is needed here (a kill that skips cleanup, a process group frozen
// with SIGSTOP) is a few lines of syscall.
package procs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Options describe a process.
type Options struct {
	Name string
	Bin  string
	Args []string
	Env  []string // added to this process's environment
	// Log is the file the process's output is appended to (with a line at
	// each start and exit); empty: its output goes to this process's stderr.
	Log string
	// Restart starts it again whenever it exits, until Stop.
	Restart bool
	// Group: it leads a process group of its own (with what it starts, such
	// as the dev stack's ClickHouse server), and Kill and Signal reach the
	// whole group, as a pulled plug would.
	Group bool
}

// Proc is a running process (restarted, with Options.Restart).
type Proc struct {
	o Options

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current run ends
	waitErr  error         // the last run's exit
	stopped  bool
	starts   int
	kills    int
	finished chan struct{} // closed when supervision ends
}

// Start starts the process; an error means its first start failed.
func Start(o Options) (*Proc, error) {
	p := &Proc{o: o, finished: make(chan struct{})}
	if err := p.startOnce(); err != nil {
		return nil, err
	}
	go p.supervise()
	return p, nil
}

// startOnce starts one run (p.mu held by none).
func (p *Proc) startOnce() error {
	out := io.Writer(os.Stderr)
	var log *os.File
	if p.o.Log != "" {
		var err error
		if log, err = os.OpenFile(p.o.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return fmt.Errorf("%s: %w", p.o.Name, err)
		}
		fmt.Fprintf(log, "=== start %d at %s\n", p.starts+1, time.Now().Format(time.RFC3339Nano))
		out = log
	}
	cmd := exec.Command(p.o.Bin, p.o.Args...)
	// Killed with this process, should it die before stopping them (a run
	// interrupted by hand left whole stacks running).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: p.o.Group, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), p.o.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		if log != nil {
			log.Close()
		}
		return fmt.Errorf("%s: %w", p.o.Name, err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		if log != nil {
			fmt.Fprintf(log, "=== exit at %s: %v\n", time.Now().Format(time.RFC3339Nano), err)
			log.Close()
		}
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(exited)
	}()
	return nil
}

// supervise restarts the process when it exits, with Restart, until Stop.
func (p *Proc) supervise() {
	defer close(p.finished)
	for {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		<-exited
		time.Sleep(300 * time.Millisecond)
		p.mu.Lock()
		stopped := p.stopped
		p.mu.Unlock()
		if stopped || !p.o.Restart {
			return
		}
		if err := p.startOnce(); err != nil {
			fmt.Fprintf(os.Stderr, "procs: restart: %v\n", err)
			return
		}
	}
}

// Name is the process's name.
func (p *Proc) Name() string { return p.o.Name }

// PID is the current run's process id.
func (p *Proc) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL, the way a crash or an OOM kill ends a process: no
// cleanup, no flush, no goodbye to the consumer group. It returns once the
// run has ended (a restart follows, with Restart).
func (p *Proc) Kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	if p.o.Group {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	} else {
		cmd.Process.Kill()
	}
	p.kills++
	p.mu.Unlock()
	<-exited
}

// Stop ends the process for good, politely (SIGTERM, then SIGKILL after
// 10 s), and returns once it has.
func (p *Proc) Stop() {
	p.mu.Lock()
	already := p.stopped
	p.stopped = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if !already {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	}
	<-p.finished
}

// Signal sends sig to the process (to its whole group when it leads one):
// SIGSTOP freezes it as a stuck disk or a paused VM would, SIGCONT thaws it.
func (p *Proc) Signal(sig syscall.Signal) error {
	pid := p.PID()
	if p.o.Group {
		pid = -pid
	}
	return syscall.Kill(pid, sig)
}

// Exited returns, for a process without Restart, why it exited (nil while
// it runs, or after Stop).
func (p *Proc) Exited() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.exited:
		if p.stopped {
			return nil
		}
		return fmt.Errorf("%s (pid %d) exited: %v", p.o.Name, p.cmd.Process.Pid, p.waitErr)
	default:
		return nil
	}
}

// Starts and Kills count the runs started and the kills sent.
func (p *Proc) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Kills counts the kills sent.
func (p *Proc) Kills() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kills
}

// Exits is how many times the process ended (killed or not).
func (p *Proc) Exits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.exited:
		return p.starts
	default:
		return p.starts - 1
	}
}

// Log returns the log file's path ("" when the output goes to stderr).
func (p *Proc) Log() string { return p.o.Log }

// Tail returns the end of the process's log, for failure messages.
func (p *Proc) Tail() string {
	b, _ := os.ReadFile(p.o.Log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// Set is processes started together and stopped together, in reverse
// order (the broker after the roles that use it).
type Set struct {
	mu    sync.Mutex
	procs []*Proc
}

// Start starts a process in the set.
func (s *Set) Start(o Options) (*Proc, error) {
	p, err := Start(o)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// Alive returns an error naming a process of the set that exited by itself,
// if one did.
func (s *Set) Alive() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, p := range s.procs {
		if err := p.Exited(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stop stops every process, the last started first.
func (s *Set) Stop() {
	s.mu.Lock()
	procs := s.procs
	s.procs = nil
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Stop()
	}
}
