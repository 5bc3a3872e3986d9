package killtest

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

const (
	fleetDevices = 1000
	fleetBatches = 8 // per device, a second apart
	fleetKills   = 3
)

// TestMQTTDevicesSurviveIngestKill: 1,000 devices publish over MQTT at QoS 1
// (the SDK's transport, in this test's process: not the broker's, not
// ingest's) while ingest is killed with SIGKILL three times and supervised
// back, once while Kafka is stalled. Every batch is published again until
// acknowledged. Afterwards every reading that got its PUBACK is stored
// exactly once (a resent copy, if it also reached Kafka, is stored as
// DUPLICATE, as over HTTP), every device got every batch acknowledged, and
// none of the forged readings mixed into the batches is stored.
func TestMQTTDevicesSurviveIngestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a pipeline for about a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	p := newPipeline(t, ctx)
	mqttPort := port(t)
	ingest := p.startEnv("ingest", []string{"FIELDMINT_INGEST_MQTTLISTEN=127.0.0.1:" + strconv.Itoa(mqttPort)}, "ingest")
	p.start("validate", "validate")
	p.start("aggregate", "aggregate")
	p.register() // the maker, and the kill tests' 30 stations over HTTP
	broker := "tcp://127.0.0.1:" + strconv.Itoa(mqttPort)
	f := newKillFleet(p, "mq")
	f.dial = func(ctx context.Context, d int, id string) (sender, func(), error) {
		m, err := client.DialMQTT(ctx, client.NewDevice(id, pb.ResourceKind_RESOURCE_KIND_WEATHER, f.keys[d]),
			client.MQTTOptions{Broker: broker, AckTimeout: 5 * time.Second, OnResend: func(error) { f.resends.Add(1) }})
		if err != nil {
			return nil, nil, err
		}
		// MQTT 3.1.1 acknowledges a forged reading and drops it: no results.
		return func(ctx context.Context, batch []*pb.SignedReadingV2) (*client.Result, error) {
			return nil, m.Send(ctx, batch)
		}, m.Close, nil
	}
	f.run(ctx, ingest)
}

// newKillFleet registers the kill tests' devices prefix-0000 ...
func newKillFleet(p *pipeline, prefix string) *killFleet {
	return &killFleet{p: p, prefix: prefix, keys: p.registerFleet(prefix, fleetDevices), acked: map[string]bool{}, forged: map[string]bool{}}
}

// run has every device send its batches while ingest is killed, then
// checks what is stored.
func (f *killFleet) run(ctx context.Context, ingest *proc) {
	p, t := f.p, f.p.t
	var wg sync.WaitGroup
	for d := range fleetDevices {
		wg.Go(func() { f.device(ctx, d) })
	}
	f.killDuring(ctx, ingest)
	wg.Wait()
	if f.failure != nil {
		p.fail("%v", f.failure)
	}
	if n := f.finished.Load(); n != fleetDevices {
		p.fail("%d of %d devices had every batch acknowledged", n, fleetDevices)
	}
	if want := fleetDevices * fleetBatches * 2; len(f.acked) != want {
		p.fail("%d valid readings acknowledged, want %d", len(f.acked), want)
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{fmt.Sprintf("127.0.0.1:%d", p.chTCP)}, Auth: ch.Auth{Database: "killtest"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v := &verifier{p: p, conn: conn}
	late := f.checkStored(ctx, v)
	t.Logf("%d devices, %d readings acknowledged and stored once each (%d LATE), %d forged dropped; %d retries (batches sent again, streams opened again), %d copies stored as DUPLICATE; ingest started %d times",
		fleetDevices, len(f.acked), late, len(f.forged), f.resends.Load(), v.count("SELECT count() FROM readings WHERE startsWith(device_id, '"+f.prefix+"-') AND reason = 'DUPLICATE'"), ingest.Starts())
}

// sender sends one batch of a device's and returns once ingest
// acknowledged it, with each reading's result where the protocol has them.
type sender func(ctx context.Context, batch []*pb.SignedReadingV2) (*client.Result, error)

// killFleet is a kill test's devices and what ingest acknowledged of theirs.
type killFleet struct {
	p      *pipeline
	prefix string
	keys   []ed25519.PrivateKey
	// dial connects device d (its id) and returns how it sends.
	dial func(ctx context.Context, d int, id string) (sender, func(), error)

	mu       sync.Mutex
	acked    map[string]bool // device/seq of every valid reading acknowledged
	forged   map[string]bool // device/seq of every forged reading sent
	resends  atomic.Int64
	finished atomic.Int64
	failed   sync.Once
	failure  error // the first device's failure, reported after all
}

func (f *killFleet) fail(format string, args ...any) {
	f.failed.Do(func() { f.failure = fmt.Errorf(format, args...) })
}

func (f *killFleet) countAcked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.acked)
}

// device d sends its batches, a second apart, each until acknowledged: two
// readings a second apart in event time, values of its own (no two devices
// alike); every third batch of every seventh device carries a third reading
// signed by a stranger.
func (f *killFleet) device(ctx context.Context, d int) {
	id := fmt.Sprintf("%s-%04d", f.prefix, d)
	send, closeConn, err := f.dial(ctx, d, id)
	if err != nil {
		f.fail("%s: %v", id, err)
		return
	}
	defer closeConn()
	_, stranger, _ := ed25519.GenerateKey(nil)
	var last int64 // event time of the device's last reading
	for b := range fleetBatches {
		// Now as far as can be: a batch held up by a kill may still come
		// after its epoch closed (LATE).
		last = max(time.Now().UnixMilli()-1000, last+1000)
		var batch []*pb.SignedReadingV2
		var sent, bad []string
		var isForged []bool
		for j := range 3 {
			forged := j == 2
			if forged && (d%7 != 0 || b%3 != 0) {
				continue
			}
			key := f.keys[d]
			if forged {
				key = stranger
			}
			at := last
			if j == 1 {
				last += 1000
				at = last
			}
			seq := uint64(b*3 + j + 1)
			sr, err := pb.SignV2(&pb.Reading{DeviceId: id, Seq: seq, EventTimeMs: at, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
				Measurements: map[string]int64{"temperature_c": int64(5_000 + d*40 + j*3)}}, key)
			if err != nil {
				f.fail("%s: %v", id, err)
				return
			}
			batch = append(batch, sr)
			isForged = append(isForged, forged)
			k := id + "/" + strconv.FormatUint(seq, 10)
			if forged {
				bad = append(bad, k)
			} else {
				sent = append(sent, k)
			}
		}
		f.mu.Lock()
		for _, k := range bad {
			f.forged[k] = true
		}
		f.mu.Unlock()
		res, err := send(ctx, batch)
		if err != nil {
			f.fail("%s: batch %d never acknowledged: %v", id, b, err)
			return
		}
		for i := range batch {
			if res != nil && (res.Results[i].Status == "accepted") == isForged[i] {
				f.fail("%s: batch %d reading %d (forged: %v) answered %+v", id, b, i, isForged[i], res.Results[i])
			}
		}
		f.mu.Lock()
		for _, k := range sent {
			f.acked[k] = true
		}
		f.mu.Unlock()
		time.Sleep(time.Second)
	}
	f.finished.Add(1)
}

// killDuring kills ingest while the devices publish, each time once it is
// back and acknowledging again; the second time Kafka stalls first, so that
// ingest dies holding publishes it judged but Kafka never acknowledged: a
// PUBACK sent for one of them would be a reading lost.
func (f *killFleet) killDuring(ctx context.Context, ingest *proc) {
	t := f.p.t
	var broker *proc
	for _, pr := range f.p.procs {
		if pr.Name() == "broker" {
			broker = pr
		}
	}
	for k := range fleetKills {
		before := f.countAcked()
		testenv.WaitFor(t, time.Until(deadlineOf(ctx)), "ingest acknowledging batches", func() bool { return f.countAcked() > before+2000 })
		if k == 1 {
			stalled := f.countAcked()
			if err := broker.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			ingest.Kill()
			broker.Signal(syscall.SIGCONT)
			t.Logf("kill -9 ingest (%d of %d) with Kafka stalled for 1.5 s: %d readings acknowledged meanwhile", k+1, fleetKills, f.countAcked()-stalled)
			continue
		}
		ingest.Kill()
		t.Logf("kill -9 ingest (%d of %d): %d readings acknowledged so far", k+1, fleetKills, f.countAcked())
	}
}

// checkStored waits for ClickHouse to hold every acknowledged reading (or
// to stop growing for 20 s), then checks each is stored once, valid or LATE
// (a kill held its batch up past its epoch's close: the aggregator's rule),
// and no forged one is. It returns the LATE ones.
func (f *killFleet) checkStored(ctx context.Context, v *verifier) int {
	p, conn := f.p, v.conn
	decided := "FROM readings WHERE startsWith(device_id, '" + f.prefix + "-') AND reason != 'DUPLICATE'"
	for n, grew := uint64(0), time.Now(); n < uint64(len(f.acked)) && time.Since(grew) < 20*time.Second; time.Sleep(time.Second) {
		if m := v.count("SELECT count() " + decided); m != n {
			n, grew = m, time.Now()
		}
	}
	stored, late := map[string]int{}, 0
	if err := reread(ctx, func() error {
		rows, err := conn.Query(ctx, "SELECT device_id, seq, status, reason "+decided)
		if err != nil {
			return err
		}
		defer rows.Close()
		clear(stored)
		late = 0
		for rows.Next() {
			var id, status, reason string
			var seq uint64
			if err := rows.Scan(&id, &seq, &status, &reason); err != nil {
				return err
			}
			k := id + "/" + strconv.FormatUint(seq, 10)
			stored[k]++
			switch {
			case reason == "LATE":
				late++
			case status != "valid":
				return fmt.Errorf("reading %s stored %s %s", k, status, reason)
			}
		}
		return rows.Err()
	}); err != nil {
		dev, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "reading "), "/")
		p.fail("reading back: %v; the device's decisions:\n%s", err, f.decisions(ctx, conn, dev))
	}
	for k := range f.acked {
		if stored[k] != 1 {
			p.fail("reading %s acknowledged, stored %d times", k, stored[k])
		}
	}
	for k := range f.forged {
		if stored[k] != 0 {
			p.fail("forged reading %s stored", k)
		}
	}
	if len(stored) != len(f.acked) {
		p.fail("%d readings stored, %d acknowledged", len(stored), len(f.acked))
	}
	return late
}

// decisions lists every stored decision of a device, to tell why a check
// failed.
func (f *killFleet) decisions(ctx context.Context, conn ch.Conn, dev string) string {
	rows, err := conn.Query(ctx, "SELECT concat(toString(seq), ' ', status, ' ', reason, ' ', detail) FROM readings WHERE device_id = ? ORDER BY seq", dev)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return err.Error()
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		out = append(out, "(cut short: "+err.Error()+")")
	}
	return strings.Join(out, "\n")
}

// registerFleet registers n weather stations prefix-0000 .. through ingest,
// eight at a time, each in a region of its own, owned by the pipeline's
// owners in turn, and returns their keys.
func (p *pipeline) registerFleet(prefix string, n int) []ed25519.PrivateKey {
	keys := make([]ed25519.PrivateKey, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				_, keys[i], _ = ed25519.GenerateKey(nil)
				d := &pb.Device{DeviceId: fmt.Sprintf("%s-%04d", prefix, i), PublicKey: keys[i].Public().(ed25519.PublicKey), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
					Location: &pb.Location{LatE7: -600_000_000 + int32(i%120)*10_000_000, LonE7: -1_700_000_000 + int32(i/120)*10_000_000}}
				if err := p.sdk.Register(p.ctx, d, keys[i], p.maker.Attest(d.PublicKey, d.Kind), client.OwnerKey(p.ownerKeys[i%len(p.ownerKeys)])); err != nil {
					errs <- fmt.Errorf("register %s: %w", d.DeviceId, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		p.fail("%v", err)
	}
	return keys
}
