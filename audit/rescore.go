package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
)

// Rescorer returns a settler.ScoreSource that scores each epoch again from
// the readings in conn with the policy s, runs its information checks
// again, and adds to *diffs where the stored device_scores and
// stream_evidence differ from what it computed. verify-epoch uses it on the
// operator's database and on an export loaded into a database of its own.
func Rescorer(conn driver.Conn, s aggregator.Scoring, rejectedTopic string, diffs *[]string, log *slog.Logger) settler.ScoreSource {
	return func(ctx context.Context, e uint64) ([]settler.Score, error) {
		cut, found, err := aggregator.RecordedCut(ctx, conn, e)
		if err != nil {
			return nil, err
		}
		if !found {
			*diffs = append(*diffs, fmt.Sprintf("epoch %d: no recorded cut of the rejected topic (epoch_cuts): scored before scores counted fraud", e))
		}
		// The epoch's length as it was closed, whatever aggregate.epochLength says now.
		var lengthMs int64
		if err := conn.QueryRow(ctx, sqlEpochLength, e).Scan(&lengthMs); err != nil {
			return nil, fmt.Errorf("verify-epoch: epoch %d is not closed: %w", e, err)
		}
		length := durationMs(lengthMs)
		// The information checks run again over the epoch's evidence window,
		// and must find what the aggregator stored.
		findings, stop, err := aggregator.Evidence(ctx, conn, s, length, e)
		if err != nil {
			return nil, err
		}
		evDiffs, err := compareEvidence(ctx, conn, e, findings)
		if err != nil {
			return nil, err
		}
		*diffs = append(*diffs, evDiffs...)
		ds, err := aggregator.ScoreEpoch(ctx, conn, s, length, e, rejectedTopic, cut, stop)
		if err != nil {
			return nil, err
		}
		scDiffs, err := compareScores(ctx, conn, e, ds)
		if err != nil {
			return nil, err
		}
		*diffs = append(*diffs, scDiffs...)
		owners := make([]tables.OwnerScore, len(ds))
		for i, d := range ds {
			owners[i] = tables.OwnerScore{Owner: d.Owner, Score: d.Score}
		}
		return settler.OwnerScores(owners, log), nil
	}
}

func durationMs(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

// compareEvidence compares the stored stream_evidence of epoch with the
// findings recomputed from the readings.
func compareEvidence(ctx context.Context, conn driver.Conn, epoch uint64, findings []aggregator.Finding) ([]string, error) {
	stored, err := aggregator.StoredEvidence(ctx, conn, epoch)
	if err != nil {
		return nil, err
	}
	key := func(f aggregator.Finding) string { return f.Device + " " + f.Reason }
	byKey := map[string]aggregator.Finding{}
	for _, f := range stored {
		byKey[key(f)] = f
	}
	var diffs []string
	for _, f := range findings {
		s, ok := byKey[key(f)]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s: %s recomputed (%+v) but not stored", epoch, f.Device, f.Reason, f))
		case s != f:
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s: %s stored %+v, recomputed %+v", epoch, f.Device, f.Reason, s, f))
		}
		delete(byKey, key(f))
	}
	for _, s := range stored {
		if _, left := byKey[key(s)]; left {
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s: %s stored (%+v) but its readings do not give it", epoch, s.Device, s.Reason, s))
		}
	}
	return diffs, nil
}

// compareScores compares the stored device_scores of epoch with ds.
func compareScores(ctx context.Context, conn driver.Conn, epoch uint64, ds []aggregator.DeviceScore) ([]string, error) {
	rows, err := tables.DeviceScores(ctx, conn, "WHERE epoch = ?", epoch)
	if err != nil {
		return nil, err
	}
	stored := map[string]aggregator.DeviceScore{}
	for _, d := range rows {
		stored[d.DeviceID] = aggregator.DeviceScore{DeviceScore: d}
	}
	var diffs []string
	for _, d := range ds {
		if s, ok := stored[d.DeviceID]; !ok {
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s scores %d by its readings, but has no stored score", epoch, d.DeviceID, d.Score))
		} else if !s.Same(d) {
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s stored %+v, recomputed %+v", epoch, d.DeviceID, s, d))
		}
		delete(stored, d.DeviceID)
	}
	for id, s := range stored {
		diffs = append(diffs, fmt.Sprintf("epoch %d: device %s has a stored score (%d) that its readings do not give", epoch, id, s.Score))
	}
	return diffs, nil
}
