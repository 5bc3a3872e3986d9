// Package ingest is the HTTP service devices post signed readings to. It
// authenticates each reading against the device registry and answers 2xx only
// after Kafka acknowledged the write (acks=all, idempotent producer), so a 2xx
// means the reading cannot be lost.
package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/semaphore"

	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/registry"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Reason codes of refused requests: stable, machine-readable, in the "code"
// field of every error body.
const (
	CodeMalformed           = "MALFORMED"              // body does not decode, or a field is invalid
	CodeUnsupportedMedia    = "UNSUPPORTED_MEDIA_TYPE" // Content-Type is not protobuf, JSON or (readings) NDJSON
	CodeUnsupportedEncoding = "UNSUPPORTED_ENCODING"   // Content-Encoding is not gzip, zstd or none
	CodeTooLarge            = "TOO_LARGE"              // body or batch above the configured limits
	CodeEmptyBatch          = "EMPTY_BATCH"            // no readings
	CodeUnknownDevice       = "UNKNOWN_DEVICE"         // device id not in the registry
	CodeBadSignature        = "BAD_SIGNATURE"          // signature does not verify under the device key
	CodeDeviceInactive      = "DEVICE_INACTIVE"        // device deactivated
	CodeKindMismatch        = "KIND_MISMATCH"          // reading's kind differs from the registered one
	CodeDeviceDenylisted    = "DEVICE_DENYLISTED"      // an admin denylisted the device
	CodeMethodNotAllowed    = "METHOD_NOT_ALLOWED"
	CodeBrokerUnavailable   = "BROKER_UNAVAILABLE" // Kafka did not acknowledge: retry after Retry-After
	CodeOverloaded          = "OVERLOADED"         // too many readings already wait for Kafka: retry after Retry-After (429)
	CodeRateLimited         = "RATE_LIMITED"       // the client or a device sends faster than allowed: retry after Retry-After (429)
	CodeForeignReading      = "FOREIGN_READING"    // MQTT: a reading of another device than the one connected
	CodeForeignTopic        = "FOREIGN_TOPIC"      // MQTT: a publish to another topic than the device's own
	CodePasswordExpired     = "PASSWORD_EXPIRED"   // MQTT: the signed password is older than mqttPasswordMaxAge, or dated ahead
	CodeBadToken            = "BAD_TOKEN"          // LoRaWAN: no configured network server has this token
)

// Config of the ingest service.
type Config struct {
	Listen         string        `yaml:"listen" help:"HTTP listen address"`
	MaxBodyBytes   int64         `yaml:"maxBodyBytes" help:"largest request body accepted"`
	MaxBatch       int           `yaml:"maxBatch" help:"most readings in one request"`
	ProduceTimeout time.Duration `yaml:"produceTimeout" help:"how long a request waits for Kafka's acknowledgement before answering 503"`
	MaxInFlight    int           `yaml:"maxInFlight" help:"most readings waiting for Kafka's acknowledgement at once; a request beyond it gets 429 and Retry-After"`
	Verifiers      int           `yaml:"verifiers" help:"signature verifications run at once, each over every request's signatures waiting for one (0: half the cores, at least one); fewer verify more per CPU-second, more reach a higher peak rate"`
	ClientRate     float64       `yaml:"clientRate" help:"requests per second one client address may make, on average (0: no limit)"`
	ClientBurst    int           `yaml:"clientBurst" help:"requests one client address may make at once"`
	DeviceRate     float64       `yaml:"deviceRate" help:"readings per second one device may send, on average (0: no limit)"`
	DeviceBurst    int           `yaml:"deviceBurst" help:"readings one device may send at once (a gateway's backlog after an outage)"`
	TrustedProxies []string      `yaml:"trustedProxies" help:"load balancers in front of ingest (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client the rate limit keys on; empty: the connection's address"`
	TLSCert        string        `yaml:"tlsCert" help:"PEM certificate file: serve HTTPS (HTTP/2 and HTTP/1.1) instead of plain HTTP"`
	TLSKey         string        `yaml:"tlsKey" help:"PEM private key file of tlsCert"`
	// Devices that speak MQTT (ingest/mqtt.go, docs/api.md).
	MQTTListen          string        `yaml:"mqttListen" help:"MQTT listen address (MQTT 3.1.1 and 5, QoS 0 and 1; TLS with tlsCert and tlsKey); empty: no MQTT"`
	MQTTMaxConnections  int           `yaml:"mqttMaxConnections" help:"most MQTT connections at once; a device beyond it is refused at CONNECT (server unavailable / busy)"`
	MQTTPasswordMaxAge  time.Duration `yaml:"mqttPasswordMaxAge" help:"how long a device's signed MQTT password stays valid after its issued_at_ms"`
	MQTTConnectDeadline time.Duration `yaml:"mqttConnectDeadline" help:"how long a new MQTT connection may take to send its CONNECT"`
	// Devices and gateways that speak gRPC, on the HTTP port (ingest/grpc.go).
	GRPCWindow int `yaml:"grpcWindow" help:"batches a gRPC stream may send ahead of their acknowledgements (advertised to the client in the stream's first message)"`
	// LoRaWAN network servers (ingest/chirpstack.go).
	NetworkServers []string `yaml:"networkServers" secret:"true" help:"LoRaWAN network servers (ChirpStack v4) that may send uplinks, each name=token, comma-separated (a name twice with two tokens while one replaces the other): the token authenticates its HTTP integration (Authorization: Bearer TOKEN) and its MQTT integration (user name = name, password = token); readings it vouches for are stored trusted_by name"`
	// Onboarding: owners sign registrations and changes with their Ethereum key.
	Network         string        `yaml:"network" help:"network name in every text an owner or admin signs, so that a signature for one deployment is void in another"`
	Admins          []string      `yaml:"admins" help:"addresses whose signatures may denylist and re-allow devices and add and remove makers, comma-separated"`
	ChangeMaxAge    time.Duration `yaml:"changeMaxAge" help:"how long a signed registration or device change stays valid after its issued_at_ms"`
	ChangeMaxFuture time.Duration `yaml:"changeMaxFuture" help:"how far a signed registration or change may be dated ahead of the ingest clock (clock skew)"`
	MinMoveInterval time.Duration `yaml:"minMoveInterval" help:"least time between two moves of a device's asserted location (its first move after registering is free): a device that hops regions would restart the validators' history in each"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", MaxBodyBytes: 1 << 20, MaxBatch: 1000, ProduceTimeout: 10 * time.Second, MaxInFlight: 100_000,
		ClientRate: 1000, ClientBurst: 2000, DeviceRate: 10, DeviceBurst: 1000,
		MQTTMaxConnections: 100_000, MQTTPasswordMaxAge: 5 * time.Minute, MQTTConnectDeadline: 10 * time.Second, GRPCWindow: 32,
		Network: "fieldmint", ChangeMaxAge: 10 * time.Minute, ChangeMaxFuture: time.Minute, MinMoveInterval: 24 * time.Hour}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MaxBodyBytes <= 0 || c.MaxBatch <= 0 || c.ProduceTimeout <= 0 {
		return errors.New("ingest: maxBodyBytes, maxBatch and produceTimeout must be positive")
	}
	if c.ClientRate < 0 || c.DeviceRate < 0 || (c.ClientRate > 0 && c.ClientBurst <= 0) || (c.DeviceRate > 0 && c.DeviceBurst <= 0) {
		return errors.New("ingest: clientRate and deviceRate must be 0 (no limit) or positive, with a positive burst")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("ingest: give both tlsCert and tlsKey, or neither")
	}
	if c.Network == "" || !oneLine(c.Network) || c.ChangeMaxAge <= 0 || c.ChangeMaxFuture < 0 || c.MinMoveInterval < 0 {
		return errors.New("ingest: network (one line of text) and a positive changeMaxAge are required")
	}
	for _, a := range c.Admins {
		if !isAddress(a) {
			return fmt.Errorf("ingest: admin %q is not a 0x-prefixed 20-byte hex address", a)
		}
	}
	if _, err := parseProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.MQTTListen != "" && (c.MQTTMaxConnections <= 0 || c.MQTTPasswordMaxAge <= 0 || c.MQTTConnectDeadline <= 0) {
		return errors.New("ingest: with mqttListen set, mqttMaxConnections, mqttPasswordMaxAge and mqttConnectDeadline must be positive")
	}
	if c.GRPCWindow <= 0 || c.GRPCWindow > 1024 {
		return errors.New("ingest: grpcWindow must be between 1 and 1024")
	}
	if _, err := parseNetworkServers(c.NetworkServers); err != nil {
		return err
	}
	if c.Verifiers < 0 {
		return errors.New("ingest: verifiers must be 0 (half the cores) or more")
	}
	if c.MaxInFlight < c.MaxBatch {
		return errors.New("ingest: maxInFlight must be at least maxBatch, or a full batch could never be admitted")
	}
	return nil
}

// Service is the ingest HTTP service.
type Service struct {
	cfg      Config
	topics   kafka.Topics
	producer *kgo.Client
	reg      *registry.Registry
	log      *slog.Logger
	now      func() time.Time
	// inflight bounds the readings waiting for Kafka: memory stays bounded
	// and a slow or absent broker turns into 429s, not a growing queue.
	inflight *semaphore.Weighted
	proxies  []netip.Prefix // ingest.trustedProxies
	// clients and devices are the rate limits (nil: none).
	clients, devices *limiters
	// changes serializes this replica's registry changes (see change).
	changes   sync.Mutex
	registrar *kgo.Client // holds the registry's transactional id; under changes
	kc        kafka.Config
	admins    map[common.Address]bool
	metrics   metrics
	closing   chan struct{} // closed when the HTTP server starts to shut down: gRPC streams end
	lorawan   networkServers
	// signatures verifies concurrent requests' signatures together, in
	// chunks sized to the recent share of bad ones.
	signatures *pb.Verifier
	observed   metric.Registration // the verifier's metrics, until Run ends
}

// New creates the service. It owns a producer and a registry reader.
func New(cfg Config, kc kafka.Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	proxies, _ := parseProxies(cfg.TrustedProxies) // checked by Validate
	lorawan, _ := parseNetworkServers(cfg.NetworkServers)
	// kgo's defaults are what a 2xx promises: acks=all and an idempotent
	// producer (no duplicates from internal retries).
	producer, err := kgo.NewClient(append(kc.Opts(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(2*time.Millisecond), // let concurrent requests share batches
		// Readings by their device's region, so that the validators see a
		// region's devices together; registry records by device id.
		kgo.RecordPartitioner(kafka.RegionPartitioner()),
	)...)
	if err != nil {
		return nil, err
	}
	reg, err := registry.New(kc, log)
	if err != nil {
		producer.Close()
		return nil, err
	}
	admins := map[common.Address]bool{}
	for _, a := range cfg.Admins {
		admins[common.HexToAddress(a)] = true
	}
	s := &Service{cfg: cfg, kc: kc, topics: kc.Topics(), producer: producer, reg: reg, log: log, now: time.Now, admins: admins, metrics: newMetrics(), closing: make(chan struct{}),
		inflight: semaphore.NewWeighted(int64(cfg.MaxInFlight)),
		clients:  newLimiters(cfg.ClientRate, cfg.ClientBurst), devices: newLimiters(cfg.DeviceRate, cfg.DeviceBurst), proxies: proxies, lorawan: lorawan, signatures: pb.NewVerifier(cfg.Verifiers)}
	s.observed = s.metrics.observeSignatures(s.signatures)
	return s, nil
}

// Run syncs the registry, then serves until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.producer.Close()
	if s.observed != nil {
		defer s.observed.Unregister()
	}
	defer s.reg.Close()
	defer s.closeRegistrar()
	if err := s.reg.Sync(ctx); err != nil {
		return err
	}
	go s.reg.Run(ctx)
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	// Slow clients cannot hold a connection: headers within 5 s, the whole
	// request within 30 s, idle connections closed after a minute.
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second}
	// HTTP/2 over TLS when a certificate is configured, and also in clear
	// text (h2c, prior knowledge) for gateways behind a TLS terminator.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	srv.RegisterOnShutdown(func() { close(s.closing) })
	mq, err := s.listenMQTT()
	if err != nil {
		ln.Close()
		return err
	}
	s.log.Info("ingest listening", "addr", ln.Addr().String(), "mqtt", s.cfg.MQTTListen, "devices", s.reg.Len(), "tls", s.cfg.TLSCert != "")
	// Shutdown, in order: stop accepting, answer every request in flight
	// (each has its records acknowledged by Kafka, or is answered 503),
	// then flush and close the producer (Run's defers). Serve returns as
	// soon as Shutdown starts, so Run waits for drained.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if mq != nil {
			mq.close()
		}
		if err := srv.Shutdown(shutdown); err != nil {
			s.log.Warn("ingest: requests still in flight at shutdown's deadline", "err", err)
		}
	}()
	serve := func() error { return srv.Serve(ln) }
	if s.cfg.TLSCert != "" {
		serve = func() error { return srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey) }
	}
	if err := serve(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-drained
	flush, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.producer.Flush(flush); err != nil {
		s.log.Warn("ingest: flushing the producer at shutdown", "err", err)
	}
	s.log.Info("ingest stopped: every request answered")
	return nil
}

// listenMQTT starts the MQTT broker on ingest.mqttListen, in TLS when ingest
// has a certificate, and adds it to /readyz; nil when MQTT is off.
func (s *Service) listenMQTT() (*mqttServer, error) {
	if s.cfg.MQTTListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", s.cfg.MQTTListen)
	if err != nil {
		return nil, fmt.Errorf("ingest: mqtt: %w", err)
	}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("ingest: mqtt: %w", err)
		}
		// A device may present a certificate of its own key instead of a
		// password: asked for, not required, and checked against the
		// registry (OnConnectAuthenticate), not against a CA.
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12})
	}
	mq, err := s.startMQTT(ln)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("ingest: mqtt: %w", err)
	}
	telemetry.AddCheck("ingest/mqtt", func(context.Context) error { return mq.serving() })
	return mq, nil
}

// Handler returns the HTTP routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/readings", s.postReadings)
	mux.HandleFunc("/v2/readings", s.postReadingsV2)
	mux.HandleFunc("/v1/devices", s.postDevice)
	mux.HandleFunc("/v1/device-changes", s.postChange)
	mux.HandleFunc("GET /v1/devices/{id}", s.getDevice)
	mux.HandleFunc("/v1/makers", s.postMaker)
	mux.HandleFunc("GET /v1/makers/{id}", s.getMaker)
	mux.HandleFunc("/v1/lorawan/chirpstack", s.postChirpStack)
	mux.Handle(s.grpcHandler())
	telemetry.HealthHandlers(mux) // /healthz and /readyz
	return s.instrument(mux)
}
