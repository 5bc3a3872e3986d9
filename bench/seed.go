package bench

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// seedNetwork writes what the pipeline would have: the registry of devices
// (device d owned by owners[d % len], of one of four kinds, in one of 300
// towns), then for each epoch every device's score with its parts (on the
// server: a million rows), and three rejected readings of every hundredth
// device (through the readings table, so epoch_rejections is fed by its
// view), and the epoch closed and scored.
func (c *chainStack) seedNetwork(ctx context.Context, owners []common.Address, devices int, first uint64, epochs int) error {
	rng := rand.New(rand.NewPCG(7, 7))
	type town struct{ lat, lon float64 }
	towns := make([]town, 300)
	for i := range towns {
		towns[i] = town{rng.Float64()*110 - 45, rng.Float64()*340 - 170}
	}
	kinds := []string{"RESOURCE_KIND_WEATHER", "RESOURCE_KIND_ENERGY", "RESOURCE_KIND_HOTSPOT", "RESOURCE_KIND_BANDWIDTH"}
	const chunk = 200_000
	for from := 0; from < devices; from += chunk {
		batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO devices (device_id, public_key, kind, owner, lat_e7, lon_e7, registered_at, active, kafka_offset)")
		if err != nil {
			return err
		}
		for d := from; d < min(from+chunk, devices); d++ {
			t := towns[rng.IntN(len(towns))]
			la, lo := t.lat+rng.NormFloat64()*0.1, t.lon+rng.NormFloat64()*0.1
			if err := batch.Append("bench-"+strconv.Itoa(d), "", kinds[d%4], owners[d%len(owners)].Hex(), int32(la*1e7), int32(lo*1e7), time.Now(), true, uint64(d)); err != nil {
				batch.Abort()
				return err
			}
		}
		if err := batch.Send(); err != nil {
			return err
		}
	}
	length := c.st.Config.Aggregate.EpochLength
	settings := " SETTINGS geotoh3_argument_order = 'lat_lon'"
	for e := first; e < first+uint64(epochs); e++ {
		if err := c.conn.Exec(ctx, `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, frauds, score,
			complete, moving, quality, drift_m, trust, area, occupied, crowding)
			SELECT ?, device_id, owner, kind, 360, u, 1000, geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 8), 1, 0, u * 1000, u, 3, 10000, 20, 10000,
			       geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 6), 1, 10000
			FROM (SELECT device_id, owner, kind, lat_e7, lon_e7, 1 + cityHash64(device_id, ?) % 360 AS u FROM devices)`+settings, e, e); err != nil {
			return err
		}
		start := time.UnixMilli(int64(e) * length.Milliseconds()).UTC()
		if err := c.conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, lat_e7, lon_e7, received_at, status, reason, detail, kafka_topic)
			SELECT device_id, n, ? + toIntervalSecond(n), ?, kind, owner, lat_e7, lon_e7, ? + toIntervalSecond(n), 'rejected',
			       ['OUT_OF_RANGE', 'RATE_EXCEEDED', 'LOCATION_DRIFT'][n + 1], 'bench: a made-up rejection', 'bench'
			FROM devices ARRAY JOIN [0, 1, 2] AS n WHERE toUInt64(substring(device_id, 7)) % 100 = 7`, start, e, start); err != nil {
			return err
		}
		if err := c.closeEpoch(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
