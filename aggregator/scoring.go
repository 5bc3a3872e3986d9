package aggregator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"gopkg.in/yaml.v3"

	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// KindScoring is how one resource kind's devices are scored; docs/scoring.md
// gives the formula and the reason for each part.
type KindScoring struct {
	// Interval is how often a real device of the kind reports. Uptime counts
	// the distinct intervals of the epoch with at least one valid reading:
	// a second reading in the same interval earns nothing.
	Interval time.Duration `yaml:"interval"`
	// Weight is the points one interval of uptime earns.
	Weight uint64 `yaml:"weight"`
	// CellResolution is the H3 resolution of the cell whose devices of the
	// kind share one device's reward.
	CellResolution uint8 `yaml:"cellResolution"`
}

// Scoring is the scoring policy.
type Scoring struct {
	Kinds map[pb.ResourceKind]KindScoring
	// Benign rejections are no verdict on the device (a retry, the
	// pipeline's timing, a producer bug); every other reason is fraud-class
	// and forfeits the epoch.
	Benign []string
	// Probation: a fraud-class rejection also forfeits this many epochs
	// after its own, so the first readings that pass before a pattern is
	// sure earn nothing, nor do the next epochs'.
	Probation uint64
}

// DefaultScoring: devices report every 5 s (the dev fleet's interval; set a
// network's real interval in aggregate.scoringFile), every kind weighs the
// same, and devices share a resolution-8 cell (about 0.7 km², 460 m edge):
// two weather stations or meters that close measure the same thing. A
// fraud-class rejection forfeits its epoch and the two after it.
func DefaultScoring() Scoring {
	s := Scoring{Kinds: map[pb.ResourceKind]KindScoring{}, Benign: []string{"DUPLICATE", "LATE", "UNDECODABLE"}, Probation: 2}
	for _, k := range []pb.ResourceKind{pb.ResourceKind_RESOURCE_KIND_HOTSPOT, pb.ResourceKind_RESOURCE_KIND_WEATHER,
		pb.ResourceKind_RESOURCE_KIND_ENERGY, pb.ResourceKind_RESOURCE_KIND_BANDWIDTH} {
		s.Kinds[k] = KindScoring{Interval: 5 * time.Second, Weight: 1000, CellResolution: 8}
	}
	return s
}

// ErrScoring means a scoring file or policy is unusable.
var ErrScoring = errors.New("aggregate: bad scoring policy")

// Validate checks every kind against an epoch of the given length.
func (s Scoring) Validate(epoch time.Duration) error {
	if s.Probation > 1000 {
		return fmt.Errorf("%w: probation must be at most 1000 epochs", ErrScoring)
	}
	for k, ks := range s.Kinds {
		switch {
		case ks.Interval < time.Millisecond || epoch%ks.Interval != 0:
			return fmt.Errorf("%w: %s: interval %s must be at least 1ms and divide the epoch (%s)", ErrScoring, k, ks.Interval, epoch)
		case ks.Weight == 0 || ks.Weight > 1_000_000_000:
			return fmt.Errorf("%w: %s: weight must be 1 to 1e9", ErrScoring, k)
		case ks.CellResolution > 15:
			return fmt.Errorf("%w: %s: cellResolution must be 0 to 15 (H3)", ErrScoring, k)
		}
	}
	return nil
}

// LoadScoring reads a scoring file over the defaults: `kinds: {weather:
// {interval: 60s, weight: 1000, cellResolution: 8}, ...}`, `benign: [...]`
// and `probation: N`. Unknown keys and kinds are errors.
func LoadScoring(path string) (Scoring, error) {
	s := DefaultScoring()
	if path == "" {
		return s, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Scoring{}, fmt.Errorf("%w: %v", ErrScoring, err)
	}
	var file struct {
		Kinds     map[string]KindScoring `yaml:"kinds"`
		Benign    *[]string              `yaml:"benign"`
		Probation *uint64                `yaml:"probation"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return Scoring{}, fmt.Errorf("%w: %s: %v", ErrScoring, path, err)
	}
	for name, ks := range file.Kinds {
		v, ok := pb.ResourceKind_value["RESOURCE_KIND_"+strings.ToUpper(name)]
		if !ok || v == 0 {
			return Scoring{}, fmt.Errorf("%w: %s: unknown kind %q (hotspot, weather, energy, bandwidth)", ErrScoring, path, name)
		}
		s.Kinds[pb.ResourceKind(v)] = ks
	}
	if file.Benign != nil {
		s.Benign = *file.Benign
	}
	if file.Probation != nil {
		s.Probation = *file.Probation
	}
	return s, nil
}

// DeviceScore is one device's contribution in one epoch, with every part of
// the formula (docs/scoring.md).
type DeviceScore struct {
	Epoch    uint64
	DeviceID string
	Owner    string
	Kind     string
	Readings uint64 // valid readings
	Uptime   uint64 // distinct intervals with a valid reading, at most the epoch's intervals
	Weight   uint64
	Cell     uint64 // H3 cell of the device's first valid reading of the epoch
	Sharing  uint64 // devices of the kind with uptime in the cell and no fraud, this one included
	Frauds   uint64 // fraud-class rejections in this epoch and the Probation epochs before it
	Score    uint64 // 0 with frauds, else Uptime * Weight / Sharing, rounded down
}

// ScoreEpoch computes every device's score in epoch from its valid readings
// and its fraud-class rejections in the rejected topic up to cut (offsets by
// partition: what the live close had stored, recorded with the epoch), so
// that a replay of the log, or verify-epoch, computes the same rows.
// Integer arithmetic throughout; the H3 cell is found from the reading's
// fixed-point position (lat_e7 / 1e7, an exactly rounded IEEE division, the
// same on every run of the same server version) and only groups devices.
func ScoreEpoch(ctx context.Context, conn driver.Conn, s Scoring, epochLength time.Duration, epoch uint64, rejectedTopic string, cut map[int32]int64) ([]DeviceScore, error) {
	var kinds []string
	var intervals, resolutions []uint64
	for k, ks := range s.Kinds {
		kinds = append(kinds, k.String())
		intervals = append(intervals, uint64(ks.Interval.Milliseconds()))
		resolutions = append(resolutions, uint64(ks.CellResolution))
	}
	start := int64(epoch) * epochLength.Milliseconds()
	rows, err := conn.Query(ch.Context(ctx, ch.WithSettings(ch.Settings{"geotoh3_argument_order": "lat_lon"})), `
		SELECT device_id, any(owner), kind, count(),
		       uniqExact(intDiv(toUnixTimestamp64Milli(event_time) - ?, transform(kind, ?, ?, toUInt64(0)))),
		       geoToH3(argMin(lat_e7, (event_time, seq)) / 1e7, argMin(lon_e7, (event_time, seq)) / 1e7, toUInt8(transform(kind, ?, ?, toUInt64(0))))
		FROM readings
		WHERE epoch = ? AND status = 'valid' AND has(?, kind)
		GROUP BY device_id, kind`, start, kinds, intervals, kinds, resolutions, epoch, kinds)
	if err != nil {
		return nil, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	var out []DeviceScore
	for rows.Next() {
		d := DeviceScore{Epoch: epoch}
		if err := rows.Scan(&d.DeviceID, &d.Owner, &d.Kind, &d.Readings, &d.Uptime, &d.Cell); err != nil {
			return nil, err
		}
		ks := s.Kinds[pb.ResourceKind(pb.ResourceKind_value[d.Kind])]
		d.Uptime = min(d.Uptime, uint64(epochLength/ks.Interval))
		d.Weight = ks.Weight
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
	}
	frauds, err := fraudsOf(ctx, conn, s, epoch, rejectedTopic, cut)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Frauds = frauds[out[i].DeviceID]
	}
	share(out)
	return out, nil
}

// fraudsOf counts each device's fraud-class rejections of epochs
// epoch-Probation..epoch (by the readings' own event time) in the rejected
// topic up to cut.
func fraudsOf(ctx context.Context, conn driver.Conn, s Scoring, epoch uint64, rejectedTopic string, cut map[int32]int64) (map[string]uint64, error) {
	parts, offsets := make([]int32, 0, len(cut)), make([]int64, 0, len(cut))
	for p, o := range cut {
		parts, offsets = append(parts, p), append(offsets, o)
	}
	benign := append([]string{""}, s.Benign...)
	rows, err := conn.Query(ctx, `SELECT device_id, count() FROM readings
		WHERE status = 'rejected' AND kafka_topic = ? AND reason NOT IN ? AND epoch BETWEEN ? AND ?
		  AND toInt64(kafka_offset) <= transform(toInt32(kafka_partition), ?, ?, toInt64(-1))
		GROUP BY device_id`, rejectedTopic, benign, epoch-min(epoch, s.Probation), epoch, parts, offsets)
	if err != nil {
		return nil, fmt.Errorf("aggregate: frauds of epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// share divides each cell's reward: the devices of a kind with uptime in one
// cell split it, so n devices at one spot earn what one earns. A device with
// fraud earns nothing and takes no share: a cheater cannot dilute an honest
// neighbour.
func share(ds []DeviceScore) {
	type cellKey struct {
		kind string
		cell uint64
	}
	n := map[cellKey]uint64{}
	for _, d := range ds {
		if d.Uptime > 0 && d.Frauds == 0 {
			n[cellKey{d.Kind, d.Cell}]++
		}
	}
	for i := range ds {
		ds[i].Sharing = max(n[cellKey{ds[i].Kind, ds[i].Cell}], 1)
		if ds[i].Frauds == 0 {
			ds[i].Score = ds[i].Uptime * ds[i].Weight / ds[i].Sharing
		}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].DeviceID < ds[j].DeviceID })
}

// storeScores writes the epoch's device scores, once: a retry after a crash
// carries the same rows and the same token.
func storeScores(ctx context.Context, conn driver.Conn, epoch uint64, ds []DeviceScore) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": fmt.Sprintf("scores-%d", epoch)}))
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO device_scores")
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := batch.Append(d.Epoch, d.DeviceID, d.Owner, d.Kind, d.Readings, d.Uptime, d.Weight, d.Cell, d.Sharing, d.Frauds, d.Score); err != nil {
			batch.Abort()
			return err
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("aggregate: store scores of epoch %d: %w", epoch, err)
	}
	return nil
}
