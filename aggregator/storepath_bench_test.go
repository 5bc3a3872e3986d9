package aggregator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// BenchmarkStorePath measures what the ClickHouse server spends per row
// stored, piece by piece: the aggregator's INSERT of 50,000-row blocks (its
// default block) into readings as migrated, then the same with parts of the
// schema taken away, so each part's share is the difference (the variants
// take turns in each round). Rows are like
// the pipeline bench's (three measurements, a v2 reading's ~106 signed bytes
// and a 64-byte signature); the window includes two seconds after the last
// block, for the merges it starts. It reports the server's CPU-µs per row
// of each variant.
//
// Two shapes of block: the aggregator's full 50,000-row block of 5,000
// devices (ten readings of a device in a block), and the 17,500-row blocks
// of 10,000 devices that `bench pipeline`'s one-second flushes make (under
// two readings of a device in a block), where a per-device rollup writes
// about a row per reading.
//
//	go test -run '^$' -bench StorePath -benchtime 3x ./aggregator
func BenchmarkStorePath(b *testing.B) {
	for _, shape := range []struct {
		name                      string
		blocks, perBlock, devices int
	}{{"50k-blocks", 4, 50_000, 5_000}, {"pipeline-blocks", 12, 17_500, 10_000}} {
		b.Run(shape.name, func(b *testing.B) { storePath(b, shape.blocks, shape.perBlock, shape.devices) })
	}
}

func storePath(b *testing.B, blocks, perBlock, devices int) {
	srv := testenv.ClickHouse(b)
	ctx := context.Background()
	analyst := []string{"device_hourly_mv", "cell_hourly_mv", "outcomes_hourly_mv"}
	explorer := []string{"device_locations_mv", "epoch_rejections_mv"}
	drop := func(views ...string) []string {
		var out []string
		for _, v := range views {
			out = append(out, "DROP VIEW "+v)
		}
		return out
	}
	variants := []struct {
		name    string
		alter   []string
		noBytes bool
		version int // migrate only this far (0: all)
	}{
		{name: "as-migrated"},
		{name: "measurement-maps", version: 16}, // device_hourly as before 0017
		{name: "without-signed-bytes", noBytes: true},
		{name: "signature-uncompressed", alter: []string{"ALTER TABLE readings MODIFY COLUMN signature String CODEC(NONE)"}},
		{name: "bytes-lz4", alter: []string{"ALTER TABLE readings MODIFY COLUMN reading_bytes String CODEC(LZ4)"}},
		{name: "without-analyst-rollups", alter: drop(analyst...)},
		{name: "without-views", alter: drop(append(analyst, explorer...)...)},
		{name: "insert-alone", alter: append(drop(append(analyst, explorer...)...), "ALTER TABLE readings DROP PROJECTION progress")},
	}
	rows := map[bool][]*columns{}
	for _, noBytes := range []bool{false, true} {
		for i := range blocks {
			rows[noBytes] = append(rows[noBytes], storeBlock(i, perBlock, devices, noBytes))
		}
	}
	// The variants take turns within each round, so that a drift of the
	// shared machine's speed lands on all of them alike.
	server := make([]time.Duration, len(variants))
	for round := 0; b.Loop(); round++ {
		for vi, v := range variants {
			cfg := clickhouse.Config{Addr: srv.TCPAddr, Database: fmt.Sprintf("store%d_%d", vi, round), Username: "default"}
			var conn driver.Conn
			var err error
			if v.version == 0 {
				conn, err = clickhouse.OpenMigrated(ctx, cfg)
			} else if conn, err = clickhouse.Dial(ctx, cfg); err == nil {
				err = clickhouse.MigrateTo(ctx, conn, "", v.version)
			}
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range v.alter {
				if err := conn.Exec(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			s := &Service{conn: conn, blocks: clickhouse.NewInserter(cfg)}
			total0, self0 := cpuTime(b, srv.PID())
			for i, r := range rows[v.noBytes] {
				if err := s.insertOnce(ctx, r, fmt.Sprintf("store-%d", i)); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(2 * time.Second)
			total1, self1 := cpuTime(b, srv.PID())
			server[vi] += (total1 - self1) - (total0 - self0)
			if err := conn.Exec(ctx, "DROP DATABASE "+fmt.Sprintf("store%d_%d", vi, round)); err != nil {
				b.Fatal(err)
			}
			conn.Close()
			s.blocks.Close()
		}
	}
	for vi, v := range variants {
		b.ReportMetric(float64(server[vi].Microseconds())/float64(b.N*blocks*perBlock), v.name+"-µs/row")
	}
}

// storeBlock is block i of the store benchmark (storeRows) as columns.
func storeBlock(i, n, devices int, noBytes bool) *columns {
	c := newColumns(n)
	for _, r := range storeRows(i, n, devices, noBytes) {
		c.add(r)
	}
	return c
}

// storeRows are the rows of block i of the store benchmark: n valid weather
// readings of the devices in turn, a millisecond apart.
func storeRows(i, n, devices int, noBytes bool) []row {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	rows := make([]row, 0, n)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*n) * time.Millisecond)
	for j := range n {
		at := start.Add(time.Duration(j) * time.Millisecond)
		row := row{deviceID: "weather-" + strconv.Itoa((i*n+j)%devices), seq: uint64(i*n + j), eventTime: at, epoch: uint64(at.Unix() / 3600),
			kind: "RESOURCE_KIND_WEATHER", owner: "0x00000000000000000000000000000000000000a" + strconv.Itoa(j%10),
			measurements: []measurement{{Key: "temperature_c", Value: 20_000 + r.Int64N(100)}, {Key: "humidity_pct", Value: 50_000 + r.Int64N(1000)}, {Key: "pressure_hpa", Value: 1_013_000 + r.Int64N(500)}},
			lat:          473_000_000 + int32(j%50)*10_000, lon: 85_000_000, receivedAt: at, status: "valid", topic: "b.readings.valid",
			partition: uint32(j % 4), offset: uint64(i*n + j), wire: 2}
		if !noBytes {
			row.body, row.signature = make([]byte, 106), make([]byte, 64)
			copy(row.body, "\n\x0cweather-0000\x10")
			for k := 16; k < len(row.body); k++ {
				row.body[k] = byte(r.IntN(16)) // measurement varints: low entropy, as real ones
			}
			for k := range row.signature {
				row.signature[k] = byte(r.Uint32())
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// BenchmarkBlockInsert measures the aggregator's own CPU for a block: its
// rows added to the columns, and the columns encoded and sent as one INSERT
// into readings as migrated (insertOnce). One op is one 17,500-row block of
// 10,000 devices, as `bench pipeline`'s one-second flushes make. It reports
// this process's CPU a row (agg-ns/row: the server's time waiting for the
// INSERT is left out) and the allocations of a block (allocs/op).
//
//	go test -run '^$' -bench BlockInsert ./aggregator
func BenchmarkBlockInsert(b *testing.B) {
	const n, devices = 17_500, 10_000
	srv := testenv.ClickHouse(b)
	ctx := context.Background()
	cfg := clickhouse.Config{Addr: srv.TCPAddr, Database: "blockinsert", Username: "default"}
	conn, err := clickhouse.OpenMigrated(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	s := &Service{conn: conn, blocks: clickhouse.NewInserter(cfg)}
	b.Cleanup(func() { conn.Close(); s.blocks.Close() })
	rows := storeRows(0, n, devices, false)
	b.ReportAllocs()
	var self, server time.Duration
	for i := 0; b.Loop(); i++ {
		total0, self0 := cpuTime(b, srv.PID())
		c := newColumns(n)
		for _, r := range rows {
			c.add(r)
		}
		if err := s.insertOnce(ctx, c, fmt.Sprintf("blockinsert-%d", i)); err != nil {
			b.Fatal(err)
		}
		total1, self1 := cpuTime(b, srv.PID())
		self += self1 - self0
		server += (total1 - self1) - (total0 - self0)
	}
	b.ReportMetric(float64(self.Nanoseconds())/float64(b.N*n), "agg-ns/row")
	b.ReportMetric(float64(server.Nanoseconds())/float64(b.N*n), "server-ns/row")
}
