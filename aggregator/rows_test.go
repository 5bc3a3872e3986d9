package aggregator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// The columns name every column of readings: one a migration adds and the
// INSERT leaves out would be stored as its default without an error.
func TestColumnsNameEveryReadingsColumn(t *testing.T) {
	conn, _ := testenv.ClickHouseConn(t)
	rows, err := conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'readings' AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var table []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		table = append(table, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, col := range newColumns(0).input() {
		named = append(named, col.Name)
	}
	if !slices.Equal(named, table) {
		t.Fatalf("the INSERT's columns:\n%q\nreadings' columns:\n%q", named, table)
	}
}

// Every value of a block comes back from readings as it was added, and a
// block's columns reset and reused carry nothing of the block before.
func TestBlockRoundTrip(t *testing.T) {
	conn, cc := testenv.ClickHouseConn(t)
	s := &Service{conn: conn, blocks: clickhouse.NewInserter(cc)}
	t.Cleanup(func() { s.blocks.Close() })
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	c := newColumns(1)
	for block := range 2 {
		// 300 owners: more than 256 distinct values, so the owner
		// column's dictionary keys take two bytes.
		want := make([]row, 300+block*7)
		for i := range want {
			want[i] = randomRow(r, block*1000+i)
		}
		if block > 0 {
			c.reset()
		}
		for _, w := range want {
			c.add(w)
		}
		if err := s.insertOnce(ctx, c, fmt.Sprintf("roundtrip-%d", block)); err != nil {
			t.Fatal(err)
		}
		got := readBack(t, conn, uint64(block*1000), uint64(block*1000+len(want)))
		if len(got) != len(want) {
			t.Fatalf("block %d: %d rows back, want %d", block, len(got), len(want))
		}
		for i := range want {
			if g, w := comparable(got[i]), comparable(want[i]); !reflect.DeepEqual(g, w) {
				t.Fatalf("block %d row %d:\n got %+v\nwant %+v", block, i, g, w)
			}
		}
	}
}

// randomRow is a row with every column set, some of them empty.
func randomRow(r *rand.Rand, offset int) row {
	at := time.UnixMilli(1_790_000_000_000 + r.Int64N(1e9)).UTC()
	w := row{deviceID: fmt.Sprintf("dev-%d", r.IntN(50)), seq: r.Uint64(), eventTime: at, epoch: r.Uint64N(1000),
		kind: []string{"RESOURCE_KIND_WEATHER", "RESOURCE_KIND_HOTSPOT"}[r.IntN(2)], owner: fmt.Sprintf("0x%040x", offset%300),
		lat: r.Int32() - r.Int32(), lon: r.Int32() - r.Int32(), receivedAt: at.Add(time.Duration(r.IntN(5000)) * time.Millisecond),
		status: "valid", topic: "t.readings.valid", partition: r.Uint32N(64), offset: uint64(offset), driftM: r.Uint32(),
		wire: uint8(r.IntN(4))}
	if r.IntN(3) > 0 {
		for i := range r.IntN(5) {
			w.measurements = append(w.measurements, measurement{Key: fmt.Sprintf("m%d", r.IntN(8)*10+i), Value: r.Int64() - r.Int64()})
		}
	}
	if r.IntN(2) == 0 {
		w.status, w.reason, w.detail = "rejected", []string{"LATE", "BAD_SIGNATURE", "CLONE"}[r.IntN(3)], fmt.Sprintf("detail %d\x00é", r.IntN(9))
		w.topic = "t.readings.rejected"
	}
	if r.IntN(2) == 0 {
		w.witnessOf, w.witnessSeq = fmt.Sprintf("beacon-%d", r.IntN(9)), r.Uint64()
	}
	if r.IntN(4) > 0 {
		w.body, w.signature = make([]byte, r.IntN(200)), make([]byte, 64)
		for i := range w.body {
			w.body[i] = byte(r.Uint32())
		}
		for i := range w.signature {
			w.signature[i] = byte(r.Uint32())
		}
	}
	if r.IntN(3) == 0 {
		w.trustedBy = "chirpstack-1"
		w.uplink = uplink{deduplicationID: fmt.Sprintf("dd-%d", r.IntN(1e6)), fCnt: r.Uint32(), fPort: uint32(r.IntN(256))}
		for range r.IntN(4) {
			w.uplink.gateways = append(w.uplink.gateways, fmt.Sprintf("gw-%d", r.IntN(99)))
			w.uplink.rssi = append(w.uplink.rssi, int16(-r.IntN(130)))
			w.uplink.snr = append(w.uplink.snr, int16(r.IntN(400)-200))
		}
	}
	return w
}

// readBack reads the rows of readings with offsets in [from, to).
func readBack(t *testing.T, conn driver.Conn, from, to uint64) []row {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7,
		received_at, status, reason, detail, kafka_topic, kafka_partition, kafka_offset, drift_m, witness_of, witness_seq,
		reading_bytes, signature, wire, trusted_by, lorawan_deduplication_id, lorawan_f_cnt, lorawan_f_port,
		lorawan_gateways.gateway_id, lorawan_gateways.rssi_dbm, lorawan_gateways.snr_db10
		FROM readings WHERE kafka_offset >= ? AND kafka_offset < ? ORDER BY kafka_offset`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var g row
		var body, sig string
		var fPort uint8
		var ms map[string]int64
		if err := rows.Scan(&g.deviceID, &g.seq, &g.eventTime, &g.epoch, &g.kind, &g.owner, &ms, &g.lat, &g.lon,
			&g.receivedAt, &g.status, &g.reason, &g.detail, &g.topic, &g.partition, &g.offset, &g.driftM, &g.witnessOf, &g.witnessSeq,
			&body, &sig, &g.wire, &g.trustedBy, &g.uplink.deduplicationID, &g.uplink.fCnt, &fPort,
			&g.uplink.gateways, &g.uplink.rssi, &g.uplink.snr); err != nil {
			t.Fatal(err)
		}
		g.body, g.signature, g.uplink.fPort = []byte(body), []byte(sig), uint32(fPort)
		for k, v := range ms {
			g.measurements = append(g.measurements, measurement{Key: k, Value: v})
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// comparable is r with its times as milliseconds and every empty slice or
// map as nil, so that rows compare by value.
func comparable(r row) any {
	type times struct{ event, received int64 }
	tm := times{r.eventTime.UnixMilli(), r.receivedAt.UnixMilli()}
	r.eventTime, r.receivedAt = time.Time{}, time.Time{}
	ms := measurementMap(r.measurements)
	r.measurements = nil
	for _, b := range []*[]byte{&r.body, &r.signature} {
		if len(*b) == 0 {
			*b = nil
		}
	}
	if len(r.uplink.gateways) == 0 {
		r.uplink.gateways, r.uplink.rssi, r.uplink.snr = nil, nil, nil
	}
	return struct {
		row
		times
		ms map[string]int64
	}{r, tm, ms}
}
