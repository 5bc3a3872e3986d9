// Package devbroker runs kfake as the dev tools' Kafka: brokers on loopback
// ports, durable in a directory, any of which (but the controller) can be
// stopped and started again, as a broker of a real cluster goes down and
// comes back: its listener closes, every connection to it is cut, and the
// partitions it led are led by the others until it returns.
//
// kfake keeps one log for the whole cluster, so a stopped broker loses
// nothing, as a broker of a replicated cluster (every topic on every
// broker, acks=all) loses nothing; what clients meet is the real protocol's
// failures (connections refused and reset, NOT_LEADER, NOT_COORDINATOR),
// which they must ride out.
package devbroker

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Cluster is a running kfake cluster whose brokers can be stopped.
type Cluster struct {
	*kfake.Cluster
	ports []int // by node id
	// Aborted is how many abort markers Start wrote for transactions a
	// crash left open (AbortCrashed).
	Aborted int

	mu      sync.Mutex
	stopped map[int32]bool
}

// Start starts one broker per port (node ids 0, 1, ...) persisted in dir;
// sync fsyncs every produced batch. Before it returns, the transactions a
// crash left open in dir get the abort markers kfake does not write
// (AbortCrashed): nothing can produce before then.
func Start(ctx context.Context, dir string, ports []int, sync bool) (*Cluster, error) {
	opts := []kfake.Opt{kfake.NumBrokers(len(ports)), kfake.Ports(ports...), kfake.DataDir(dir), kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(listen)}
	if sync {
		opts = append(opts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, err
	}
	aborted, err := AbortCrashed(ctx, c.ListenAddrs())
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("closing the transactions a crash left open: %w", err)
	}
	return &Cluster{Cluster: c, ports: ports, stopped: map[int32]bool{}, Aborted: aborted}, nil
}

// Controller is the node that kfake answers admin requests on (the last):
// it cannot be stopped.
func (c *Cluster) Controller() int32 { return int32(len(c.ports) - 1) }

// StopBroker stops node: its listener closes, its connections are cut, and
// its partitions move to the other brokers.
func (c *Cluster) StopBroker(node int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case node < 0 || int(node) >= len(c.ports):
		return fmt.Errorf("devbroker: no broker %d (there are %d)", node, len(c.ports))
	case node == c.Controller():
		return fmt.Errorf("devbroker: broker %d is the controller and cannot be stopped", node)
	case c.stopped[node]:
		return fmt.Errorf("devbroker: broker %d is already stopped", node)
	}
	if err := c.RemoveNode(node); err != nil {
		return err
	}
	c.stopped[node] = true
	return nil
}

// StartBroker starts a stopped node again on its port.
func (c *Cluster) StartBroker(node int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped[node] {
		return fmt.Errorf("devbroker: broker %d is not stopped", node)
	}
	if _, _, err := c.AddNode(node, c.ports[node]); err != nil {
		return err
	}
	delete(c.stopped, node)
	return nil
}

// listen is kfake's listener: closing it (which stopping a broker does)
// also cuts every connection it accepted.
func listen(network, address string) (net.Listener, error) {
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return &cutting{Listener: ln, conns: map[net.Conn]bool{}}, nil
}

type cutting struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

func (l *cutting) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	tracked := &trackedConn{Conn: conn, l: l}
	l.conns[tracked] = true
	return tracked, nil
}

func (l *cutting) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for conn := range l.conns {
		conn.(*trackedConn).Conn.Close()
	}
	clear(l.conns)
	return err
}

type trackedConn struct {
	net.Conn
	l *cutting
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// Ports parses --ports (comma-separated, one broker each) or, when it is
// empty, makes n ports from first on.
func Ports(list string, first, n int) ([]int, error) {
	var ports []int
	if list == "" {
		if n < 1 {
			return nil, fmt.Errorf("--brokers must be at least 1, got %d", n)
		}
		for i := range n {
			ports = append(ports, first+i)
		}
		return ports, nil
	}
	for _, f := range strings.Split(list, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("--ports: %q is not a port", f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// Serve runs until ctx ends. With two brokers or more, SIGUSR1 stops broker
// 0 (its connections cut, its partitions led by the others) and SIGUSR2
// starts it again; each change is told on out.
func (c *Cluster) Serve(ctx context.Context, out io.Writer) {
	sigs := make(chan os.Signal, 1)
	if len(c.ports) > 1 {
		signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
		defer signal.Stop(sigs)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-sigs:
			var err error
			what := "stopped"
			if sig == syscall.SIGUSR1 {
				err = c.StopBroker(0)
			} else {
				err, what = c.StartBroker(0), "started again"
			}
			if err != nil {
				fmt.Fprintf(out, "broker: %v\n", err)
			} else {
				fmt.Fprintf(out, "broker: broker 0 (port %d) %s\n", c.ports[0], what)
			}
		}
	}
}
