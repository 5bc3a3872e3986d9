package aggregator

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestEvidenceFromClickHouse stores a neighbourhood's readings (honest
// stations, a noisy copy, a loop) in ClickHouse, as the aggregator does,
// and checks that the evidence read from there is what the checks find in
// the same readings in memory; that storing it twice (a retried close)
// keeps one copy; and that the scores stop the copy's and the loop's pay
// and nobody else's.
func TestEvidenceFromClickHouse(t *testing.T) {
	ctx := context.Background()
	conn, _ := testenv.ClickHouseConn(t)
	w, st := neighbourhood(21)
	r := rand.New(rand.NewPCG(21, 21))
	var rows []windowRow
	var tape [][]int64
	for k := range ticks() {
		w.step()
		for i, s := range st {
			row := s.read(w, k)
			rows = append(rows, row)
			switch i {
			case 1: // copied with a quarter of a grid step of noise, a second late
				cp := row
				cp.device, cp.owner, cp.latE7, cp.timeMs, cp.values = "ws-copy", "owner-c", row.latE7+80_000, row.timeMs+1000, withNoise(r, row.values, 0.25)
				rows = append(rows, cp)
			case 2: // its first three minutes, looped
				lp := row
				lp.device, lp.owner, lp.latE7, lp.timeMs = "ws-loop", "owner-l", row.latE7+160_000, row.timeMs+2222
				if k < 36 {
					tape = append(tape, row.values)
				} else {
					lp.values = tape[k%36]
				}
				rows = append(rows, lp)
			}
		}
	}
	// A reading just before the window, far off what the loop recorded:
	// outside the window, it must not count.
	stray := rows[len(rows)-1]
	stray.timeMs, stray.values = tickMs(0)-1, []int64{1, 1, 1}
	batch, err := conn.PrepareBatch(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7,
		received_at, status, reason, kafka_topic, kafka_partition, kafka_offset)`)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range append(slices.Clone(rows), stray) {
		m := map[string]int64{}
		for j, n := range weatherNames {
			m[n] = row.values[j]
		}
		ts := timeMs(row.timeMs)
		if err := batch.Append(row.device, uint64(i), ts, uint64(row.timeMs/testLength.Milliseconds()), row.kind.String(), row.owner, m,
			row.latE7, row.lonE7, ts, "valid", "", "valid", uint32(0), uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}

	s := DefaultScoring()
	findings, stop, err := Evidence(ctx, conn, s, testLength, testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	from, to := s.Window(testLength, testEpoch)
	sortRows(rows)
	readings, witnesses := buildStreams(s, rows, weatherNames, from, to)
	inMemory, _ := judge(s.Information, testEpoch, readings, witnesses)
	if !slices.Equal(findings, inMemory) {
		t.Fatalf("the evidence from ClickHouse differs from the checks over the same readings:\n%v\n%v", findings, inMemory)
	}
	if len(stop) != 2 || stop["ws-copy"] != ReasonTracked || stop["ws-loop"] != ReasonLooped {
		t.Fatalf("verdicts %v; want the copy tracked and the loop looped, nobody else", stop)
	}
	for range 2 { // a close retried after a crash
		if err := storeEvidence(ctx, conn, testEpoch, findings); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := StoredEvidence(ctx, conn, testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored, findings) {
		t.Fatalf("stored evidence (%d findings) is not what was found (%d)", len(stored), len(findings))
	}

	if _, err := storeScores(ctx, conn, s, testLength, testEpoch, "rejected", map[int32]int64{}, stop); err != nil {
		t.Fatal(err)
	}
	scored, err := ScoreEpoch(ctx, conn, s, testLength, testEpoch, "rejected", map[int32]int64{}, stop)
	if err != nil {
		t.Fatal(err)
	}
	paid := 0
	for _, d := range scored {
		switch d.DeviceID {
		case "ws-copy", "ws-loop":
			if d.Evidence != stop[d.DeviceID] || d.Score != 0 {
				t.Errorf("%s: evidence %q, score %d; want %s and nothing", d.DeviceID, d.Evidence, d.Score, stop[d.DeviceID])
			}
		default:
			if d.Evidence != "" {
				t.Errorf("%s: evidence %q", d.DeviceID, d.Evidence)
			}
			if d.Score > 0 {
				paid++
			}
		}
	}
	if paid != len(st) {
		t.Errorf("%d of %d honest stations paid", paid, len(st))
	}
	// The Go reference agrees with the server's rows, evidence included.
	again := slices.Clone(scored)
	Rescore(again, s)
	for i := range scored {
		if !scored[i].Same(again[i]) {
			t.Errorf("the server and the Go reference differ:\n%+v\n%+v", scored[i], again[i])
		}
	}
}

func sortRows(rows []windowRow) {
	slices.SortStableFunc(rows, func(a, b windowRow) int {
		if a.device != b.device {
			return map[bool]int{true: -1, false: 1}[a.device < b.device]
		}
		return int(a.timeMs - b.timeMs)
	})
}

func timeMs(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
