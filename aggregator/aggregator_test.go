package aggregator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	serveBrokerIfChild()
	// No goroutine of a stage outlives its test.
	goleak.VerifyTestMain(m, testenv.LeakOptions()...)
}

type env struct {
	kc     kafka.Config
	conn   driver.Conn
	blocks *clickhouse.Inserter
	prod   *kgo.Client
	cfg    Config
}

func newEnv(t *testing.T) *env {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "a.", Partitions: 2}
	if err := kafka.EnsureTopics(context.Background(), kc); err != nil {
		t.Fatal(err)
	}
	conn, cc := testenv.ClickHouseConn(t)
	blocks := clickhouse.NewInserter(cc)
	t.Cleanup(func() { blocks.Close() })
	prod, err := kgo.NewClient(append(kc.Opts(), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	cfg := DefaultConfig()
	cfg.EpochLength = 10 * time.Second
	cfg.AllowedLateness = time.Second
	cfg.BatchSize = 7 // many small INSERTs, so a stop lands mid-stream
	cfg.FlushInterval = 50 * time.Millisecond
	return &env{kc: kc, conn: conn, blocks: blocks, prod: prod, cfg: cfg}
}

// sendValid writes a valid reading of device d with the given event time to partition p.
// It returns the record as the broker stored it (with its offset).
func (e *env) sendValid(t *testing.T, p int32, d string, seq uint64, eventMs int64) *kgo.Record {
	v, _ := proto.Marshal(&pb.ValidReading{
		Reading: &pb.Reading{DeviceId: d, Seq: seq, EventTimeMs: eventMs, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER, Measurements: map[string]int64{"temperature_c": 1}},
		Owner:   "0xA", ReceivedAtMs: eventMs,
	})
	rec, err := e.prod.ProduceSync(context.Background(), &kgo.Record{Topic: e.kc.Topics().Valid, Partition: p, Key: []byte(d), Value: v}).First()
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (e *env) sendRejected(t *testing.T, p int32, d string, seq uint64, eventMs int64, reason string) {
	v, _ := proto.Marshal(&pb.RejectedReading{
		Reading: &pb.Reading{DeviceId: d, Seq: seq, EventTimeMs: eventMs, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER},
		Owner:   "0xA", ReceivedAtMs: eventMs, Reason: reason, Detail: "x",
	})
	if err := e.prod.ProduceSync(context.Background(), &kgo.Record{Topic: e.kc.Topics().Rejected, Partition: p, Key: []byte(d), Value: v}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func (e *env) start(t *testing.T) (*Service, func()) {
	svc, err := New(e.cfg, e.kc, e.conn, e.blocks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	stop := testenv.Go(t, svc.Run)
	return svc, stop
}

func (e *env) count(t *testing.T, q string, args ...any) uint64 {
	var n uint64
	if err := e.conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) waitCount(t *testing.T, want uint64, q string, args ...any) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, func() error {
		if n := e.count(t, q, args...); n != want {
			return fmt.Errorf("%s = %d, want %d", q, n, want)
		}
		return nil
	})
}

func TestExactlyOnceAcrossStopsAndEpochClose(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Truncate(10 * time.Second).Add(-time.Minute).UnixMilli() // start of an epoch
	const perRound = 60
	seq := uint64(0)
	sendRound := func(offsetMs int64) {
		for i := 0; i < perRound; i++ {
			seq++
			dev := fmt.Sprintf("d%d", i%6)
			if i%10 == 9 {
				e.sendRejected(t, int32(i%2), dev, seq, base+offsetMs, "OUT_OF_RANGE")
			} else {
				e.sendValid(t, int32(i%2), dev, seq, base+offsetMs)
			}
		}
	}
	// Three rounds, the aggregator stopped and restarted in between.
	_, stop := e.start(t)
	sendRound(1000)
	time.Sleep(150 * time.Millisecond)
	stop()
	sendRound(2000)
	_, stop = e.start(t)
	time.Sleep(100 * time.Millisecond)
	stop()
	sendRound(3000)
	e.start(t)
	e.waitCount(t, 3*perRound, "SELECT count() FROM readings")
	e.waitCount(t, 3*perRound*9/10, "SELECT count() FROM readings WHERE status = 'valid'")
	e.waitCount(t, 3*perRound*9/10, "SELECT sum(readings) FROM epoch_scores WHERE epoch = ?", uint64(base/10_000))
	// The rollups count each reading once too (a retried INSERT's views are
	// deduplicated with it).
	e.waitCount(t, 3*perRound*9/10, "SELECT sum(valid) FROM device_hourly")
	if n := e.count(t, "SELECT sum(valid) FROM device_hourly"); n != 3*perRound*9/10 {
		t.Fatalf("device_hourly: %d valid readings, want %d", n, 3*perRound*9/10)
	}
	if n := e.count(t, "SELECT count() FROM (SELECT kafka_topic, kafka_partition, kafka_offset FROM readings GROUP BY ALL HAVING count() > 1)"); n != 0 {
		t.Fatalf("%d Kafka records stored twice", n)
	}

	// Readings 12 s later move every partition's watermark past the epoch's
	// end plus lateness: the epoch closes, and a late reading for it is LATE.
	e.sendValid(t, 0, "d0", 1000, base+12_000)
	e.sendValid(t, 1, "d1", 1001, base+12_000)
	e.waitCount(t, 1, "SELECT count() FROM epochs WHERE epoch = ?", uint64(base/10_000))
	e.sendValid(t, 0, "d0", 1002, base+5_000)
	e.waitCount(t, 1, "SELECT count() FROM rejections WHERE reason = 'LATE' AND epoch = ?", uint64(base/10_000))
	e.waitCount(t, 3*perRound*9/10, "SELECT sum(readings) FROM epoch_scores WHERE epoch = ?", uint64(base/10_000))
}

// A retried INSERT (same token) is stored once, in the table and in the views.
func TestRetriedInsertIsDeduplicated(t *testing.T) {
	e := newEnv(t)
	svc, err := New(e.cfg, e.kc, e.conn, e.blocks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	rows := newColumns(1)
	rows.add(row{deviceID: "d", seq: 1, eventTime: now, epoch: 7, kind: "RESOURCE_KIND_WEATHER", owner: "0xA", receivedAt: now, status: "valid", topic: "a.readings.valid", offset: 5})
	for i := 0; i < 3; i++ {
		if err := svc.insertOnce(context.Background(), rows, "tok-1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, "SELECT count() FROM readings"); n != 1 {
		t.Fatalf("readings: %d rows after 3 retries, want 1", n)
	}
	if n := e.count(t, "SELECT sum(readings) FROM epoch_scores WHERE epoch = 7"); n != 1 {
		t.Fatalf("epoch_scores: %d readings after 3 retries, want 1", n)
	}
	if n := e.count(t, "SELECT sum(valid) FROM device_hourly"); n != 1 {
		t.Fatalf("device_hourly: %d valid readings after 3 retries, want 1", n)
	}
}

// A stop (context cancelled) while a block is being written does not abandon
// the INSERT: an abandoned INSERT can still land after the next owner has read
// where to resume, and would then be stored twice.
func TestStopFinishesTheInsertInFlight(t *testing.T) {
	e := newEnv(t)
	svc, err := New(e.cfg, e.kc, e.conn, e.blocks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, e.sendValid(t, 0, "d", uint64(i+1), now))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := svc.write(ctx, svc.newBlock(recs, map[topicPartition]time.Time{})); err != nil {
		t.Fatalf("write after stop: %v", err)
	}
	if n := e.count(t, "SELECT count() FROM readings"); n != 5 {
		t.Fatalf("readings: %d rows, want 5", n)
	}
}

// An aggregator that dies between recording its intent and its INSERT
// landing leaves a pending block. The next owner INSERTs the same records
// with the same token before consuming, and when the dead writer's INSERT
// lands afterwards it is dropped: every record is stored once.
func TestPendingBlockStoredOnceWhicheverCopyLands(t *testing.T) {
	e := newEnv(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dead, err := New(e.cfg, e.kc, e.conn, e.blocks, log)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, e.sendValid(t, int32(i%2), fmt.Sprintf("d%d", i%4), uint64(i+1), now))
	}
	// The dead instance had landed one block, then recorded a second one.
	wm := map[topicPartition]time.Time{}
	landed := dead.newBlock(recs[:10], wm)
	inFlight := dead.newBlock(recs[10:25], wm)
	if err := dead.write(context.Background(), landed); err != nil {
		t.Fatal(err)
	}
	if err := dead.writeIntent(context.Background(), inFlight); err != nil {
		t.Fatal(err)
	}

	e.start(t)
	e.waitCount(t, 40, "SELECT count() FROM readings")
	// An INSERT's rows in readings are visible before its views' rows are:
	// ClickHouse commits the table's part, then each view's. Wait for the
	// new owner's last INSERT to have finished, views included, so that
	// what follows counts only the late copy's effect.
	e.waitCount(t, 40, "SELECT sum(valid) FROM device_hourly")
	// The dead writer's INSERT lands late.
	if err := dead.insertOnce(context.Background(), inFlight.rows, inFlight.token); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count() FROM readings"); n != 40 {
		t.Fatalf("readings: %d rows after the late INSERT, want 40", n)
	}
	if n := e.count(t, "SELECT count() FROM (SELECT kafka_topic, kafka_partition, kafka_offset FROM readings GROUP BY ALL HAVING count() > 1)"); n != 0 {
		t.Fatalf("%d Kafka records stored twice", n)
	}
	if n := e.count(t, "SELECT sum(valid) FROM device_hourly"); n != 40 {
		t.Fatalf("device_hourly: %d valid readings, want 40", n)
	}
}

// LATE is decided by the partition's watermark before each record, at the
// boundary of epoch end plus allowed lateness, and never by wall clock.
func TestLateAtTheBoundary(t *testing.T) {
	cfg := DefaultConfig()
	cfg.EpochLength, cfg.AllowedLateness = 10*time.Second, 2*time.Second
	svc, err := New(cfg, kafka.Config{TopicPrefix: "l."}, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	const epoch = 1_000_000
	end := int64(epoch+1) * 10_000 // ms
	deadline := end + 2_000
	rec := func(p int32, eventMs, receivedMs int64) *kgo.Record {
		v, _ := proto.Marshal(&pb.ValidReading{Reading: &pb.Reading{DeviceId: "d", EventTimeMs: eventMs}, ReceivedAtMs: receivedMs})
		return &kgo.Record{Topic: "l.readings.valid", Partition: p, Value: v}
	}
	wm := map[topicPartition]time.Time{}
	steps := []struct {
		name                string
		p                   int32
		eventMs, receivedMs int64
		wantEpoch           uint64
		wantLate            bool
	}{
		{"last ms of the epoch", 0, end - 1, end - 1, epoch, false},
		{"next epoch, 1 ms before the deadline", 0, deadline - 1, deadline - 1, epoch + 1, false},
		{"epoch still open: watermark 1 ms short", 0, end - 5, deadline + 60_000, epoch, false},
		{"a device clock ahead does not move the watermark past ingest time", 0, deadline + 3_600_000, deadline - 1, epoch + 361, false},
		{"epoch still open", 0, end - 5, deadline, epoch, false},
		{"next epoch at the deadline", 0, deadline, deadline, epoch + 1, false},
		{"watermark at the deadline: LATE", 0, end - 1, deadline + 5, epoch, true},
		{"another partition has its own watermark", 1, end - 1, deadline + 5, epoch, false},
	}
	for _, st := range steps {
		r := svc.toRow(rec(st.p, st.eventMs, st.receivedMs), wm)
		if r.epoch != st.wantEpoch {
			t.Fatalf("%s: epoch %d, want %d", st.name, r.epoch, st.wantEpoch)
		}
		if late := r.reason == ReasonLate; late != st.wantLate || (!late && r.status != "valid") {
			t.Fatalf("%s: status %s reason %q, want late=%v", st.name, r.status, r.reason, st.wantLate)
		}
	}
}
