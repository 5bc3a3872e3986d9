package tables

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// DeviceScore is one device's contribution in one epoch (device_scores),
// with every part of the formula (docs/scoring.md). Multipliers are in
// basis points (10,000: one). The aggregator writes it when it scores an
// epoch; the settler pays by Score; the explorer shows every part.
type DeviceScore struct {
	Epoch    uint64
	DeviceID string
	Owner    string
	Kind     string
	Readings uint64 // valid readings
	Uptime   uint64 // distinct intervals with a valid reading, at most the epoch's intervals
	Complete uint64 // distinct intervals with a valid reading carrying every measurement of the kind
	Moving   uint64 // measurements of the kind that moved more than their noise floor in the epoch
	Quality  uint64 // 0 if none moved, else 10000 * Complete / Uptime
	DriftM   uint64 // farthest valid reading from the asserted location, metres
	Trust    uint64 // location trust by DriftM
	// Witnessed is a coverage kind's rewarded witnesses: distinct beaconers
	// heard per interval, counting only the beacons whose first
	// witnessesPerBeacon witnesses it was among.
	Witnessed uint64
	// Delivered is what a counter kind's counter rose by over the epoch's
	// valid readings (the sum of its increases, in event-time order).
	Delivered uint64
	Weight    uint64
	Cell      uint64 // H3 cell of the device's first valid reading of the epoch
	Sharing   uint64 // paid devices of the kind in the cell, this one included
	Area      uint64 // H3 cell (crowd resolution) holding Cell
	Occupied  uint64 // cells of the kind in the area with a paid device
	Crowding  uint64 // 10000 * min(1, crowdTarget / Occupied)
	Frauds    uint64 // fraud-class rejections in epochs epoch-probation .. epoch+hold, and replayed DUPLICATEs
	// Evidence is the information check that stopped the device's pay in
	// this epoch (stream_evidence has what it found), or "".
	Evidence string
	Score    uint64 // 0 if not paid, else base/Sharing *Quality/1e4 *Trust/1e4 *Crowding/1e4, each step rounded down
}

// ScoreColumns are device_scores' columns after epoch, in DeviceScore's
// order.
const ScoreColumns = `device_id, owner, kind, readings, uptime, complete, moving, quality, drift_m, trust, witnessed, delivered, weight, cell, sharing, area, occupied, crowding, frauds, evidence, score`

// ScanInto returns the destinations of epoch then ScoreColumns in d.
func (d *DeviceScore) ScanInto() []any {
	return []any{&d.Epoch, &d.DeviceID, &d.Owner, &d.Kind, &d.Readings, &d.Uptime, &d.Complete, &d.Moving, &d.Quality, &d.DriftM, &d.Trust,
		&d.Witnessed, &d.Delivered, &d.Weight, &d.Cell, &d.Sharing, &d.Area, &d.Occupied, &d.Crowding, &d.Frauds, &d.Evidence, &d.Score}
}

// DeviceScores reads device_scores (deduplicated); rest is the query's
// WHERE, ORDER BY and LIMIT with its arguments.
func DeviceScores(ctx context.Context, conn driver.Conn, rest string, args ...any) ([]DeviceScore, error) {
	rows, err := conn.Query(ctx, "SELECT epoch, "+ScoreColumns+" FROM device_scores FINAL "+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("read device_scores: %w", err)
	}
	defer rows.Close()
	var out []DeviceScore
	for rows.Next() {
		var d DeviceScore
		if err := rows.Scan(d.ScanInto()...); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read device_scores: %w", err)
	}
	return out, nil
}

// OwnerScore is an owner's summed device scores in an epoch.
type OwnerScore struct {
	Owner string
	Score uint64
}

// OwnerScores sums device_scores per owner in epoch, in owner order.
func OwnerScores(ctx context.Context, conn driver.Conn, epoch uint64) ([]OwnerScore, error) {
	rows, err := conn.Query(ctx, `SELECT owner, sum(score) FROM device_scores FINAL WHERE epoch = ? GROUP BY owner ORDER BY owner`, epoch)
	if err != nil {
		return nil, fmt.Errorf("read device_scores of epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	var out []OwnerScore
	for rows.Next() {
		var o OwnerScore
		if err := rows.Scan(&o.Owner, &o.Score); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read device_scores of epoch %d: %w", epoch, err)
	}
	return out, nil
}

// InsertDeviceScores writes rows into device_scores in one block: what the
// aggregator's scoring computes on the server, for fixtures and benches.
func InsertDeviceScores(ctx context.Context, conn driver.Conn, rows []DeviceScore) error {
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO device_scores (epoch, "+ScoreColumns+")")
	if err != nil {
		return err
	}
	for _, d := range rows {
		if err := batch.Append(d.Epoch, d.DeviceID, d.Owner, d.Kind, d.Readings, d.Uptime, d.Complete, d.Moving, d.Quality, d.DriftM, d.Trust,
			d.Witnessed, d.Delivered, d.Weight, d.Cell, d.Sharing, d.Area, d.Occupied, d.Crowding, d.Frauds, d.Evidence, d.Score); err != nil {
			batch.Abort()
			return err
		}
	}
	return batch.Send()
}

// EpochScore is the sum of epoch's device scores: what its emission is
// split by.
func EpochScore(ctx context.Context, conn driver.Conn, epoch uint64) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT sum(score) FROM device_scores FINAL WHERE epoch = ?", epoch).Scan(&n)
	return n, err
}
