package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

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
	c    paho.Client
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

// DialMQTT connects d to ingest's broker. The connection is kept up: a lost
// one is made again in the background, each time with a freshly signed
// password.
func DialMQTT(ctx context.Context, d *Device, o MQTTOptions) (*MQTT, error) {
	if o.Network == "" {
		o.Network = "fieldmint"
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 20 * time.Second
	}
	co := paho.NewClientOptions().AddBroker(o.Broker).SetClientID(d.ID).SetCleanSession(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetMaxReconnectInterval(5 * time.Second).SetConnectRetryInterval(time.Second).
		SetKeepAlive(30 * time.Second).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).SetOrderMatters(false).
		SetCredentialsProvider(func() (string, string) { return d.ID, d.MQTTPassword(o.Network, time.Now()) })
	if o.TLS != nil {
		co.SetTLSConfig(o.TLS)
	}
	m := &MQTT{dev: d, opts: o, c: paho.NewClient(co)}
	tok := m.c.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return nil, fmt.Errorf("mqtt: connect %s: %w", o.Broker, err)
		}
	case <-ctx.Done():
		m.c.Disconnect(0)
		return nil, ctx.Err()
	}
	return m, nil
}

// Send publishes readings (the device's own, made by Device.Reading) as one
// batch and returns nil once ingest acknowledged it, publishing it again
// until then; it gives up only when ctx ends.
func (m *MQTT) Send(ctx context.Context, readings []*pb.SignedReadingV2) error {
	payload, err := proto.Marshal(&pb.ReadingBatchV2{Readings: readings})
	if err != nil {
		return err
	}
	topic := pb.MQTTTopic(m.dev.ID)
	for {
		tok := m.c.Publish(topic, 1, false, payload)
		timer := time.NewTimer(m.opts.AckTimeout)
		select {
		case <-tok.Done():
			err = tok.Error()
		case <-timer.C:
			err = errors.New("no PUBACK within the ack timeout")
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
		timer.Stop()
		if err == nil {
			return nil
		}
		if m.opts.OnResend != nil {
			m.opts.OnResend(err)
		}
		// Not connected: wait a moment for the reconnection.
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close disconnects, waiting up to a second for publishes in flight.
func (m *MQTT) Close() { m.c.Disconnect(1000) }

// MQTTPassword signs a password for connecting to ingest's MQTT broker as
// this device at t (pb.MQTTPassword): valid for ingest.mqttPasswordMaxAge.
func (d *Device) MQTTPassword(network string, t time.Time) string {
	return pb.MQTTPassword(network, d.ID, t, d.key)
}
