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

// Server is a running child process.
type Server struct {
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
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
	logf, err := os.OpenFile(filepath.Join(o.Path, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server must not outlive us, whatever way we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{
		cmd:      cmd,
		done:     make(chan struct{}),
		TCPAddr:  net.JoinHostPort(o.Host, strconv.Itoa(o.TCPPort)),
		HTTPAddr: net.JoinHostPort(o.Host, strconv.Itoa(o.HTTPPort)),
	}
	go func() { s.waitErr = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx, 90*time.Second); err != nil {
		s.Kill()
		return nil, fmt.Errorf("clickhouse server did not come up (log: %s): %w", filepath.Join(o.Path, "server.log"), err)
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	url := "http://" + s.HTTPAddr + "/ping"
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("server exited: %v", s.waitErr)
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

// PID returns the child's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Done is closed when the child has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop asks the server to exit and kills it if it has not within a few seconds.
// It is safe to call more than once.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.Kill()
	}
}

// Kill ends the server at once (kill -9), as a crash would.
func (s *Server) Kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
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
