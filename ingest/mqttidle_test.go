package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// pipeListener hands the broker the server ends of in-memory connections:
// as many as memory allows, where sockets stop at the file-descriptor
// limit (20,000 on the machines this was measured on).
type pipeListener struct{ conns chan net.Conn }

func (l pipeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, errors.New("closed")
	}
	return c, nil
}
func (l pipeListener) Close() error   { return nil }
func (l pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// pipeBroker is f's broker on in-memory connections, with n devices
// registered (idle-000000 ...) and the CONNECT packet of each, passwords
// signed.
func pipeBroker(tb testing.TB, f *fixture, n int) (*mqttServer, pipeListener, [][]byte) {
	tb.Helper()
	f.svc.cfg.MQTTMaxConnections = n + 1
	ln := pipeListener{conns: make(chan net.Conn)}
	m, err := f.svc.startMQTT(ln)
	if err != nil {
		tb.Fatal(err)
	}
	dev := f.device("x")
	now := time.Now()
	connects := make([][]byte, n)
	for i := range n {
		d := proto.Clone(dev).(*pb.Device)
		d.DeviceId, d.Active, d.MakerId = fmt.Sprintf("idle-%06d", i), true, testMaker().ID
		f.svc.reg.Put(d)
		pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
			Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: d.DeviceId, Clean: true,
				PasswordFlag: true, Password: []byte(pb.MQTTPassword(f.svc.cfg.Network, d.DeviceId, now, f.key))}}
		var buf bytes.Buffer
		if err := pk.ConnectEncode(&buf); err != nil {
			tb.Fatal(err)
		}
		connects[i] = buf.Bytes()
	}
	return m, ln, connects
}

// connectPipe connects one device over an in-memory pipe and returns the
// device's end.
func connectPipe(tb testing.TB, ln pipeListener, connect []byte) net.Conn {
	server, client := net.Pipe()
	ln.conns <- server
	client.Write(connect)
	ack := make([]byte, 4)
	if _, err := io.ReadFull(client, ack); err != nil || ack[3] != 0 {
		tb.Fatalf("CONNACK % x, %v", ack, err)
	}
	return client
}

// BenchmarkMQTTIdleConnections holds b.N idle MQTT 3.1.1 devices connected
// to the embedded broker and reports what each costs ingest: heap and stack
// (runtime), and resident memory (VmRSS), per connection. The connections
// are in-memory pipes, so kernel socket buffers are not counted (they are
// not the process's). Run it with -benchtime 100000x.
func BenchmarkMQTTIdleConnections(b *testing.B) {
	m, ln, connects := pipeBroker(b, newFixture(b), b.N)
	heap0, stack0 := inUse()
	rss0 := vmRSS()
	b.ResetTimer()
	clients := make([]net.Conn, b.N)
	for i := range b.N {
		clients[i] = connectPipe(b, ln, connects[i])
		connects[i] = nil
	}
	b.StopTimer()
	heap, stack := inUse()
	heap, stack = heap-heap0, stack-stack0
	rss := vmRSS() - rss0
	b.ReportMetric(float64(heap)/float64(b.N), "heap-B/conn")
	b.ReportMetric(float64(stack)/float64(b.N), "stack-B/conn")
	b.ReportMetric(float64(rss)/float64(b.N), "rss-B/conn")
	b.ReportMetric(float64(runtime.NumGoroutine())/float64(b.N), "goroutines/conn")
	for _, c := range clients {
		c.Close()
	}
	m.close()
	close(ln.conns)
}

// TestMQTTCloseWhileDevicesLeave: the broker closes (ingest stopping) while
// thousands of its devices disconnect on their own. mochi's own close path
// deadlocked on exactly this (it read-locks its client map twice); the
// broker must be closed in a few seconds.
func TestMQTTCloseWhileDevicesLeave(t *testing.T) {
	const n = 5000
	m, ln, connects := pipeBroker(t, newFixture(t), n)
	clients := make([]net.Conn, n)
	for i := range n {
		clients[i] = connectPipe(t, ln, connects[i])
	}
	for _, c := range clients {
		go c.Close()
	}
	closed := make(chan struct{})
	go func() { m.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the broker did not close within 20 s while its devices left")
	}
	close(ln.conns)
}

// inUse is the heap and the goroutine stacks in use, after collections
// (each of which may halve a stack that uses under a quarter of itself).
func inUse() (int64, int64) {
	for range 4 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse), int64(m.StackInuse)
}

// vmRSS is this process's resident memory, in bytes.
func vmRSS() int64 {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
