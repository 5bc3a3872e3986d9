// Package loadgen drives an ingest endpoint with signed batches from many
// simulated devices over HTTP, as `fieldmint bench ingest` and
// BenchmarkIngest do, and measures what was accepted and how fast.
package loadgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/stats"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Options of a load.
type Options struct {
	URL     string // ingest endpoint
	Network string // ingest.network, for the owner's registration signatures ("": the default)
	Devices int    // simulated devices, registered first
	Batch   int    // readings per request, from 10 devices each
	Clients int    // concurrent HTTP clients
	// Maker attests the devices. With Admin (one of the endpoint's
	// ingest.admins) the maker is registered first; without, it must be
	// registered already.
	Maker client.Maker
	Admin *ecdsa.PrivateKey
	// V1 sends wire format v1 (POST /v1/readings), as old firmware does;
	// false: v2, the SDK's default.
	V1 bool
	// Rate paces the requests to this many readings a second (0: as fast
	// as the endpoint answers).
	Rate float64
	// MQTT, when set ("tcp://host:port"), sends over ingest's MQTT broker
	// instead of HTTP: each client is one device connection (client i is
	// device i, so Devices >= Clients), publishing batches of its own
	// readings at QoS 1 (ingest/client.MQTT).
	MQTT string
	// GRPC sends over ingest's gRPC Stream (ingest/client.GRPC) instead of
	// POST: every 8 clients share one stream, so each stream has up to 8
	// batches in flight, as a gateway's would.
	GRPC bool
	// Endpoints, when set, are the ingest endpoints HTTP clients send
	// readings to, client c to Endpoints[c%len(Endpoints)] (replicas of one
	// deployment); the maker and the devices are registered through URL.
	Endpoints []string
}

// Load is a prepared load: devices registered, request bodies signed.
type Load struct {
	opts   Options
	bodies [][]byte
	http   *http.Client
	keys   []ed25519.PrivateKey // MQTT: each client's device key
	// gRPC: the bodies decoded, as the SDK's stream takes them.
	batches [][]*pb.SignedReadingV2
	// once: each body is sent once (retried until accepted), and the run
	// ends when all were; readings[i] is how many of body i ingest accepts.
	once     bool
	readings []int
	sizes    []int // readings in each body
}

// Readings is how many readings the load's bodies hold that ingest accepts
// (a fleet load; 0 for one that repeats its bodies).
func (l *Load) Readings() int64 {
	var n int64
	for _, r := range l.readings {
		n += int64(r)
	}
	return n
}

type atomic64 struct{ atomic.Int64 }

func (a *atomic64) add(n int) int { return int(a.Add(int64(n))) }

// Prepare registers the devices (owned by a fresh key) and signs 64 request
// bodies, which the load sends over and over: ingest verifies each one in
// full every time (it does not look at sequence numbers; the validators
// would call the repeats duplicates).
func Prepare(ctx context.Context, o Options) (*Load, error) {
	if o.Devices < 10 || o.Batch < 1 || o.Clients < 1 {
		return nil, errors.New("loadgen: need at least 10 devices, 1 reading per batch and 1 client")
	}
	if o.MQTT != "" && (o.Devices < o.Clients || o.V1) {
		return nil, errors.New("loadgen: over MQTT each client is a device (devices >= clients), in wire format v2")
	}
	if o.GRPC && (o.V1 || o.MQTT != "") {
		return nil, errors.New("loadgen: over gRPC readings are in wire format v2, and not over MQTT too")
	}
	if len(o.Endpoints) > 0 && (o.GRPC || o.MQTT != "") {
		return nil, errors.New("loadgen: endpoints are for HTTP; over MQTT or gRPC the load sends to one")
	}
	owner, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	if o.Admin != nil {
		c := &client.Client{URL: o.URL, Network: o.Network}
		if err := c.AddMaker(ctx, o.Maker.ID, "loadgen maker", o.Maker.Key.Public().(ed25519.PublicKey), client.OwnerKey(o.Admin)); err != nil {
			return nil, fmt.Errorf("loadgen: register the maker: %w", err)
		}
	}
	keys, err := register(ctx, o, owner)
	if err != nil {
		return nil, err
	}
	l := &Load{opts: o, bodies: make([][]byte, 64), http: newHTTP(o.Clients), keys: keys}
	now := time.Now().UnixMilli()
	// Over HTTP a body holds readings of 10 devices; over MQTT a client
	// publishes only its own device's, 8 bodies each (body j of client c
	// is l.bodies[c*8+j]).
	deviceOf := func(j, k int) int { return (j*10 + k%10) % o.Devices }
	if o.MQTT != "" {
		l.bodies = make([][]byte, 8*o.Clients)
		deviceOf = func(j, _ int) int { return j / 8 }
	}
	for j := range l.bodies {
		var v1 pb.ReadingBatch
		var v2 pb.ReadingBatchV2
		for k := range o.Batch {
			dev := deviceOf(j, k)
			r := &pb.Reading{DeviceId: deviceID(dev), Seq: uint64(j*o.Batch + k + 1), EventTimeMs: now + int64(k),
				Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": int64(20_000 + k), "humidity_pct": 50_000}}
			if o.V1 {
				s, err := pb.Sign(r, keys[dev])
				if err != nil {
					return nil, err
				}
				v1.Readings = append(v1.Readings, s)
				continue
			}
			s, err := pb.SignV2(r, keys[dev])
			if err != nil {
				return nil, err
			}
			v2.Readings = append(v2.Readings, s)
		}
		var body proto.Message = &v2
		if o.V1 {
			body = &v1
		}
		if l.bodies[j], err = proto.Marshal(body); err != nil {
			return nil, err
		}
		if o.GRPC {
			l.batches = append(l.batches, v2.Readings)
		}
	}
	return l, nil
}

// streams are the gRPC streams of a run, one per 8 clients, closed by close.
func (l *Load) streams(ctx context.Context) (_ []*client.Stream, close func()) {
	g := client.NewGRPC(client.GRPCOptions{URL: l.opts.URL})
	sts := make([]*client.Stream, (l.opts.Clients+7)/8)
	for i := range sts {
		sts[i] = g.Stream(ctx, 0)
	}
	return sts, func() {
		for _, st := range sts {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			st.Close(cctx)
			cancel()
		}
	}
}

// sendStream sends batch i on st and waits for its acknowledgement; the
// stream sends it again itself until Kafka has it.
func (l *Load) sendStream(ctx context.Context, st *client.Stream, i int64) (int, int, error) {
	var res *client.Result
	a, err := st.Send(ctx, l.batches[i%int64(len(l.batches))])
	if err == nil {
		res, err = a.Wait(ctx)
	}
	var e *client.Error
	switch {
	case errors.As(err, &e):
		return e.Status, 0, nil
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// The run is over: the stream's context ends with it, and may be
		// seen ended a moment before this sender's is.
		return 0, 0, context.Canceled
	case err != nil:
		return 0, 0, err
	}
	return http.StatusOK, res.Accepted, nil
}

func deviceID(i int) string { return fmt.Sprintf("bench-%05d", i) }

// register registers the devices, 16 at a time.
func register(ctx context.Context, o Options, owner *ecdsa.PrivateKey) ([]ed25519.PrivateKey, error) {
	c := &client.Client{URL: o.URL, Network: o.Network}
	keys := make([]ed25519.PrivateKey, o.Devices)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		d := &pb.Device{DeviceId: deviceID(i), PublicKey: keys[i].Public().(ed25519.PublicKey),
			Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Location: &pb.Location{LatE7: 387_000_000, LonE7: -91_000_000}}
		att := o.Maker.Attest(d.PublicKey, d.Kind)
		g.Go(func() error { return c.Register(ctx, d, keys[i], att, client.OwnerKey(owner)) })
	}
	return keys, g.Wait()
}

// Result of a run.
type Result struct {
	Requests, Readings int64 // accepted (200)
	Refused            int64 // requests answered 429/503 (told to retry)
	Elapsed            time.Duration
	P50, P99           time.Duration // latency of accepted requests
	Acks               []Ack         // each accepted request, in the order answered
	Sent               int64         // readings in the accepted requests, accepted or not
	PerEndpoint        []int64       // readings accepted by each of Options.Endpoints (or URL alone), in order
}

// Ack is one accepted request: when it was answered (since the run
// started) and how many of its readings ingest accepted.
type Ack struct {
	At       time.Duration
	Readings int
}

// PerSecond is the accepted readings per second.
func (r Result) PerSecond() float64 { return float64(r.Readings) / r.Elapsed.Seconds() }

// Run sends until ctx ends or, when requests > 0, that many requests were
// answered; a fleet load also ends when every body was accepted, and sends
// a refused body again. Every second, progress (if set) is told the
// readings accepted so far. Any answer but 200, 429 or 503 stops the run
// with an error.
func (l *Load) Run(ctx context.Context, requests int64, progress func(readings int64)) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if l.once && (requests == 0 || requests > int64(len(l.bodies))) {
		requests = int64(len(l.bodies))
	}
	var (
		next, readings, refused, sent atomic.Int64
		mu                            sync.Mutex
		latencies                     []time.Duration
		acks                          []Ack
	)
	if progress != nil {
		go everySecond(ctx, func() { progress(readings.Load()) })
	}
	var streams []*client.Stream
	if l.opts.GRPC {
		var closeStreams func()
		streams, closeStreams = l.streams(ctx)
		defer closeStreams()
	}
	urls := l.opts.endpoints()
	perEndpoint := make([]atomic.Int64, len(urls))
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for c := range l.opts.Clients {
		g.Go(func() error {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				latencies = append(latencies, mine...)
				mu.Unlock()
			}()
			body := func(i int64) []byte { return l.bodies[i%int64(len(l.bodies))] }
			url := urls[c%len(urls)]
			send := func(ctx context.Context, i int64) (int, int, error) { return l.post(ctx, url, body(i)) }
			if l.opts.GRPC {
				st := streams[c/8]
				send = func(ctx context.Context, i int64) (int, int, error) { return l.sendStream(ctx, st, i) }
			}
			if l.opts.MQTT != "" {
				m, err := client.DialMQTT(gctx, client.NewDevice(deviceID(c), pb.ResourceKind_RESOURCE_KIND_WEATHER, l.keys[c]), client.MQTTOptions{Broker: l.opts.MQTT, Network: l.opts.Network})
				if err != nil {
					return err
				}
				defer m.Close()
				// Acknowledged means accepted: the bodies hold valid readings.
				send = func(ctx context.Context, i int64) (int, int, error) {
					return http.StatusOK, 0, m.Publish(ctx, l.bodies[c*8+int(i%8)])
				}
			}
			for gctx.Err() == nil {
				i := next.Add(1) - 1
				if requests > 0 && i >= requests {
					return nil
				}
				if l.opts.Rate > 0 {
					due := start.Add(time.Duration(float64(i*int64(l.opts.Batch)) / l.opts.Rate * float64(time.Second)))
					select {
					case <-gctx.Done():
						return nil
					case <-time.After(time.Until(due)):
					}
				}
				for {
					t0 := time.Now()
					status, accepted, err := send(gctx, i)
					if err != nil {
						if gctx.Err() != nil || errors.Is(err, context.Canceled) {
							return nil
						}
						return err
					}
					switch status {
					case http.StatusOK:
						now := time.Now()
						mine = append(mine, now.Sub(t0))
						size := l.opts.Batch
						if l.once {
							size = l.sizes[i]
						} else {
							accepted = size
						}
						readings.Add(int64(accepted))
						perEndpoint[c%len(urls)].Add(int64(accepted))
						sent.Add(int64(size))
						mu.Lock()
						acks = append(acks, Ack{At: now.Sub(start), Readings: accepted})
						mu.Unlock()
					case http.StatusTooManyRequests, http.StatusServiceUnavailable:
						refused.Add(1)
						if l.once && gctx.Err() == nil {
							time.Sleep(50 * time.Millisecond)
							continue // this body's readings are not sent yet
						}
					default:
						return fmt.Errorf("loadgen: ingest answered %d", status)
					}
					break
				}
			}
			return nil
		})
	}
	err := g.Wait()
	res := Result{Readings: readings.Load(), Refused: refused.Load(), Elapsed: time.Since(start), Acks: acks, Sent: sent.Load()}
	for i := range perEndpoint {
		res.PerEndpoint = append(res.PerEndpoint, perEndpoint[i].Load())
	}
	res.Requests = int64(len(latencies))
	res.P50, res.P99 = stats.Percentile(latencies, 50), stats.Percentile(latencies, 99)
	return res, err
}

// everySecond calls f every second until ctx ends.
func everySecond(ctx context.Context, f func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
