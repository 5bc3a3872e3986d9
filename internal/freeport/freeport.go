// Package freeport asks the kernel for unused TCP ports, for servers that
// must be told a port before they listen (ClickHouse, the dev chain, tests).
package freeport

import (
	"errors"
	"net"
	"strconv"
	"sync"
)

var (
	mu    sync.Mutex
	given = map[int]bool{} // ports this process handed out already
)

// Port returns a port free on host ("": 127.0.0.1) at the time of the call,
// and never one it returned before in this process: the kernel may hand a
// port just released out again, and two servers of one test told the same
// port would fight over it.
func Port(host string) (int, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	mu.Lock()
	defer mu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !given[p] {
			given[p] = true
			return p, nil
		}
	}
	return 0, errors.New("freeport: the kernel keeps offering ports already handed out")
}

// Addr returns a free loopback host:port, or 127.0.0.1:0 if none could be had.
func Addr() string {
	p, err := Port("127.0.0.1")
	if err != nil {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
}
