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
	mqttDevices = 1000
	mqttBatches = 8 // per device, a second apart
	mqttKills   = 3
)

// TestMQTTDevicesSurviveIngestKill: 1,000 devices publish over MQTT at QoS 1
// (the SDK's transport, in this test's process: not the broker's, not
// ingest's) while ingest is killed with SIGKILL three times and supervised
// back. Every batch is published again until acknowledged. Afterwards every
// reading that got its PUBACK is stored exactly once (a resent copy, if it
// also reached Kafka, is stored as DUPLICATE, as over HTTP), every device got
// every batch acknowledged, and none of the forged readings mixed into the
// batches is stored.
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
	keys := p.registerFleet("mq", mqttDevices)

	var (
		mu       sync.Mutex
		acked    = map[string]bool{} // device/seq of every valid reading acknowledged
		forged   = map[string]bool{}
		resends  atomic.Int64
		finished atomic.Int64
		wg       sync.WaitGroup
		failed   sync.Once
		failure  error
	)
	// A device's failure ends its goroutine and is reported after all.
	fail := func(format string, args ...any) { failed.Do(func() { failure = fmt.Errorf(format, args...) }) }
	for d := range mqttDevices {
		wg.Go(func() {
			id := fmt.Sprintf("mq-%04d", d)
			dev := client.NewDevice(id, pb.ResourceKind_RESOURCE_KIND_WEATHER, keys[d])
			m, err := client.DialMQTT(ctx, dev, client.MQTTOptions{Broker: "tcp://127.0.0.1:" + strconv.Itoa(mqttPort), AckTimeout: 5 * time.Second,
				OnResend: func(error) { resends.Add(1) }})
			if err != nil {
				fail("%s: %v", id, err)
				return
			}
			defer m.Close()
			_, stranger, _ := ed25519.GenerateKey(nil)
			var last int64 // event time of the device's last reading
			for b := range mqttBatches {
				// A second apart, and now as far as can be: a batch held up
				// by a kill may still come after its epoch closed (LATE).
				last = max(time.Now().UnixMilli()-1000, last+1000)
				// Two readings a batch, a second apart in event time, values
				// of the device's own (no two devices alike); every third
				// batch of every seventh device carries a third reading
				// signed by a stranger.
				var batch []*pb.SignedReadingV2
				var sent []string
				for j := range 3 {
					seq := uint64(b*3 + j + 1)
					bad := j == 2
					if bad && (d%7 != 0 || b%3 != 0) {
						continue
					}
					key := keys[d]
					if bad {
						key = stranger
					}
					at := last
					if j > 0 {
						last += 1000
						at = last
					}
					sr, err := pb.SignV2(&pb.Reading{DeviceId: id, Seq: seq, EventTimeMs: at, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
						Measurements: map[string]int64{"temperature_c": int64(5_000 + d*40 + j*3)}}, key)
					if err != nil {
						fail("%s: %v", id, err)
						return
					}
					batch = append(batch, sr)
					k := id + "/" + strconv.FormatUint(seq, 10)
					if bad {
						mu.Lock()
						forged[k] = true
						mu.Unlock()
					} else {
						sent = append(sent, k)
					}
				}
				if err := m.Send(ctx, batch); err != nil {
					fail("%s: batch %d never acknowledged: %v", id, b, err)
					return
				}
				mu.Lock()
				for _, k := range sent {
					acked[k] = true
				}
				mu.Unlock()
				time.Sleep(time.Second)
			}
			finished.Add(1)
		})
	}
	var broker *proc
	for _, pr := range p.procs {
		if pr.Name() == "broker" {
			broker = pr
		}
	}
	// Kill ingest while the devices publish, each time once it is back
	// and acknowledging again.
	for k := range mqttKills {
		before := countAcked(&mu, acked)
		testenv.WaitFor(t, time.Until(deadlineOf(ctx)), "ingest acknowledging publishes", func() bool { return countAcked(&mu, acked) > before+2000 })
		if k == 1 {
			// This time Kafka stalls first, so that ingest is killed holding
			// publishes it judged but Kafka never acknowledged: a PUBACK sent
			// for one of them would be a reading lost.
			stalled := countAcked(&mu, acked)
			if err := broker.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			ingest.Kill()
			broker.Signal(syscall.SIGCONT)
			t.Logf("kill -9 ingest (%d of %d) with Kafka stalled for 1.5 s: %d readings acknowledged meanwhile", k+1, mqttKills, countAcked(&mu, acked)-stalled)
			continue
		}
		ingest.Kill()
		t.Logf("kill -9 ingest (%d of %d): %d readings acknowledged so far", k+1, mqttKills, countAcked(&mu, acked))
	}
	wg.Wait()
	if failure != nil {
		p.fail("%v", failure)
	}
	if n := finished.Load(); n != mqttDevices {
		p.fail("%d of %d devices had every batch acknowledged", n, mqttDevices)
	}
	if want := mqttDevices * mqttBatches * 2; len(acked) != want {
		p.fail("%d valid readings acknowledged, want %d", len(acked), want)
	}

	conn, err := ch.Open(&ch.Options{Addr: []string{fmt.Sprintf("127.0.0.1:%d", p.chTCP)}, Auth: ch.Auth{Database: "killtest"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v := &verifier{p: p, conn: conn}
	// Until every acknowledged reading is in, or the count stops growing
	// for 20 s (then the check below names what is missing).
	for n, grew := uint64(0), time.Now(); n < uint64(len(acked)) && time.Since(grew) < 20*time.Second; time.Sleep(time.Second) {
		if m := v.count("SELECT count() FROM readings WHERE startsWith(device_id, 'mq-') AND reason != 'DUPLICATE'"); m != n {
			n, grew = m, time.Now()
		}
	}
	// Stored once each: valid, or LATE when a kill held its batch up past
	// its epoch's close (the aggregator's rule, kept as a rejection with its
	// reason); nothing else.
	stored, late := map[string]int{}, 0
	if err := reread(ctx, func() error {
		rows, err := conn.Query(ctx, "SELECT device_id, seq, status, reason FROM readings WHERE startsWith(device_id, 'mq-') AND reason != 'DUPLICATE'")
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
		// Every row of that device, in Kafka's order, to tell why.
		dev, _, _ := strings.Cut(strings.TrimPrefix(err.Error(), "reading "), "/")
		var rows []string
		if rs, qerr := conn.Query(ctx, "SELECT concat(toString(seq), ' ', reason, ' ', detail, ' @', toString(kafka_partition), '/', toString(kafka_offset)) FROM readings WHERE device_id = ? ORDER BY kafka_offset", dev); qerr == nil {
			for rs.Next() {
				var r string
				rs.Scan(&r)
				rows = append(rows, r)
			}
			rs.Close()
		}
		p.fail("reading back: %v; the device's rows:\n%s", err, strings.Join(rows, "\n"))
	}
	for k := range acked {
		if stored[k] != 1 {
			p.fail("reading %s acknowledged, stored %d times", k, stored[k])
		}
	}
	for k := range forged {
		if stored[k] != 0 {
			p.fail("forged reading %s stored", k)
		}
	}
	if len(stored) != len(acked) {
		p.fail("%d readings stored, %d acknowledged", len(stored), len(acked))
	}
	t.Logf("%d devices, %d readings acknowledged and stored once each (%d LATE), %d forged dropped; %d publishes sent again, %d copies stored as DUPLICATE; ingest started %d times",
		mqttDevices, len(acked), late, len(forged), resends.Load(), v.count("SELECT count() FROM readings WHERE startsWith(device_id, 'mq-') AND reason = 'DUPLICATE'"), ingest.Starts())
}

func countAcked(mu *sync.Mutex, acked map[string]bool) int {
	mu.Lock()
	defer mu.Unlock()
	return len(acked)
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
