package devbroker

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// A stopped broker refuses connections and cuts the ones it had; a client
// of the cluster goes on producing through the others, and every record is
// there once the broker is back.
func TestStopAndStartABroker(t *testing.T) {
	var ports []int
	for range 3 {
		p, err := freeport.Port("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, p)
	}
	c, err := Start(context.Background(), t.TempDir(), ports, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("t"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(n int) {
		t.Helper()
		for i := range n {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
		}
	}
	produce(10)
	first := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	// A connection to broker 0, open when it stops.
	conn, err := net.Dial("tcp", first)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := c.StopBroker(c.Controller()); err == nil {
		t.Fatal("stopped the controller")
	}
	if err := c.StopBroker(0); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection to the stopped broker still reads")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a connection to the stopped broker was not cut")
	}
	if c2, err := net.Dial("tcp", first); err == nil {
		c2.Close()
		t.Fatal("the stopped broker accepts connections")
	}
	produce(10)
	if err := c.StartBroker(0); err != nil {
		t.Fatal(err)
	}
	if c2, err := net.Dial("tcp", first); err != nil {
		t.Fatalf("broker 0 started again does not accept connections: %v", err)
	} else {
		c2.Close()
	}
	consumer, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("t"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	got := 0
	for got < 20 {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of 20", got)
		}
		got += fs.NumRecords()
	}
}

func TestPorts(t *testing.T) {
	if p, err := Ports("", 9092, 3); err != nil || !slices.Equal(p, []int{9092, 9093, 9094}) {
		t.Errorf("3 from 9092: %v %v", p, err)
	}
	if p, err := Ports("19092, 19192", 9092, 1); err != nil || !slices.Equal(p, []int{19092, 19192}) {
		t.Errorf("a list: %v %v", p, err)
	}
	for _, bad := range []string{"9092,x", "0", "70000"} {
		if _, err := Ports(bad, 9092, 1); err == nil || !strings.Contains(err.Error(), "is not a port") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := Ports("", 9092, 0); err == nil {
		t.Error("no brokers accepted")
	}
}
