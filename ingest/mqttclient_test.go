package ingest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// rawMQTT is an MQTT client written packet by packet (mochi's codec), for
// what the SDK's 3.1.1 client cannot do: MQTT 5, bad packets, no password.
type rawMQTT struct {
	t    testing.TB
	c    net.Conn
	r    *bufio.Reader
	v    byte
	wait time.Duration // for each packet
}

// dialMQTT connects as id with password ("" for none) in protocol version v
// (4: 3.1.1, 5) and returns the client and the CONNACK's reason code.
func dialMQTT(t testing.TB, conn net.Conn, v byte, id, password string) (*rawMQTT, byte) {
	t.Helper()
	c := &rawMQTT{t: t, c: conn, r: bufio.NewReader(conn), v: v, wait: 5 * time.Second}
	t.Cleanup(func() { conn.Close() })
	name := []byte("MQTT")
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: v,
		Connect: packets.ConnectParams{ProtocolName: name, ClientIdentifier: id, Keepalive: 30, Clean: true,
			PasswordFlag: password != "", Password: []byte(password), UsernameFlag: password != "", Username: []byte(id)}}
	c.send(pk)
	ack, err := c.recv()
	if err != nil {
		t.Fatalf("no CONNACK: %v", err)
	}
	if ack.FixedHeader.Type != packets.Connack {
		t.Fatalf("got packet type %d, want a CONNACK", ack.FixedHeader.Type)
	}
	return c, ack.ReasonCode
}

func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func (c *rawMQTT) send(pk packets.Packet) {
	c.t.Helper()
	pk.ProtocolVersion = c.v
	var b bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&b)
	case packets.Publish:
		err = pk.PublishEncode(&b)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&b)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.c.Write(b.Bytes())
}

// recv reads one packet, waiting at most c.wait.
func (c *rawMQTT) recv() (packets.Packet, error) {
	c.c.SetReadDeadline(time.Now().Add(c.wait))
	hb, err := c.r.ReadByte()
	if err != nil {
		return packets.Packet{}, err
	}
	var pk packets.Packet
	pk.ProtocolVersion = c.v
	if err := pk.FixedHeader.Decode(hb); err != nil {
		return pk, err
	}
	n, _, err := packets.DecodeLength(c.r)
	if err != nil {
		return pk, err
	}
	pk.FixedHeader.Remaining = n
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return pk, err
	}
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(buf)
	case packets.Puback:
		err = pk.PubackDecode(buf)
	case packets.Suback:
		err = pk.SubackDecode(buf)
	case packets.Disconnect:
		err = pk.DisconnectDecode(buf)
	}
	return pk, err
}

// publish sends a QoS 1 publish and returns the PUBACK, or the error that
// ended the wait (the connection closed, no answer in 5 s).
func (c *rawMQTT) publish(id uint16, topic string, payload []byte, props packets.Properties) (packets.Packet, error) {
	c.t.Helper()
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: id, TopicName: topic, Payload: payload, Properties: props})
	for {
		pk, err := c.recv()
		if err != nil || pk.FixedHeader.Type == packets.Puback || pk.FixedHeader.Type == packets.Disconnect {
			return pk, err
		}
	}
}
