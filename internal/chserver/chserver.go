// Package chserver runs a real ClickHouse server (26.x) in a child process.
//
// ClickHouse ships here as chDB, ClickHouse compiled into a shared library
// (npm package @chdb/lib-linux-x64-gnu). Its clickhouse-local entry point,
// chdb_query_cmdline, can open real TCP and HTTP listeners. ClickHouse installs
// its own signal handlers and threads, so it never runs inside a pipeline
// process: Start re-executes the current binary in "serve" mode, and that child
// loads the library with purego (no cgo needed) and blocks in the query that
// keeps the listeners up. Any binary that may start a server must call
// ServeIfChild first thing in main (or TestMain).
package chserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// LibraryVersion is the chDB package version the project pins.
const LibraryVersion = "26.7.3-stable.1"

// childEnv carries the serve options to a re-executed child.
const childEnv = "FIELDMINT_CLICKHOUSE_SERVE"

// ErrLibraryNotFound means libchdb.so is neither configured nor in the cache.
var ErrLibraryNotFound = errors.New("chserver: libchdb.so not found; run `make deps` (or scripts/fetch-chdb.sh) or set FIELDMINT_CHDB_LIB")

// Options describe one server.
type Options struct {
	Library  string // path to libchdb.so; empty: DefaultLibrary()
	Path     string // data directory (created)
	Host     string // listen host; empty: 127.0.0.1
	TCPPort  int    // native protocol port; 0: pick a free one
	HTTPPort int    // HTTP port; 0: pick a free one
	// Restart starts the server again whenever it exits without Stop or
	// Kill, on the same data: chDB's embedded server dies (std::terminate
	// on an uncaught NetException in a TCPHandler thread, seen with chDB
	// 26.7) when a client resets a connection the server is still writing
	// to, as every client does that gave up during a freeze of the server.
	// A real clickhouse-server logs that and goes on; with Restart the
	// embedded one costs a few seconds of outage instead of staying down.
	Restart bool
	// Users, when set, is a users file (profiles, roles, users and quotas
	// sections) the server starts with, beside the default user. clickhouse-
	// local keeps users in files only (CREATE USER has no storage to write
	// to), and reads them once, at start.
	Users []byte `json:"-"`
	// QueryLogs keeps system.query_log, query_views_log and part_log
	// (flushed every second), to measure where the server's CPU goes
	// (`fieldmint bench pipeline --clickhouse-split`). Off by default:
	// writing them costs the server CPU of its own.
	QueryLogs bool `json:"-"`
}

// DefaultLibrary returns where libchdb.so is looked for: $FIELDMINT_CHDB_LIB,
// else the user cache that `make deps` fills.
func DefaultLibrary() string {
	if p := os.Getenv("FIELDMINT_CHDB_LIB"); p != "" {
		return p
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "fieldmint", "chdb", LibraryVersion, "libchdb.so")
}

// Server is a running child process (or, with Options.Restart, a series
// of them on the same data).
type Server struct {
	exe, spec, logPath string
	restart            bool

	mu       sync.Mutex
	cmd      *exec.Cmd     // the current child
	exited   chan struct{} // closed when the current child has exited
	waitErr  error         // its exit status
	stopping bool          // Stop or Kill was called: no restart
	done     chan struct{} // closed when the server is down for good

	TCPAddr  string // host:port of the native protocol
	HTTPAddr string // host:port of the HTTP interface
}

// Start launches the server and returns once it answers /ping.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Library == "" {
		o.Library = DefaultLibrary()
	}
	if _, err := os.Stat(o.Library); err != nil {
		return nil, fmt.Errorf("%w (looked at %s)", ErrLibraryNotFound, o.Library)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	var err error
	if o.Path, err = filepath.Abs(o.Path); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Path, 0o755); err != nil {
		return nil, err
	}
	if err := writeConfig(o.Path, o.Users, o.QueryLogs); err != nil {
		return nil, err
	}
	for _, p := range []*int{&o.TCPPort, &o.HTTPPort} {
		if *p == 0 {
			if *p, err = freeport.Port(o.Host); err != nil {
				return nil, err
			}
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	spec, _ := json.Marshal(o)
	s := &Server{
		exe: exe, spec: string(spec), logPath: filepath.Join(o.Path, "server.log"), restart: o.Restart,
		done:     make(chan struct{}),
		TCPAddr:  net.JoinHostPort(o.Host, strconv.Itoa(o.TCPPort)),
		HTTPAddr: net.JoinHostPort(o.Host, strconv.Itoa(o.HTTPPort)),
	}
	if err := s.spawn(); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, 90*time.Second); err != nil {
		s.Kill()
		return nil, fmt.Errorf("clickhouse server did not come up (log: %s): %w", s.logPath, err)
	}
	go s.watch()
	return s, nil
}

// spawn starts a child serving the data directory.
func (s *Server) spawn() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.exe)
	cmd.Env = append(os.Environ(), childEnv+"="+s.spec)
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server must not outlive us, whatever way we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		close(exited)
	}()
	return nil
}

// state is the current child's exit (closed when it has exited) and
// status, and whether Stop or Kill was called.
func (s *Server) state() (exited chan struct{}, waitErr error, stopping bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited, s.waitErr, s.stopping
}

// watch closes done when the child exits, or with Restart, starts it
// again unless it was stopped (or cannot come up again).
func (s *Server) watch() {
	defer close(s.done)
	for {
		exited, _, _ := s.state()
		<-exited
		_, err, stopping := s.state()
		if stopping || !s.restart {
			return
		}
		note := fmt.Sprintf("chserver: the server exited (%v); starting it again on the same data", err)
		fmt.Fprintln(os.Stderr, note)
		if f, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintln(f, note)
			f.Close()
		}
		time.Sleep(time.Second)
		if _, _, stopping := s.state(); stopping {
			return
		}
		if err := s.spawn(); err != nil {
			fmt.Fprintln(os.Stderr, "chserver: could not start the server again:", err)
			return
		}
		if err := s.waitReady(context.Background(), 90*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "chserver: the server did not come up again:", err)
			s.Kill()
			return
		}
	}
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	url := "http://" + s.HTTPAddr + "/ping"
	for time.Now().Before(deadline) {
		exited, _, _ := s.state()
		select {
		case <-exited:
			_, err, _ := s.state()
			return fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("timed out waiting for /ping")
}

// PID returns the current child's process id.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Pid
}

// Done is closed when the server is down for good: its child exited
// (without Restart), or it was stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// LogTail returns the last n lines of the server's output (its log file,
// which goes with its data directory): what to show when it died.
func (s *Server) LogTail(n int) string {
	raw, err := os.ReadFile(s.logPath)
	if err != nil || len(raw) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Stop asks the server to exit and kills it if it has not within a few seconds.
// It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopping = true
	cmd := s.cmd
	s.mu.Unlock()
	select {
	case <-s.done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
}

// Kill ends the server at once (kill -9), as a crash would, for good.
func (s *Server) Kill() {
	s.mu.Lock()
	s.stopping = true
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// ServeIfChild turns this process into the ClickHouse server when it was
// started by Start, and never returns in that case.
func ServeIfChild() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	var o Options
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		fmt.Fprintln(os.Stderr, "chserver: bad spec:", err)
		os.Exit(2)
	}
	os.Exit(Serve(o))
}

// Serve runs the server in this process until it is killed. It returns an exit
// code when ClickHouse stops by itself.
func Serve(o Options) int {
	runtime.LockOSThread()
	lib, err := purego.Dlopen(o.Library, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chserver: load", o.Library, ":", err)
		return 2
	}
	var queryCmdline func(argc int32, argv unsafe.Pointer) uintptr
	var resultError func(res uintptr) *byte
	purego.RegisterLibFunc(&queryCmdline, lib, "chdb_query_cmdline")
	purego.RegisterLibFunc(&resultError, lib, "chdb_result_error")
	args := []string{
		"clickhouse",
		"--path=" + o.Path,
		"--listen_host=" + o.Host,
		"--tcp_port=" + strconv.Itoa(o.TCPPort),
		"--http_port=" + strconv.Itoa(o.HTTPPort),
		// sleepEachRow below keeps the call, and so the listeners, alive.
		"--function_sleep_max_microseconds_per_block=0",
		"--multiquery",
		"--query=SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; SELECT sleepEachRow(3600) FROM numbers(1000000) FORMAT Null",
	}
	// Start wrote it when the server has users of its own (Options.Users).
	if cfg := filepath.Join(o.Path, "config.xml"); fileExists(cfg) {
		args = append(args[:1], append([]string{"--config-file=" + cfg}, args[1:]...)...)
	}
	cargs := make([]*byte, len(args)+1)
	keep := make([][]byte, len(args))
	for i, a := range args {
		keep[i] = append([]byte(a), 0)
		cargs[i] = &keep[i][0]
	}
	res := queryCmdline(int32(len(args)), unsafe.Pointer(&cargs[0]))
	runtime.KeepAlive(keep)
	if res != 0 {
		if e := resultError(res); e != nil {
			fmt.Fprintln(os.Stderr, "chserver:", goString(e))
			return 1
		}
	}
	return 0
}

func goString(p *byte) string {
	var b []byte
	for ptr := unsafe.Pointer(p); *(*byte)(ptr) != 0; ptr = unsafe.Add(ptr, 1) {
		b = append(b, *(*byte)(ptr))
	}
	return string(b)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
