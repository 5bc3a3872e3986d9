package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	paho "github.com/eclipse/paho.mqtt.golang"
	"google.golang.org/protobuf/proto"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// MQTT is one device's MQTT connection to ingest's broker (MQTT 3.1.1, QoS
// 1, through github.com/eclipse/paho.mqtt.golang). Send publishes a batch of
// the device's readings to its topic and returns once ingest acknowledged
// it: a PUBACK, which ingest sends only after Kafka has every reading.
//
// A batch not acknowledged is kept and published again until it is (the
// outbox): over a connection lost and made again, an ingest restarted, a
// broker that lost the session and with it the message. A batch that
// reached Kafka but whose PUBACK was lost is so sent twice; the validators
// recognise the second as a duplicate. With MQTT 3.1.1 ingest acknowledges
// a forged or malformed reading and drops it (docs/api.md): Send cannot
// tell it from an accepted one.
type MQTT struct {
	dev  *Device
	opts MQTTOptions

	mu   sync.Mutex
	conn *mqttConn // the connection Send publishes on; replaced when lost
}

// mqttConn is one connection: a paho client of its own, so that nothing of a
// lost connection (its tokens, its message ids, its store) can complete or
// delay a publish of the next. paho's own reconnection keeps the client and
// its pending tokens across connections, which is why it is not used.
type mqttConn struct {
	c    paho.Client
	lost chan struct{} // closed when the connection is lost
}

// MQTTOptions configures DialMQTT.
type MQTTOptions struct {
	// Broker is ingest's MQTT address: "tcp://host:1883", or "tls://host:8883".
	Broker string
	// Network is the deployment's name that passwords are signed for
	// (ingest.network; default "fieldmint").
	Network string
	// TLS configures a tls:// broker; a certificate of the device's own key
	// in it authenticates the device instead of a password.
	TLS *tls.Config
	// AckTimeout is how long Send waits for a PUBACK before publishing the
	// batch again (default 20 s: longer than ingest's produceTimeout).
	AckTimeout time.Duration
	// OnResend, if set, is told each time a batch is published again.
	OnResend func(err error)
}

// DialMQTT connects d to ingest's broker. A lost connection is made again
// by the next Send, with a freshly signed password.
func DialMQTT(ctx context.Context, d *Device, o MQTTOptions) (*MQTT, error) {
	if o.Network == "" {
		o.Network = "fieldmint"
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 20 * time.Second
	}
	m := &MQTT{dev: d, opts: o}
	if _, err := m.connected(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// connected returns the connection, made anew if there is none or it was
// lost.
func (m *MQTT) connected(ctx context.Context) (*mqttConn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn != nil {
		select {
		case <-m.conn.lost:
		default:
			return m.conn, nil
		}
	}
	conn := &mqttConn{lost: make(chan struct{})}
	co := paho.NewClientOptions().AddBroker(m.opts.Broker).SetClientID(m.dev.ID).SetCleanSession(true).
		SetAutoReconnect(false).SetKeepAlive(30 * time.Second).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		SetOrderMatters(false).
		SetCredentialsProvider(func() (string, string) { return m.dev.ID, m.dev.MQTTPassword(m.opts.Network, time.Now()) }).
		// paho fails the connection's pending publishes itself, and this
		// wakes the Sends waiting on them at once.
		SetConnectionLostHandler(func(paho.Client, error) { close(conn.lost) })
	if m.opts.TLS != nil {
		co.SetTLSConfig(m.opts.TLS)
	}
	conn.c = paho.NewClient(co)
	tok := conn.c.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return nil, fmt.Errorf("mqtt: connect %s: %w", m.opts.Broker, err)
		}
	case <-ctx.Done():
		go conn.c.Disconnect(0)
		return nil, ctx.Err()
	}
	m.conn = conn
	return conn, nil
}

// drop closes conn, if it is still the one in use: a publish on it went
// unanswered, and the next Send connects again.
func (m *MQTT) drop(conn *mqttConn) {
	m.mu.Lock()
	if m.conn == conn {
		m.conn = nil
	}
	m.mu.Unlock()
	conn.c.Disconnect(0)
}

// Send publishes readings (the device's own, made by Device.Reading) as one
// batch and returns nil once ingest acknowledged it, publishing it again
// until then, over a new connection when the last one was lost or went
// quiet; it gives up only when ctx ends.
func (m *MQTT) Send(ctx context.Context, readings []*pb.SignedReadingV2) error {
	payload, err := proto.Marshal(&pb.ReadingBatchV2{Readings: readings})
	if err != nil {
		return err
	}
	return m.Publish(ctx, payload)
}

// Publish is Send of a batch already encoded: a ReadingBatchV2 of the
// device's own readings.
func (m *MQTT) Publish(ctx context.Context, payload []byte) error {
	topic := pb.MQTTTopic(m.dev.ID)
	// Backing off, from 200 ms to 5 s, with jitter (as the HTTP client
	// does): a restarted ingest is not met by every device at once.
	wait := &backoff.ExponentialBackOff{InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: 5 * time.Second}
	for {
		conn, err := m.connected(ctx)
		if err == nil {
			tok := conn.c.Publish(topic, 1, false, payload)
			timer := time.NewTimer(m.opts.AckTimeout)
			select {
			case <-tok.Done():
				err = tok.Error()
			case <-conn.lost:
				err = errors.New("connection lost before the PUBACK")
			case <-timer.C:
				err = errors.New("no PUBACK within the ack timeout")
				m.drop(conn)
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			}
			timer.Stop()
			if err == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if m.opts.OnResend != nil {
			m.opts.OnResend(err)
		}
		select {
		case <-time.After(wait.NextBackOff()):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close disconnects, waiting up to a second for publishes in flight.
func (m *MQTT) Close() {
	m.mu.Lock()
	conn := m.conn
	m.conn = nil
	m.mu.Unlock()
	if conn != nil {
		conn.c.Disconnect(1000)
	}
}

// MQTTPassword signs a password for connecting to ingest's MQTT broker as
// this device at t (pb.MQTTPassword): valid for ingest.mqttPasswordMaxAge.
func (d *Device) MQTTPassword(network string, t time.Time) string {
	return pb.MQTTPassword(network, d.ID, t, d.key)
}
