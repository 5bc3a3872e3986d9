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

// Scoring is the per-kind scoring policy.
type Scoring map[pb.ResourceKind]KindScoring

// DefaultScoring: devices report every 5 s (the dev fleet's interval; set a
// network's real interval in aggregate.scoringFile), every kind weighs the
// same, and devices share a resolution-8 cell (about 0.7 km², 460 m edge):
// two weather stations or meters that close measure the same thing.
func DefaultScoring() Scoring {
	s := Scoring{}
	for _, k := range []pb.ResourceKind{pb.ResourceKind_RESOURCE_KIND_HOTSPOT, pb.ResourceKind_RESOURCE_KIND_WEATHER,
		pb.ResourceKind_RESOURCE_KIND_ENERGY, pb.ResourceKind_RESOURCE_KIND_BANDWIDTH} {
		s[k] = KindScoring{Interval: 5 * time.Second, Weight: 1000, CellResolution: 8}
	}
	return s
}

// ErrScoring means a scoring file or policy is unusable.
var ErrScoring = errors.New("aggregate: bad scoring policy")

// Validate checks every kind against an epoch of the given length.
func (s Scoring) Validate(epoch time.Duration) error {
	for k, ks := range s {
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
// {interval: 60s, weight: 1000, cellResolution: 8}, ...}`. Unknown keys and
// kinds are errors.
func LoadScoring(path string) (Scoring, error) {
	s := DefaultScoring()
	if path == "" {
		return s, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrScoring, err)
	}
	var file struct {
		Kinds map[string]KindScoring `yaml:"kinds"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrScoring, path, err)
	}
	for name, ks := range file.Kinds {
		v, ok := pb.ResourceKind_value["RESOURCE_KIND_"+strings.ToUpper(name)]
		if !ok || v == 0 {
			return nil, fmt.Errorf("%w: %s: unknown kind %q (hotspot, weather, energy, bandwidth)", ErrScoring, path, name)
		}
		s[pb.ResourceKind(v)] = ks
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
	Sharing  uint64 // devices of the kind with uptime in the cell, this one included
	Score    uint64 // Uptime * Weight / Sharing, rounded down
}

// ScoreEpoch computes every device's score in epoch from its valid readings
// alone, so that a replay of the log, or verify-epoch, computes the same rows.
// Integer arithmetic throughout; the H3 cell is found from the reading's
// fixed-point position (lat_e7 / 1e7, an exactly rounded IEEE division, the
// same on every run of the same server version) and only groups devices.
func ScoreEpoch(ctx context.Context, conn driver.Conn, s Scoring, epochLength time.Duration, epoch uint64) ([]DeviceScore, error) {
	var kinds []string
	var intervals, resolutions []uint64
	for k, ks := range s {
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
		ks := s[pb.ResourceKind(pb.ResourceKind_value[d.Kind])]
		d.Uptime = min(d.Uptime, uint64(epochLength/ks.Interval))
		d.Weight = ks.Weight
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("aggregate: score epoch %d: %w", epoch, err)
	}
	share(out)
	return out, nil
}

// share divides each cell's reward: the devices of a kind with uptime in one
// cell split it, so n devices at one spot earn what one earns.
func share(ds []DeviceScore) {
	type cellKey struct {
		kind string
		cell uint64
	}
	n := map[cellKey]uint64{}
	for _, d := range ds {
		if d.Uptime > 0 {
			n[cellKey{d.Kind, d.Cell}]++
		}
	}
	for i := range ds {
		ds[i].Sharing = max(n[cellKey{ds[i].Kind, ds[i].Cell}], 1)
		ds[i].Score = ds[i].Uptime * ds[i].Weight / ds[i].Sharing
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
		if err := batch.Append(d.Epoch, d.DeviceID, d.Owner, d.Kind, d.Readings, d.Uptime, d.Weight, d.Cell, d.Sharing, d.Score); err != nil {
			batch.Abort()
			return err
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("aggregate: store scores of epoch %d: %w", epoch, err)
	}
	return nil
}
