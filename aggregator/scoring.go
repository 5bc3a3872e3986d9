package aggregator

import (
	"context"
	"fmt"
	"math/bits"
	"sort"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// DeviceScore is one device's contribution in one epoch, with every part of
// the formula (docs/scoring.md). Multipliers are in basis points (10,000:
// one).
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
	Score     uint64 // 0 if not paid, else base/Sharing *Quality/1e4 *Trust/1e4 *Crowding/1e4, each step rounded down
	capacity  uint64 // a counter kind's capacity per interval, or 0
	coverage  bool   // a coverage kind: paid by Witnessed
}

// base is the points before sharing and multipliers: Uptime*Weight, or
// for a counter kind what it delivered, capped at its capacity for each
// interval of uptime, in intervals' worth of Weight.
func (d *DeviceScore) base() uint64 {
	if d.coverage {
		return d.Witnessed * d.Weight
	}
	if d.capacity == 0 {
		return d.Uptime * d.Weight
	}
	work := min(d.Delivered, d.capacity*d.Uptime)
	// work*Weight/capacity is at most Uptime*Weight (1e14): the 128-bit
	// quotient fits in 64 bits.
	hi, lo := bits.Mul64(work, d.Weight)
	q, _ := bits.Div64(hi, lo, d.capacity)
	return q
}

// Same reports whether two rows of device_scores agree (the policy's
// derived values, which are not stored, left out).
func (d DeviceScore) Same(o DeviceScore) bool {
	d.capacity, d.coverage = o.capacity, o.coverage
	return d == o
}

// paid: the device earns, and so takes a share of its cell and crowds its
// area. A detected cheater, a flat sensor or a device far from where it
// says it is does neither, so it cannot dilute an honest neighbour.
func (d *DeviceScore) paid() bool {
	return d.Frauds == 0 && d.Uptime > 0 && d.Quality > 0 && d.Trust > 0
}

// ScoreEpoch computes every device's score in epoch from its valid readings
// and its fraud-class rejections in the rejected topic up to cut (offsets by
// partition: what the live scoring had stored, recorded with the epoch), so
// that a replay of the log, or verify-epoch, computes the same rows.
// Integer arithmetic throughout; the H3 cell is found from the reading's
// fixed-point position (lat_e7 / 1e7, an exactly rounded IEEE division, the
// same on every run of the same server version) and only groups devices.
func ScoreEpoch(ctx context.Context, conn driver.Conn, s Scoring, epochLength time.Duration, epoch uint64, rejectedTopic string, cut map[int32]int64) ([]DeviceScore, error) {
	var out []DeviceScore
	for k, ks := range s.Kinds {
		ds, err := scoreKind(ctx, conn, k, ks, epochLength, epoch)
		if err != nil {
			return nil, fmt.Errorf("aggregate: score epoch %d, %s: %w", epoch, k, err)
		}
		out = append(out, ds...)
	}
	frauds, err := fraudsOf(ctx, conn, s, epoch, rejectedTopic, cut)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Frauds = frauds[out[i].DeviceID]
	}
	finish(out, s)
	return out, nil
}

// scoreKind reads the parts of the formula that come from one kind's valid
// readings in the epoch, one row per device, and the multipliers that
// depend on the device alone. The readings table is ordered by kind first,
// so each kind's query reads its own range.
func scoreKind(ctx context.Context, conn driver.Conn, k pb.ResourceKind, ks KindScoring, epochLength time.Duration, epoch uint64) ([]DeviceScore, error) {
	start, interval := int64(epoch)*epochLength.Milliseconds(), ks.Interval.Milliseconds()
	required := ks.required()
	// How many required measurements spread past their noise floor over
	// the epoch, counted by the server: one number per device rather than
	// an array (reading rows into Go is most of this query's time).
	moving := "toUInt64(0"
	var movingArgs []any
	for _, m := range required {
		moving += " + (maxIf(measurements[?], mapContains(measurements, ?)) - minIf(measurements[?], mapContains(measurements, ?)) > ?)"
		movingArgs = append(movingArgs, m, m, m, m, ks.Measurements[m])
	}
	moving += ")"
	args := append([]any{start, interval, start, interval, required}, movingArgs...)
	args = append(args, ks.Counter, ks.Counter, ks.CellResolution, ks.CrowdResolution, k.String(), epoch)
	rows, err := conn.Query(ch.Context(ctx, ch.WithSettings(ch.Settings{"geotoh3_argument_order": "lat_lon"})), `
		SELECT device_id, any(owner), count(),
		       uniqExact(intDiv(toUnixTimestamp64Milli(event_time) - ?, ?)),
		       uniqExactIf(intDiv(toUnixTimestamp64Milli(event_time) - ?, ?), hasAll(mapKeys(measurements), ?)),
		       `+moving+`, max(drift_m),
		       arraySum(arrayMap(x -> greatest(x, 0), arrayDifference(arrayMap(r -> r.3,
		           arraySort(groupArrayIf((event_time, seq, measurements[?]), mapContains(measurements, ?))))))),
		       geoToH3(argMin(lat_e7, (event_time, seq)) / 1e7, argMin(lon_e7, (event_time, seq)) / 1e7, toUInt8(?)) AS cell,
		       h3ToParent(cell, toUInt8(?))
		FROM readings
		WHERE kind = ? AND epoch = ? AND status = 'valid'
		GROUP BY device_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	intervals := uint64(epochLength / ks.Interval)
	var out []DeviceScore
	for rows.Next() {
		d := DeviceScore{Epoch: epoch, Kind: k.String(), Weight: ks.Weight}
		var drift uint32
		var delivered int64
		if err := rows.Scan(&d.DeviceID, &d.Owner, &d.Readings, &d.Uptime, &d.Complete, &d.Moving, &drift, &delivered, &d.Cell, &d.Area); err != nil {
			return nil, err
		}
		d.Delivered = uint64(max(delivered, 0))
		d.Uptime, d.Complete, d.DriftM = min(d.Uptime, intervals), min(d.Complete, intervals), uint64(drift)
		d.Quality = quality(d, len(required))
		d.Trust = trust(d.DriftM, ks)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil || ks.WitnessesPerBeacon == 0 {
		return out, err
	}
	witnessed, err := witnessesOf(ctx, conn, k, ks, start, epoch)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Witnessed = min(witnessed[out[i].DeviceID], intervals)
	}
	return out, nil
}

// witnessesOf counts each device's rewarded witnesses in the epoch: its
// valid witness reports of beacons it heard among their first
// witnessesPerBeacon witnesses (by the report's event time, then device
// id), one per beaconer and interval. A beacon must be a valid beacon
// reading of this epoch or the one before: the validators cannot see a
// beacon of another region, this query sees every region.
func witnessesOf(ctx context.Context, conn driver.Conn, k pb.ResourceKind, ks KindScoring, start int64, epoch uint64) (map[string]uint64, error) {
	return clickhouse.Counts(ctx, conn, `
		SELECT device_id, uniqExact(witness_of, intDiv(toUnixTimestamp64Milli(heard) - ?, ?))
		FROM (SELECT device_id, witness_of, min(event_time) AS heard,
		             row_number() OVER (PARTITION BY witness_of, witness_seq ORDER BY min(event_time), device_id) AS rank
		      FROM readings
		      WHERE kind = ? AND epoch = ? AND status = 'valid' AND witness_of != ''
		        AND (witness_of, witness_seq) IN (SELECT device_id, seq FROM readings
		            WHERE kind = ? AND epoch BETWEEN ? AND ? AND status = 'valid' AND mapContains(measurements, 'beacon_tx_dbm'))
		      GROUP BY device_id, witness_of, witness_seq)
		WHERE rank <= ?
		GROUP BY device_id`, start, ks.Interval.Milliseconds(), k.String(), epoch, k.String(), epoch-min(epoch, 1), epoch, ks.WitnessesPerBeacon)
}

// quality is the share of the device's intervals whose reading was complete,
// and nothing if no measurement moved beyond its noise floor.
func quality(d DeviceScore, measurements int) uint64 {
	switch {
	case d.Uptime == 0:
		return 0
	case measurements > 0 && d.Moving == 0:
		return 0
	}
	return 10_000 * d.Complete / d.Uptime
}

// trust is the location trust of a device whose farthest valid reading was
// driftM from its asserted location.
func trust(driftM uint64, ks KindScoring) uint64 {
	switch {
	case driftM <= ks.TrustFullM:
		return 10_000
	case driftM <= ks.TrustPartialM:
		return ks.TrustPartialBP
	}
	return 0
}

// fraudsOf counts each device's fraud-class rejections of epochs
// epoch-Probation .. epoch+Hold (by the readings' own event time) in the
// rejected topic up to cut. DUPLICATE is benign as a retry: a device with
// more than DuplicateRatio of them per valid reading in those epochs is
// replaying, and every DUPLICATE beyond that counts as fraud.
func fraudsOf(ctx context.Context, conn driver.Conn, s Scoring, epoch uint64, rejectedTopic string, cut map[int32]int64) (map[string]uint64, error) {
	parts, offsets := make([]int32, 0, len(cut)), make([]int64, 0, len(cut))
	for p, o := range cut {
		parts, offsets = append(parts, p), append(offsets, o)
	}
	benign := append([]string{""}, s.Benign...)
	// The rejections first (few), then the valid readings of the devices
	// that sent DUPLICATEs only: counting every device's valid readings
	// over five epochs was most of this query's time.
	rows, err := conn.Query(ctx, `SELECT device_id, countIf(reason NOT IN ?), countIf(reason = 'DUPLICATE')
		FROM readings
		WHERE epoch BETWEEN ? AND ? AND status = 'rejected' AND kafka_topic = ?
		  AND toInt64(kafka_offset) <= transform(toInt32(kafka_partition), ?, ?, toInt64(-1))
		GROUP BY device_id`, benign, epoch-min(epoch, s.Probation), epoch+s.Hold, rejectedTopic, parts, offsets)
	if err != nil {
		return nil, fmt.Errorf("aggregate: frauds of epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	out, dups := map[string]uint64{}, map[string]uint64{}
	for rows.Next() {
		var id string
		var frauds, dup uint64
		if err := rows.Scan(&id, &frauds, &dup); err != nil {
			return nil, err
		}
		if frauds > 0 {
			out[id] = frauds
		}
		if dup > 0 && s.DuplicateRatio > 0 {
			dups[id] = dup
		}
	}
	if err := rows.Err(); err != nil || len(dups) == 0 {
		return out, err
	}
	ids := make([]string, 0, len(dups))
	for id := range dups {
		ids = append(ids, id)
	}
	counts, err := clickhouse.Counts(ctx, conn, `SELECT device_id, count() FROM readings
		WHERE epoch BETWEEN ? AND ? AND status = 'valid' AND device_id IN ? GROUP BY device_id`, epoch-min(epoch, s.Probation), epoch+s.Hold, ids)
	if err != nil {
		return nil, fmt.Errorf("aggregate: frauds of epoch %d: %w", epoch, err)
	}
	for id, dup := range dups {
		if limit := s.DuplicateRatio * counts[id]; dup > limit {
			out[id] += dup - limit
		}
	}
	return out, nil
}

// Rescore computes the cell shares, crowding and scores of ds again, as if
// these were every device of their epoch (the simulator's honest loss: the
// honest devices' scores had the cheaters not been there).
func Rescore(ds []DeviceScore, s Scoring) {
	for i := range ds {
		ds[i].Score = 0
	}
	finish(ds, s)
}

// finish divides each cell's reward and scales crowded areas. The paid
// devices of a kind in one cell split it, so n devices at one spot earn
// what one earns; an area with more occupied cells than the kind's target
// scales each by target / occupied, so a spot carpeted with cells one
// device apiece earns what the target's worth of cells earns.
func finish(ds []DeviceScore, s Scoring) {
	type cellKey struct {
		kind string
		cell uint64
	}
	sharing, occupied := map[cellKey]uint64{}, map[cellKey]uint64{}
	for _, d := range ds {
		if d.paid() {
			if sharing[cellKey{d.Kind, d.Cell}]++; sharing[cellKey{d.Kind, d.Cell}] == 1 {
				occupied[cellKey{d.Kind, d.Area}]++
			}
		}
	}
	for i := range ds {
		d := &ds[i]
		ks := s.Kinds[pb.ResourceKind(pb.ResourceKind_value[d.Kind])]
		target := ks.CrowdTarget
		if d.capacity = 0; ks.Counter != "" {
			d.capacity = ks.capacity()
		}
		d.coverage = ks.WitnessesPerBeacon > 0
		d.Sharing, d.Occupied = max(sharing[cellKey{d.Kind, d.Cell}], 1), max(occupied[cellKey{d.Kind, d.Area}], 1)
		d.Crowding = 10_000 * min(target, d.Occupied) / d.Occupied
		if d.paid() {
			d.Score = d.base() / d.Sharing * d.Quality / 10_000 * d.Trust / 10_000 * d.Crowding / 10_000
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].DeviceID < ds[j].DeviceID })
}

// storeScores writes the epoch's device scores, once: a retry after a crash
// carries the same rows and the same token.
func storeScores(ctx context.Context, conn driver.Conn, epoch uint64, ds []DeviceScore) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": fmt.Sprintf("scores-%d", epoch)}))
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO device_scores (epoch, "+ScoreColumns+")")
	if err != nil {
		return err
	}
	// Column by column: appending a million rows value by value was most of
	// the write's time.
	strs := make([][]string, 3)
	nums := make([][]uint64, 18)
	for _, d := range ds {
		for i, v := range []string{d.DeviceID, d.Owner, d.Kind} {
			strs[i] = append(strs[i], v)
		}
		for i, v := range []uint64{d.Epoch, d.Readings, d.Uptime, d.Complete, d.Moving, d.Quality, d.DriftM, d.Trust, d.Witnessed, d.Delivered,
			d.Weight, d.Cell, d.Sharing, d.Area, d.Occupied, d.Crowding, d.Frauds, d.Score} {
			nums[i] = append(nums[i], v)
		}
	}
	// The INSERT's column order: epoch, the three strings, then the rest.
	cols := []any{nums[0], strs[0], strs[1], strs[2]}
	for _, n := range nums[1:] {
		cols = append(cols, n)
	}
	for i, c := range cols {
		if err := batch.Column(i).Append(c); err != nil {
			batch.Abort()
			return fmt.Errorf("aggregate: store scores of epoch %d, column %d: %w", epoch, i, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("aggregate: store scores of epoch %d: %w", epoch, err)
	}
	return nil
}

// ScoreColumns are device_scores' columns in DeviceScore's order, for
// readers that compare rows (verify-epoch).
const ScoreColumns = `device_id, owner, kind, readings, uptime, complete, moving, quality, drift_m, trust, witnessed, delivered, weight, cell, sharing, area, occupied, crowding, frauds, score`

// ScanInto returns the destinations of ScoreColumns in d.
func (d *DeviceScore) ScanInto() []any {
	return []any{&d.DeviceID, &d.Owner, &d.Kind, &d.Readings, &d.Uptime, &d.Complete, &d.Moving, &d.Quality, &d.DriftM, &d.Trust,
		&d.Witnessed, &d.Delivered, &d.Weight, &d.Cell, &d.Sharing, &d.Area, &d.Occupied, &d.Crowding, &d.Frauds, &d.Score}
}
