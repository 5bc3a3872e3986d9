package aggregator

// The information checks' data: an epoch's evidence window read from
// ClickHouse's valid readings (and where each stream's intervals are cut),
// and the findings written to (and read back from) stream_evidence.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// Window is epoch's evidence window: from Information.Back before its start
// to Information.Ahead after its end (Unix ms, end excluded).
func (s Scoring) Window(epochLength time.Duration, epoch uint64) (fromMs, toMs int64) {
	start, end := int64(epoch)*epochLength.Milliseconds(), int64(epoch+1)*epochLength.Milliseconds()
	return start - s.Information.Back.Milliseconds(), end + s.Information.Ahead.Milliseconds()
}

// phaseCut is where a stream's intervals begin, in ms after each multiple
// of step: in the middle of the widest gap between its readings' times
// modulo step. A device reading every step at its own phase, give or take
// some jitter, then has one reading in each interval, far from either end.
// Cut on a grid common to every stream, a stream whose phase lies on the
// grid's boundaries falls in one interval or the next by turns: a copy
// dated there (a fixed delay after its original, or on purpose) was split
// between two lags, and compared at either one, it showed half its
// evidence (a copy with three quarters of a grid step of noise passed).
func phaseCut(rows []windowRow, step int64) int64 {
	phases := make([]int64, len(rows))
	for i, r := range rows {
		phases[i] = r.timeMs - floorDiv(r.timeMs, step)*step
	}
	slices.Sort(phases)
	last := phases[len(phases)-1]
	gap := phases[0] + step - last // the gap across a multiple of step
	cut := (last + gap/2) % step
	for i := 1; i < len(phases); i++ {
		if g := phases[i] - phases[i-1]; g > gap {
			gap, cut = g, phases[i-1]+g/2
		}
	}
	return cut
}

// Evidence runs the information checks for epoch over the valid readings
// of its evidence window, which must have closed (the aggregator scores an
// epoch Scoring.Delay epochs after it, and a reading arriving for a closed
// epoch is LATE, so the window's readings never change after that). It
// returns every finding and the reason that stops each flagged device's
// pay. The same readings give the same findings, bit for bit.
func Evidence(ctx context.Context, conn driver.Conn, s Scoring, epochLength time.Duration, epoch uint64) ([]Finding, map[string]string, error) {
	if !s.Information.On() {
		return nil, map[string]string{}, nil
	}
	fromMs, toMs := s.Window(epochLength, epoch)
	kinds := make([]pb.ResourceKind, 0, len(s.Kinds))
	for k := range s.Kinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	var names, kindNames []string
	for _, k := range kinds {
		kindNames = append(kindNames, k.String())
		ns, _ := streamNames(s.Kinds[k])
		if s.Kinds[k].WitnessesPerBeacon > 0 {
			ns = append(ns, witnessNames...)
		}
		for _, n := range ns {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	ms := epochLength.Milliseconds()
	rows, err := conn.Query(ctx, sqlEvidenceWindow,
		int64(none), names, kindNames, floorDiv(fromMs, ms), floorDiv(toMs-1, ms), fromMs, toMs)
	if err != nil {
		return nil, nil, fmt.Errorf("aggregate: evidence of epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	var window []windowRow
	for rows.Next() {
		var r windowRow
		var kind string
		if err := rows.Scan(&kind, &r.device, &r.owner, &r.timeMs, &r.receivedMs, &r.latE7, &r.lonE7, &r.witnessOf, &r.values); err != nil {
			return nil, nil, fmt.Errorf("aggregate: evidence of epoch %d: %w", epoch, err)
		}
		r.kind = pb.ResourceKind(pb.ResourceKind_value[kind])
		window = append(window, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("aggregate: evidence of epoch %d: %w", epoch, err)
	}
	readings, witnesses := buildStreams(s, window, names, fromMs, toMs)
	findings, stop := judge(s.Information, epoch, readings, witnesses)
	return findings, stop, nil
}

// storeEvidence writes an epoch's findings to stream_evidence. A retry
// after a crash writes the same findings under the same token.
func storeEvidence(ctx context.Context, conn driver.Conn, epoch uint64, findings []Finding) error {
	if len(findings) == 0 {
		return nil
	}
	ictx := ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": fmt.Sprintf("evidence-%d", epoch)}))
	batch, err := conn.PrepareBatch(ictx, sqlInsertEvidence)
	if err != nil {
		return fmt.Errorf("aggregate: store the evidence of epoch %d: %w", epoch, err)
	}
	for _, f := range findings {
		if err := batch.Append(f.Epoch, f.Device, f.Reason, f.Flagged, f.Other, f.Measurement, f.LagMs,
			time.UnixMilli(f.FromMs).UTC(), time.UnixMilli(f.ToMs).UTC(), uint64(f.Samples), f.BetaBP, f.Value); err != nil {
			return fmt.Errorf("aggregate: store the evidence of epoch %d: %w", epoch, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("aggregate: store the evidence of epoch %d: %w", epoch, err)
	}
	return nil
}

const evidenceColumns = "epoch, device_id, reason, flagged, other, measurement, lag_ms, from_time, to_time, samples, beta_bp, value"

// StoredEvidence reads an epoch's findings as the aggregator stored them,
// in device then check order.
func StoredEvidence(ctx context.Context, conn driver.Conn, epoch uint64) ([]Finding, error) {
	rows, err := conn.Query(ctx, sqlStoredEvidence, epoch)
	if err != nil {
		return nil, fmt.Errorf("aggregate: read the evidence of epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var from, to time.Time
		var samples uint64
		if err := rows.Scan(&f.Epoch, &f.Device, &f.Reason, &f.Flagged, &f.Other, &f.Measurement, &f.LagMs, &from, &to, &samples, &f.BetaBP, &f.Value); err != nil {
			return nil, err
		}
		f.FromMs, f.ToMs, f.Samples = from.UnixMilli(), to.UnixMilli(), int64(min(samples, math.MaxInt64))
		out = append(out, f)
	}
	sortFindings(out)
	return out, rows.Err()
}
