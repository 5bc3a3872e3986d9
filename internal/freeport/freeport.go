// Package freeport asks the kernel for unused TCP ports, for servers that
// must be told a port before they listen (ClickHouse, the dev chain, tests).
package freeport

import (
	"net"
	"strconv"
)

// Port returns a port free on host ("" : 127.0.0.1) at the time of the call.
func Port(host string) (int, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns a free loopback host:port, or 127.0.0.1:0 if none could be had.
func Addr() string {
	p, err := Port("127.0.0.1")
	if err != nil {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
}
