package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/sync/errgroup"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Idle opens n MQTT 3.1.1 connections to the load's broker, of devices
// first .. first+n-1 (registered by Prepare), that send nothing after their
// CONNECT (keep-alive 0: none is expected); progress is told every 1,000.
// It returns once all are accepted, with the function that closes them.
// Written packet by packet (mochi's codec), not with the SDK: a paho client
// is several goroutines and buffers per connection, and the figure wanted
// is ingest's memory, not this process's.
func (l *Load) Idle(ctx context.Context, first, n int, progress func(connected int)) (func(), error) {
	if l.opts.MQTT == "" || first+n > len(l.keys) {
		return nil, fmt.Errorf("loadgen: idle connections need an MQTT broker and %d registered devices", first+n)
	}
	addr := strings.TrimPrefix(l.opts.MQTT, "tcp://")
	network := l.opts.Network
	if network == "" {
		network = "fieldmint"
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  atomic.Int64
	)
	closeAll := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for i := first; i < first+n; i++ {
		g.Go(func() error {
			id := deviceID(i)
			pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
				Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: true,
					UsernameFlag: true, Username: []byte(id), PasswordFlag: true, Password: []byte(pb.MQTTPassword(network, id, time.Now(), l.keys[i]))}}
			var b bytes.Buffer
			if err := pk.ConnectEncode(&b); err != nil {
				return err
			}
			var d net.Dialer
			c, err := d.DialContext(gctx, "tcp", addr)
			if err != nil {
				return err
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			ack := make([]byte, 4)
			if _, err := c.Write(b.Bytes()); err != nil {
				return err
			}
			if _, err := io.ReadFull(c, ack); err != nil {
				return fmt.Errorf("loadgen: %s: no CONNACK: %w", id, err)
			}
			if ack[0] != 0x20 || ack[3] != 0 {
				return fmt.Errorf("loadgen: %s: CONNACK % x", id, ack)
			}
			c.SetDeadline(time.Time{})
			if k := done.Add(1); k%1000 == 0 && progress != nil {
				progress(int(k))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		closeAll()
		return nil, err
	}
	return closeAll, nil
}
