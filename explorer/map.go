package explorer

// The explorer's map: the epoch's devices and rejections by H3 cell, and a
// cell's devices (explorer.go has the routes and the cache).

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// MapCell is a cell of GET /v1/explorer/map.
type MapCell struct {
	Cell     string       `json:"cell"` // H3 index, as h3ToString writes it
	Lat      float64      `json:"lat"`  // centre, for drawing only
	Lon      float64      `json:"lon"`
	Boundary [][2]float64 `json:"boundary"` // [lat, lon] corners
	Devices  uint64       `json:"devices"`  // devices scored in the epoch
	Paid     uint64       `json:"paid"`     // of which with a score above 0
	Score    uint64       `json:"score"`
	Reward   string       `json:"reward"` // the cell's part of the emission, base units; "" before the epoch is computed
	// Rejected readings reported from the cell, and the devices they came from.
	Rejected        uint64 `json:"rejected"`
	RejectedDevices uint64 `json:"rejectedDevices"`
}

// MapAnswer is the body of GET /v1/explorer/map.
type MapAnswer struct {
	Epoch      uint64    `json:"epoch"`
	Resolution uint8     `json:"resolution"`
	Status     string    `json:"status"` // the settlement's state, "" before it is computed
	Emission   string    `json:"emission"`
	Score      uint64    `json:"score"` // the epoch's total score
	Cells      []MapCell `json:"cells"`
	Truncated  bool      `json:"truncated"`
}

// exploreMap serves GET /v1/explorer/map?epoch=N&res=R&bbox=south,west,north,east:
// the epoch's devices and rejections by H3 cell at resolution R (0-8,
// default 4), within the bbox if given.
func (x *Explorer) exploreMap(r *http.Request, epoch uint64, k epochKey) (any, *wire.Failure) {
	res, bbox, fail := parseMapQuery(r.URL.Query())
	if fail != nil {
		return nil, fail
	}
	where, args := "", []any{}
	if b := bbox; b != nil {
		where = " AND tupleElement(h3ToGeo(c), 1) BETWEEN ? AND ? AND tupleElement(h3ToGeo(c), 2) BETWEEN ? AND ?"
		args = []any{b[0], b[2], b[1], b[3]}
	}
	ctx := ch.Context(r.Context(), ch.WithSettings(ch.Settings{"geotoh3_argument_order": "lat_lon"}))
	near, err := x.cover(ctx, bbox, res)
	if err != nil {
		return nil, wire.QueryFailed
	}
	out := MapAnswer{Epoch: epoch, Resolution: res, Status: k.status, Cells: []MapCell{}}
	if k.emission != nil {
		out.Emission = k.emission.String()
	}
	// The epoch's total score (what a cell's reward is a part of) is read
	// beside the cells, once per scored epoch.
	total := make(chan error, 1)
	go func() {
		if v, ok := x.totals.Load(epoch); ok && k.scored {
			out.Score = v.(uint64)
			total <- nil
			return
		}
		var err error
		out.Score, err = tables.EpochScore(ctx, x.Conn, epoch)
		if err == nil && k.scored {
			x.totals.Store(epoch, out.Score)
		}
		total <- err
	}()
	// Both sources by cell, then joined here: a cell may have scores and no
	// rejections, or the other way round.
	// The box is tested on the grouped cells' centres: pushed down to each
	// device's row (ClickHouse would) it costs an h3ToGeo per device, 4x
	// the whole query at 1M devices.
	query := fmt.Sprintf(sqlMapCells, res, where, mapCellsMax+1, near)
	rows, err := x.Conn.Query(ctx, query, append([]any{epoch, epoch}, args...)...)
	if err != nil {
		<-total
		return nil, wire.QueryFailed
	}
	defer rows.Close()
	for rows.Next() {
		var c MapCell
		var cell uint64
		var centre []float64
		var boundary [][]float64
		if err := rows.Scan(&cell, &centre, &boundary, &c.Devices, &c.Paid, &c.Score, &c.Rejected, &c.RejectedDevices); err != nil {
			<-total
			return nil, wire.QueryFailed
		}
		c.Cell, c.Lat, c.Lon = strconv.FormatUint(cell, 16), centre[0], centre[1]
		for _, p := range boundary {
			c.Boundary = append(c.Boundary, [2]float64{p[0], p[1]})
		}
		out.Cells = append(out.Cells, c)
	}
	if err := rows.Err(); err != nil {
		<-total
		return nil, wire.QueryFailed
	}
	if err := <-total; err != nil {
		return nil, wire.QueryFailed
	}
	for i := range out.Cells {
		out.Cells[i].Reward = share(k.emission, out.Cells[i].Score, out.Score)
	}
	if len(out.Cells) > mapCellsMax {
		out.Cells, out.Truncated = out.Cells[:mapCellsMax], true
	}
	return out, nil
}

// parseMapQuery reads the map's res (0-8, default 4) and bbox (south,
// west, north, east in degrees; nil if not given).
func parseMapQuery(q url.Values) (uint8, *[4]float64, *wire.Failure) {
	res := uint64(4)
	if s := q.Get("res"); s != "" {
		var err error
		if res, err = strconv.ParseUint(s, 10, 8); err != nil || res > 8 {
			return 0, nil, &wire.Failure{Status: http.StatusBadRequest, Code: wire.CodeBadResolution, Message: "res must be an H3 resolution from 0 to 8"}
		}
	}
	s := q.Get("bbox")
	if s == "" {
		return uint8(res), nil, nil
	}
	var b [4]float64
	parts := strings.Split(s, ",")
	ok := len(parts) == 4
	for i := 0; ok && i < 4; i++ {
		var err error
		b[i], err = strconv.ParseFloat(parts[i], 64)
		ok = err == nil && b[i] >= -180 && b[i] <= 180 // NaN fails too
	}
	if !ok || b[0] > b[2] || b[1] > b[3] || b[0] < -90 || b[2] > 90 {
		return 0, nil, &wire.Failure{Status: http.StatusBadRequest, Code: wire.CodeBadBBox, Message: "bbox must be south,west,north,east in degrees, south <= north and west <= east"}
	}
	return uint8(res), &b, nil
}

// cover is a filter of device rows to those near the box, cheap enough to
// apply to every row (h3ToParent is a shift, h3ToGeo trigonometry): their
// cells' parents, three resolutions coarser, among the parents covering
// the box and their neighbours. Zoomed in at resolution 8 on 1M devices
// this makes the map 5x faster. Only for small boxes at fine resolutions:
// elsewhere grouping every device is cheap, and the cover would be large.
func (x *Explorer) cover(ctx context.Context, b *[4]float64, res uint8) (string, error) {
	if b == nil || res < 5 || (b[2]-b[0])*(b[3]-b[1]) > 25 {
		return "", nil
	}
	cr := res - 3
	// h3PolygonToCells takes (lon, lat); the corners and the centre are
	// added for boxes smaller than a cell, and every cell's ring for the
	// cells the box overlaps without holding their centres.
	var cells []uint64
	err := x.Conn.QueryRow(ctx, fmt.Sprintf(sqlCover, cr),
		b[1], b[0], b[3], b[0], b[3], b[2], b[1], b[2],
		b[0], b[1], b[0], b[3], b[2], b[1], b[2], b[3], (b[0]+b[2])/2, (b[1]+b[3])/2).Scan(&cells)
	if err != nil {
		return "", err
	}
	list := make([]string, len(cells))
	for i, c := range cells {
		list[i] = strconv.FormatUint(c, 10)
	}
	return fmt.Sprintf("AND h3ToParent(cell, %d) IN (%s)", cr, strings.Join(list, ",")), nil
}

// CellDevice is a device of GET /v1/explorer/cells/{cell}.
type CellDevice struct {
	DeviceID string `json:"deviceId"`
	Kind     string `json:"kind"`
	Owner    string `json:"owner"`
	Readings uint64 `json:"readings"` // valid readings of the epoch
	Score    uint64 `json:"score"`
	Frauds   uint64 `json:"frauds"`
	Rejected uint64 `json:"rejected"` // rejected readings reported from the cell
}

// CellAnswer is the body of GET /v1/explorer/cells/{cell}.
type CellAnswer struct {
	Epoch     uint64       `json:"epoch"`
	Cell      string       `json:"cell"`
	Devices   []CellDevice `json:"devices"` // by score, then rejections, at most 1,000
	Truncated bool         `json:"truncated"`
}

// exploreCell serves GET /v1/explorer/cells/{cell}?epoch=N: the devices
// scored in the cell (an H3 index of resolution 0 to 8, in hex), and those
// rejected there.
func (x *Explorer) exploreCell(r *http.Request, epoch uint64, _ epochKey) (any, *wire.Failure) {
	raw := r.PathValue("cell")
	cell, err := strconv.ParseUint(raw, 16, 64)
	bad := &wire.Failure{Status: http.StatusBadRequest, Code: wire.CodeBadCell, Message: "cell must be an H3 index of resolution 0 to 8 in hex, as the map gives it"}
	if err != nil || len(raw) > 16 {
		return nil, bad
	}
	ctx := r.Context()
	var valid bool
	var res uint8
	if err := x.Conn.QueryRow(ctx, sqlCellValid, cell).Scan(&valid); err != nil {
		return nil, wire.QueryFailed
	}
	if !valid {
		return nil, bad
	}
	if err := x.Conn.QueryRow(ctx, sqlCellResolution, cell).Scan(&res); err != nil {
		return nil, wire.QueryFailed
	}
	if res > 8 {
		return nil, bad
	}
	const limit = 1000
	rows, err := x.Conn.Query(ctx, fmt.Sprintf(sqlCellDevices, res, limit+1), epoch, cell, epoch, cell)
	if err != nil {
		return nil, wire.QueryFailed
	}
	defer rows.Close()
	out := CellAnswer{Epoch: epoch, Cell: strconv.FormatUint(cell, 16), Devices: []CellDevice{}}
	for rows.Next() {
		var d CellDevice
		if err := rows.Scan(&d.DeviceID, &d.Kind, &d.Owner, &d.Readings, &d.Score, &d.Frauds, &d.Rejected); err != nil {
			return nil, wire.QueryFailed
		}
		out.Devices = append(out.Devices, d)
	}
	if err := rows.Err(); err != nil {
		return nil, wire.QueryFailed
	}
	if len(out.Devices) > limit {
		out.Devices, out.Truncated = out.Devices[:limit], true
	}
	return out, nil
}
