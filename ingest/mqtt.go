// MQTT: devices publish the body of a POST /v2/readings to their own topic,
// fieldmint/v2/{deviceId}/readings, and get the PUBACK only once Kafka
// acknowledged every reading of the publish: the promise an HTTP 2xx makes.
//
// The broker is github.com/mochi-mqtt/server/v2, embedded: MQTT 3.1.1 and 5
// in one kept, pure-Go server whose hooks run in each connection's read loop,
// so a publish's PUBACK can wait for Kafka without buffering anything. The
// alternative in the package lists, github.com/eclipse/paho.mqtt.golang, is a
// client (the SDK's transport, ingest/client/mqtt.go).

package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// mqttRejectedProperty names the MQTT 5 PUBACK user property that carries a
// rejected reading of a publish otherwise accepted: "<index> <CODE>".
const mqttRejectedProperty = "fieldmint-rejected"

// mqttServer is ingest's embedded MQTT broker.
type mqttServer struct {
	s      *Service
	broker *mqtt.Server
	ln     *mqttListener
}

// startMQTT serves MQTT on ln until close. With TLS, ln is a TLS listener
// that asks each device for a certificate of its own key (listenMQTT).
func (s *Service) startMQTT(ln net.Listener) (*mqttServer, error) {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClients = int64(s.cfg.MQTTMaxConnections)
	caps.MaximumQos = 1           // QoS 2 publishes are taken as QoS 1 (MQTT 5 is told in CONNACK)
	caps.RetainAvailable = 0      // nothing is retained: readings go to Kafka
	caps.WildcardSubAvailable = 0 // devices do not subscribe (OnACLCheck refuses every filter)
	caps.SharedSubAvailable = 0
	caps.SubIDAvailable = 0
	caps.TopicAliasMaximum = 0
	// Small per connection, for 100k of them per replica: the broker sends
	// a device nothing but acknowledgements, so a short outbound queue does.
	caps.MaximumClientWritesPending = 8
	caps.MaximumInflight = 16
	caps.ReceiveMaximum = 16
	caps.MaximumSessionExpiryInterval = 0 // nothing waits on the server for a device gone: the device resends
	caps.MaximumPacketSize = uint32(s.cfg.MaxBodyBytes) + 1024
	m := &mqttServer{s: s, ln: &mqttListener{ln: ln, deadline: s.cfg.MQTTConnectDeadline}}
	m.ln.disconnect = m.disconnectAll
	m.broker = mqtt.New(&mqtt.Options{
		Capabilities:            caps,
		ClientNetReadBufferSize: 1024, ClientNetWriteBufferSize: 256,
		SysTopicResendInterval: 3600,
		// The broker's own lines (a device that dropped, a bad packet) are
		// debug: at 100k devices they would drown the log.
		Logger: slog.New(debugOnly{s.log.Handler()}),
	})
	if err := m.broker.AddHook(&mqttHook{m: m}, nil); err != nil {
		return nil, err
	}
	if err := m.broker.AddListener(m.ln); err != nil {
		return nil, err
	}
	if err := m.broker.Serve(); err != nil {
		return nil, err
	}
	s.metrics.observeConnections(&m.broker.Info.ClientsConnected)
	return m, nil
}

// close stops accepting, then disconnects every device. A publish waiting
// for Kafka is answered first or never: either way the device sends it
// again, and a reading stored twice is recognised by the validators.
func (m *mqttServer) close() { m.broker.Close() }

// disconnectAll disconnects every device. Not mochi's own way (the
// listener's close callback, Clients.GetByListener), which read-locks the
// client map twice over: a device disconnecting in between, as thousands do
// when ingest stops, deadlocks it (BenchmarkMQTTIdleConnections at 100,000
// connections hung there).
func (m *mqttServer) disconnectAll() {
	for _, cl := range m.broker.Clients.GetAll() {
		if !cl.Closed() {
			m.broker.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
}

// addr is the address the broker listens on.
func (m *mqttServer) addr() net.Addr { return m.ln.ln.Addr() }

// serving reports whether the listener still accepts (for /readyz).
func (m *mqttServer) serving() error {
	if m.ln.closed.Load() {
		return errors.New("the MQTT listener is closed")
	}
	return nil
}

// mqttHook is where ingest meets the broker: who may connect, where a
// device may publish, and what a publish becomes.
type mqttHook struct {
	mqtt.HookBase
	m *mqttServer
}

func (h *mqttHook) ID() string { return "fieldmint-ingest" }

func (h *mqttHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnPacketEncode}, []byte{b})
}

// OnPacketEncode corrects mochi's PUBACK of an accepted QoS 1 publish, whose
// reason code is the QoS granted (0x01, a SUBACK code) where MQTT 5 wants
// 0x00 Success; it shows when the PUBACK carries properties (rejected
// readings), which make the reason code go on the wire.
func (h *mqttHook) OnPacketEncode(_ *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Puback && pk.ReasonCode == packets.CodeGrantedQos1.Code {
		pk.ReasonCode = packets.CodeSuccess.Code
	}
	return pk
}

// OnConnectAuthenticate admits a device whose client id is a registered,
// active device and which proves it holds that device's key: a TLS client
// certificate of the key, or a password made by pb.MQTTPassword no older
// than ingest.mqttPasswordMaxAge; or a LoRaWAN network server whose user
// name is its name and password its token (ingest.networkServers). A device's
// user name is not used, unless it is a network server's.
func (h *mqttHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	var reason string
	if _, ns := h.m.s.lorawan[string(pk.Connect.Username)]; ns {
		if h.m.s.lorawan.byToken(string(pk.Connect.Password)) != string(pk.Connect.Username) {
			reason = CodeBadToken
		}
	} else {
		reason = h.m.s.authenticate(cl.ID, string(pk.Connect.Password), peerKey(cl.Net.Conn))
	}
	if reason != "" {
		h.m.s.metrics.mqttConnects.Add(context.Background(), 1, reasonAttr(reason))
		h.m.s.log.Debug("mqtt: connection refused", "client", cl.ID, "remote", cl.Net.Remote, "reason", reason)
		return false
	}
	h.m.s.metrics.mqttConnects.Add(context.Background(), 1, reasonAttr("OK"))
	return true
}

// OnACLCheck lets a device publish to its own readings topic and nowhere
// else; nobody subscribes to anything. A publish elsewhere is refused: MQTT
// 5 gets PUBACK 0x87 (not authorized), 3.1.1 is disconnected. A network
// server publishes ChirpStack's event topics,
// application/{applicationId}/device/{devEui}/event/{event}.
func (h *mqttHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	var ok bool
	if h.networkServer(cl) != "" {
		_, _, ok = chirpStackTopic(topic)
	} else {
		ok = topic == pb.MQTTTopic(cl.ID)
	}
	ok = ok && write
	if !ok && write {
		h.m.s.metrics.mqttPublishes.Add(context.Background(), 1, reasonAttr(CodeForeignTopic))
	}
	return ok
}

// OnPublish judges a publish as POST /v2/readings judges a body, in the
// connection's read loop: the PUBACK is written only after this returns, so
// only after Kafka acknowledged every reading it accepted.
func (h *mqttHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	start := time.Now()
	ctx := context.Background()
	var v verdict
	if ns := h.networkServer(cl); ns != "" {
		var event string
		if v, event = h.m.s.judgeUplinkPublish(ns, pk.TopicName, pk.Payload); event != "up" {
			h.m.s.countUplink(ctx, "mqtt", "IGNORED")
			return pk, nil // join, status, log, ...: acknowledged, not readings
		}
		h.m.s.countUplink(ctx, "mqtt", v.code())
	} else {
		v = h.m.s.judgePublish(cl.ID, pk.Payload, pk.Properties.ContentType)
	}
	h.m.s.metrics.mqttPublishes.Add(ctx, 1, reasonAttr(orOK(v.code())))
	v5, qos1 := cl.Properties.ProtocolVersion == 5, pk.FixedHeader.Qos > 0
	if qos1 {
		defer func() { h.m.s.metrics.mqttAck.Record(ctx, time.Since(start).Seconds()) }()
	}
	switch {
	case v.status == http.StatusOK:
		// Accepted, maybe but for some readings: MQTT 5 is told which, in
		// user properties of the PUBACK (mochi acknowledges with the
		// properties of the packet returned here).
		out := pk
		out.Properties = packets.Properties{}
		if v5 {
			for i, r := range v.res.Results {
				if r.Code != "" && len(out.Properties.User) < 100 {
					out.Properties.User = append(out.Properties.User, packets.UserProperty{Key: mqttRejectedProperty, Val: strconv.Itoa(i) + " " + r.Code})
				}
			}
		}
		return out, nil
	case !qos1:
		return pk, packets.ErrRejectPacket // QoS 0: nothing to answer
	case v5:
		return pk, packets.Code{Code: mqttReasonCode(v), Reason: v.code() + ": " + v.message()}
	case v.retry > 0:
		// 3.1.1 has no negative acknowledgement: no PUBACK, and the
		// connection closed, so that the device sends the publish again
		// when it reconnects, as MQTT redelivers an unacknowledged QoS 1
		// message.
		h.m.broker.DisconnectClient(cl, packets.ErrServerBusy)
		return pk, packets.ErrRejectPacket
	default:
		// 3.1.1, refused for good (a forged or malformed reading): the
		// PUBACK is sent and the readings dropped, so that the device does
		// not send them for ever; counted in fieldmint.ingest.mqtt.publishes.
		return pk, packets.CodeSuccessIgnore
	}
}

// networkServer is the LoRaWAN network server a client connected as, or ""
// (OnConnectAuthenticate admitted it only with that server's token).
func (h *mqttHook) networkServer(cl *mqtt.Client) string {
	if _, ok := h.m.s.lorawan[string(cl.Properties.Username)]; ok {
		return string(cl.Properties.Username)
	}
	return ""
}

// authenticate returns why a device may not connect, or "".
func (s *Service) authenticate(id, password string, certKey ed25519.PublicKey) string {
	dev, _ := s.reg.Lookup(id)
	switch {
	case dev == nil:
		return CodeUnknownDevice
	case dev.Denied:
		return CodeDeviceDenylisted
	case !dev.Active:
		return CodeDeviceInactive
	case certKey != nil:
		if !bytes.Equal(certKey, dev.PublicKey) {
			return CodeBadSignature
		}
		return ""
	}
	at, err := pb.VerifyMQTTPassword(s.cfg.Network, id, password, dev.PublicKey)
	if err != nil {
		return CodeBadSignature
	}
	if age := s.now().Sub(at); age > s.cfg.MQTTPasswordMaxAge || -age > s.cfg.ChangeMaxFuture {
		return CodePasswordExpired
	}
	return ""
}

// peerKey is the ed25519 key of a TLS client certificate, if the device
// presented one (the TLS handshake proved it holds the private key).
func peerKey(c net.Conn) ed25519.PublicKey {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil
	}
	k, _ := certs[0].PublicKey.(ed25519.PublicKey)
	return k
}

// judgePublish decodes a publish's payload (protobuf, or protobuf JSON or
// NDJSON when an MQTT 5 publish says so in its content type) and submits its
// readings, each of which must be the connected device's own.
func (s *Service) judgePublish(device string, payload []byte, contentType string) verdict {
	var batch pb.ReadingBatchV2
	unmarshal := unmarshalerOf(cmp.Or(contentType, "application/x-protobuf"), true)
	if unmarshal == nil {
		return refuse(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "content type must be application/x-protobuf, application/json or application/x-ndjson, got %q", contentType)
	}
	if err := unmarshal(payload, &batch); err != nil {
		return refuse(http.StatusBadRequest, CodeMalformed, "payload does not decode as a ReadingBatchV2: %v", err)
	}
	return s.submit(context.Background(), itemsV2(&batch), device)
}

// mqttReasonCode is the MQTT 5 PUBACK reason code of a refusal; the reason
// string carries fieldmint's code.
func mqttReasonCode(v verdict) byte {
	switch {
	case v.status == http.StatusTooManyRequests:
		return packets.ErrQuotaExceeded.Code // 0x97: OVERLOADED, RATE_LIMITED
	case v.status == http.StatusServiceUnavailable:
		return packets.ErrUnspecifiedError.Code // 0x80: BROKER_UNAVAILABLE
	case v.status == http.StatusUnauthorized || v.status == http.StatusForbidden:
		return packets.ErrNotAuthorized.Code // 0x87: the device or signature
	default:
		return packets.ErrPayloadFormatInvalid.Code // 0x99: the payload
	}
}

func orOK(code string) string {
	if code == "" {
		return "OK"
	}
	return code
}

// mqttListener is the broker's listener on a socket ingest opened: a
// connection must send its CONNECT within ingest.mqttConnectDeadline (the
// broker then keeps it alive by the device's keep-alive).
type mqttListener struct {
	ln         net.Listener
	deadline   time.Duration
	disconnect func() // every device, when the listener closes
	log        *slog.Logger
	closed     atomic.Bool
	once       sync.Once
}

func (l *mqttListener) ID() string                  { return "mqtt" }
func (l *mqttListener) Address() string             { return l.ln.Addr().String() }
func (l *mqttListener) Protocol() string            { return "tcp" }
func (l *mqttListener) Init(log *slog.Logger) error { l.log = log; return nil }

func (l *mqttListener) Serve(establish listeners.EstablishFn) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if !l.closed.Load() {
				l.log.Error("mqtt: accept", "err", err)
				l.closed.Store(true)
			}
			return
		}
		conn.SetReadDeadline(time.Now().Add(l.deadline))
		go func() {
			if err := establish(l.ID(), conn); err != nil {
				l.log.Debug("mqtt: connection ended", "remote", conn.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

func (l *mqttListener) Close(listeners.CloseFn) {
	l.once.Do(func() {
		l.closed.Store(true)
		l.ln.Close()
		l.disconnect()
	})
}

// debugOnly passes the broker's records on at debug level.
type debugOnly struct{ slog.Handler }

func (d debugOnly) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.Handler.Enabled(ctx, slog.LevelDebug)
}

func (d debugOnly) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.Handler.Handle(ctx, r)
}

func (d debugOnly) WithAttrs(as []slog.Attr) slog.Handler { return debugOnly{d.Handler.WithAttrs(as)} }
func (d debugOnly) WithGroup(n string) slog.Handler       { return debugOnly{d.Handler.WithGroup(n)} }
