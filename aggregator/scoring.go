package aggregator

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// DeviceScore is one device's row of device_scores (schemas/tables), with
// what the policy derives for it and does not store.
type DeviceScore struct {
	tables.DeviceScore
	capacity uint64 // a counter kind's capacity per interval, or 0
	coverage bool   // a coverage kind: paid by Witnessed
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
func (d DeviceScore) Same(o DeviceScore) bool { return d.DeviceScore == o.DeviceScore }

// paid: the device earns, and so takes a share of its cell and crowds its
// area. A detected cheater, a stream without information of its own, a
// flat sensor or a device far from where it says it is does neither, so it
// cannot dilute an honest neighbour.
func (d *DeviceScore) paid() bool {
	return d.Frauds == 0 && d.Evidence == "" && d.Uptime > 0 && d.Quality > 0 && d.Trust > 0
}

// ScoreEpoch computes every device's score in epoch from its valid readings,
// its fraud-class rejections in the rejected topic up to cut (offsets by
// partition: what the live scoring had stored, recorded with the epoch) and
// the information checks' verdict (Evidence), so that a replay of the log,
// or verify-epoch, computes the same rows, in device order. Integer arithmetic throughout; the H3 cell is found from the
// reading's fixed-point position (lat_e7 / 1e7, an exactly rounded IEEE
// division, the same on every run of the same server version) and only
// groups devices.
func ScoreEpoch(ctx context.Context, conn driver.Conn, s Scoring, epochLength time.Duration, epoch uint64, rejectedTopic string, cut map[int32]int64, evidence map[string]string) ([]DeviceScore, error) {
	q := scoreQuery(s, epochLength, epoch, rejectedTopic, cut, evidence)
	rows, err := conn.Query(ch.Context(ctx, ch.WithSettings(ch.Settings{"geotoh3_argument_order": "lat_lon"})), q.String()+"\nORDER BY device_id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	var out []DeviceScore
	for rows.Next() {
		var d DeviceScore
		if err := rows.Scan(d.ScanInto()...); err != nil {
			return nil, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
	}
	return out, nil
}

// storeScores scores epoch into device_scores, on the server (INSERT ...
// SELECT: no row passes through Go), and returns how many devices it
// scored. A retry after a crash computes the same rows from the same
// readings and cut under the same token; should the server cut its blocks
// differently that time, device_scores is a ReplacingMergeTree by (epoch,
// device_id) and every reader uses FINAL, so each device still counts once.
func storeScores(ctx context.Context, conn driver.Conn, s Scoring, epochLength time.Duration, epoch uint64, rejectedTopic string, cut map[int32]int64, evidence map[string]string) (uint64, error) {
	q := scoreQuery(s, epochLength, epoch, rejectedTopic, cut, evidence)
	ictx := ch.Context(ctx, ch.WithSettings(ch.Settings{
		"geotoh3_argument_order":     "lat_lon",
		"insert_deduplication_token": fmt.Sprintf("scores-%d", epoch),
		// The rows are unique by (epoch, device_id): replacing them on insert
		// would only sort them again (1.5 to 2 s of a million).
		"optimize_on_insert": 0,
	}))
	if err := conn.Exec(ictx, sqlInsertScores+q.String(), q.args...); err != nil {
		return 0, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
	}
	// The count is the log's: without FINAL (a million rows merged by key
	// would take a second), so a retry whose blocks were cut differently
	// may count some devices twice here, never in what readers sum.
	n, err := clickhouse.Uint64s(ctx, conn, sqlScoresStored, epoch)
	if err != nil {
		return 0, fmt.Errorf("aggregate: count the scores of epoch %d: %w", epoch, err)
	}
	return n[0], nil
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
	slices.SortFunc(ds, func(a, b DeviceScore) int { return strings.Compare(a.DeviceID, b.DeviceID) })
}
