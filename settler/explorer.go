package settler

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/docs"
)

// The explorer (docs/explorer.md): pages at /explorer, and the JSON behind
// them under /v1/explorer/, read-only, from ClickHouse and (for an owner's
// claims) the chain. Everything an epoch-scoped answer says (the map, a
// cell's devices, an epoch's totals) is fixed once the epoch is scored and
// its settlement no longer changes, so those answers are cached by epoch,
// settlement state and root.

// Explorer error codes.
const (
	CodeBadCell       = "BAD_CELL"
	CodeBadResolution = "BAD_RESOLUTION"
	CodeBadBBox       = "BAD_BBOX"
	CodeBadDevice     = "BAD_DEVICE"
)

// explorerFiles are the pages and the map's data: world-atlas's Natural
// Earth countries (TopoJSON) and topojson-client, copied from their npm
// packages by `make generate` (settler/web/package.json pins them).
//
//go:embed web/explorer.html web/explorer.js web/vendor
var explorerFiles embed.FS

// mapCellsMax bounds a map answer; a client zoomed in asks for a bbox.
const mapCellsMax = 20000

func (a *API) explorerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/explorer", http.StatusFound) })
	mux.HandleFunc("GET /explorer", a.explorerAsset("web/explorer.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /explorer/explorer.js", a.explorerAsset("web/explorer.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /explorer/world.json", a.explorerAsset("web/vendor/countries-50m.json", "application/json"))
	mux.HandleFunc("GET /explorer/topojson-client.js", a.explorerAsset("web/vendor/topojson-client.min.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /docs/{name}", serveDoc)
	mux.HandleFunc("GET /v1/explorer/map", a.cached(a.exploreMap))
	mux.HandleFunc("GET /v1/explorer/cells/{cell}", a.cached(a.exploreCell))
	mux.HandleFunc("GET /v1/explorer/epochs/{epoch}", a.cached(a.exploreEpoch))
	mux.HandleFunc("GET /v1/explorer/devices/{id}", a.exploreDevice)
	mux.HandleFunc("GET /v1/explorer/devices/{id}/rejections", a.exploreRejections)
	mux.HandleFunc("GET /v1/explorer/owners/{address}", a.exploreOwner)
}

func (a *API) explorerAsset(name, contentType string) http.HandlerFunc {
	body, err := explorerFiles.ReadFile(name)
	if err != nil {
		panic(err) // embedded above: a missing file fails every test
	}
	// Compressed once: the countries are 740 kB, 200 kB gzipped.
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && gz.Len() < len(body) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz.Bytes())
			return
		}
		w.Write(body)
	}
}

// warm keeps what the first visitor would otherwise wait for ready, every
// interval until ctx ends: the proof index of the active and the pending
// root (a second at 250,000 accounts), and the newest scored epoch's world
// map and epoch page (a few hundred ms at 1M devices when its data is cold).
func (a *API) warm(ctx context.Context, interval time.Duration) {
	for {
		if st, err := a.roots(ctx); err == nil {
			a.leafOf(ctx, st.epoch, st.root, common.Address{})
			a.leafOf(ctx, st.pendingEpoch, st.pendingRoot, common.Address{})
		}
		var epoch uint64
		if err := a.Conn.QueryRow(ctx, "SELECT max(epoch) FROM scored_epochs").Scan(&epoch); err == nil && epoch > 0 {
			for _, path := range []string{fmt.Sprintf("/v1/explorer/map?epoch=%d&res=2", epoch), fmt.Sprintf("/v1/explorer/epochs/%d", epoch)} {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
				a.Handler().ServeHTTP(discard{http.Header{}}, req)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// discard is a ResponseWriter that keeps nothing: warm wants the cache
// filled, not the answer.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// serveDoc serves one of docs/*.md as text (the device page links the
// scoring formula).
func serveDoc(w http.ResponseWriter, r *http.Request) {
	body, err := docs.Files.ReadFile(r.PathValue("name"))
	if err != nil || !strings.HasSuffix(r.PathValue("name"), ".md") {
		apiError(w, http.StatusNotFound, CodeNotFound, "no such document")
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(body)
}

// epochKey says which version of an epoch's data an answer shows: cacheable
// once the epoch is scored (its device_scores never change again), and
// keyed by the settlement's state and root, which may still move.
type epochKey struct {
	scored   bool
	status   string
	root     string
	emission *big.Int // nil until the epoch is computed
}

func (a *API) epochKey(ctx context.Context, epoch uint64) (epochKey, error) {
	var k epochKey
	var n uint64
	if err := a.Conn.QueryRow(ctx, "SELECT count() FROM scored_epochs WHERE epoch = ?", epoch).Scan(&n); err != nil {
		return k, err
	}
	k.scored = n > 0
	states, err := a.settlementStates(ctx, []uint64{epoch})
	if err != nil {
		return k, err
	}
	s := states[epoch]
	k.status, k.root, k.emission = s.status, s.root, s.emission
	return k, nil
}

// settlementState is an epoch's settlement in its furthest state, as
// settlements_latest has it.
type settlementState struct {
	status, root string
	emission     *big.Int
}

// settlementStates reads epochs' settlements (read from settlement_states
// by its key: the settlements_latest view reads every epoch's).
func (a *API) settlementStates(ctx context.Context, epochs []uint64) (map[uint64]settlementState, error) {
	out := map[uint64]settlementState{}
	if len(epochs) == 0 {
		return out, nil
	}
	rows, err := a.Conn.Query(ctx, `SELECT epoch, argMax(state, version), argMax(root, version), argMax(emission, version)
		FROM settlement_states WHERE epoch IN ? GROUP BY epoch`, epochs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var e uint64
		var s settlementState
		s.emission = new(big.Int)
		if err := rows.Scan(&e, &s.status, &s.root, s.emission); err != nil {
			return nil, err
		}
		out[e] = s
	}
	return out, rows.Err()
}

// explorerCache holds epoch-scoped answers, at most cacheEntries of them
// (the oldest goes first).
type explorerCache struct {
	mu    sync.Mutex
	byKey map[string][]byte
	order []string
}

const cacheEntries = 512

func (c *explorerCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.byKey[k]
	return b, ok
}

func (c *explorerCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[string][]byte{}
	}
	if _, ok := c.byKey[k]; ok {
		return
	}
	if len(c.order) >= cacheEntries {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.byKey[k] = b
	c.order = append(c.order, k)
}

// epochHandler answers for one epoch: a value to encode, or a failure.
type epochHandler func(r *http.Request, epoch uint64, k epochKey) (any, *failure)

// cached resolves the epoch (?epoch=N, or the path's {epoch}; by default the
// newest scored one), and serves an answer from the cache when the epoch is
// scored. X-Cache says which.
func (a *API) cached(h epochHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		raw := r.PathValue("epoch")
		if raw == "" {
			raw = r.URL.Query().Get("epoch")
		}
		var epoch uint64
		var err error
		if raw == "" {
			err = a.Conn.QueryRow(ctx, "SELECT max(epoch) FROM scored_epochs").Scan(&epoch)
			if err != nil {
				apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
				return
			}
		} else if epoch, err = strconv.ParseUint(raw, 10, 64); err != nil {
			apiError(w, http.StatusBadRequest, CodeBadEpoch, "epoch must be a non-negative integer")
			return
		}
		k, err := a.epochKey(ctx, epoch)
		if err != nil {
			apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
			return
		}
		key := fmt.Sprintf("%s?%s|%d|%s|%s", r.URL.Path, r.URL.RawQuery, epoch, k.status, k.root)
		w.Header().Set("Content-Type", "application/json")
		if b, ok := a.cache.get(key); ok && k.scored {
			w.Header().Set("X-Cache", "hit")
			w.Write(b)
			return
		}
		v, fail := h(r, epoch, k)
		if fail != nil {
			apiError(w, fail.status, fail.code, fail.msg)
			return
		}
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(v); err != nil {
			apiError(w, http.StatusInternalServerError, CodeInternal, "encoding failed")
			return
		}
		if k.scored {
			a.cache.put(key, buf.Bytes())
		}
		w.Header().Set("X-Cache", "miss")
		w.Write(buf.Bytes())
	}
}

var queryFailed = &failure{http.StatusInternalServerError, CodeInternal, "query failed"}

// share is amount * part / whole, rounded down ("" when there is no amount
// or no whole): what part of an epoch's emission a cell or kind's score
// stands for. Owners are paid, not cells; this is for reading the map.
func share(amount *big.Int, part, whole uint64) string {
	if amount == nil || whole == 0 {
		return ""
	}
	v := new(big.Int).Mul(amount, new(big.Int).SetUint64(part))
	return v.Quo(v, new(big.Int).SetUint64(whole)).String()
}

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
func (a *API) exploreMap(r *http.Request, epoch uint64, k epochKey) (any, *failure) {
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
	near, err := a.cover(ctx, bbox, res)
	if err != nil {
		return nil, queryFailed
	}
	out := MapAnswer{Epoch: epoch, Resolution: res, Status: k.status, Cells: []MapCell{}}
	if k.emission != nil {
		out.Emission = k.emission.String()
	}
	// The epoch's total score (what a cell's reward is a part of) is read
	// beside the cells, once per scored epoch.
	total := make(chan error, 1)
	go func() {
		if v, ok := a.totals.Load(epoch); ok && k.scored {
			out.Score = v.(uint64)
			total <- nil
			return
		}
		err := a.Conn.QueryRow(ctx, "SELECT sum(score) FROM device_scores FINAL WHERE epoch = ?", epoch).Scan(&out.Score)
		if err == nil && k.scored {
			a.totals.Store(epoch, out.Score)
		}
		total <- err
	}()
	// Both sources by cell, then joined here: a cell may have scores and no
	// rejections, or the other way round.
	// The box is tested on the grouped cells' centres: pushed down to each
	// device's row (ClickHouse would) it costs an h3ToGeo per device, 4x
	// the whole query at 1M devices.
	query := fmt.Sprintf(`SELECT c, h3ToGeo(c), h3ToGeoBoundary(c), devices, paid, total, rejected, rejected_devices FROM (
		SELECT c, sum(d) AS devices, sum(p) AS paid, sum(s) AS total, sum(rj) AS rejected, sum(rd) AS rejected_devices FROM (
			SELECT h3ToParent(cell, %[1]d) AS c, count() AS d, countIf(score > 0) AS p, sum(score) AS s, 0 AS rj, 0 AS rd
			FROM device_scores FINAL WHERE epoch = ? AND cell != 0 AND h3GetResolution(cell) >= %[1]d %[4]s GROUP BY c
			UNION ALL
			SELECT h3ToParent(cell, %[1]d) AS c, 0, 0, 0, sum(readings), uniqExact(device_id)
			FROM epoch_rejections WHERE epoch = ? AND cell != 0 %[4]s GROUP BY c)
		GROUP BY c)
		WHERE 1 %[2]s ORDER BY total DESC, rejected DESC, c LIMIT %[3]d SETTINGS query_plan_filter_push_down = 0`, res, where, mapCellsMax+1, near)
	rows, err := a.Conn.Query(ctx, query, append([]any{epoch, epoch}, args...)...)
	if err != nil {
		<-total
		return nil, queryFailed
	}
	defer rows.Close()
	for rows.Next() {
		var c MapCell
		var cell uint64
		var centre []float64
		var boundary [][]float64
		if err := rows.Scan(&cell, &centre, &boundary, &c.Devices, &c.Paid, &c.Score, &c.Rejected, &c.RejectedDevices); err != nil {
			<-total
			return nil, queryFailed
		}
		c.Cell, c.Lat, c.Lon = strconv.FormatUint(cell, 16), centre[0], centre[1]
		for _, p := range boundary {
			c.Boundary = append(c.Boundary, [2]float64{p[0], p[1]})
		}
		out.Cells = append(out.Cells, c)
	}
	if err := rows.Err(); err != nil {
		<-total
		return nil, queryFailed
	}
	if err := <-total; err != nil {
		return nil, queryFailed
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
func parseMapQuery(q url.Values) (uint8, *[4]float64, *failure) {
	res := uint64(4)
	if s := q.Get("res"); s != "" {
		var err error
		if res, err = strconv.ParseUint(s, 10, 8); err != nil || res > 8 {
			return 0, nil, &failure{http.StatusBadRequest, CodeBadResolution, "res must be an H3 resolution from 0 to 8"}
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
		return 0, nil, &failure{http.StatusBadRequest, CodeBadBBox, "bbox must be south,west,north,east in degrees, south <= north and west <= east"}
	}
	return uint8(res), &b, nil
}

// cover is a filter of device rows to those near the box, cheap enough to
// apply to every row (h3ToParent is a shift, h3ToGeo trigonometry): their
// cells' parents, three resolutions coarser, among the parents covering
// the box and their neighbours. Zoomed in at resolution 8 on 1M devices
// this makes the map 5x faster. Only for small boxes at fine resolutions:
// elsewhere grouping every device is cheap, and the cover would be large.
func (a *API) cover(ctx context.Context, b *[4]float64, res uint8) (string, error) {
	if b == nil || res < 5 || (b[2]-b[0])*(b[3]-b[1]) > 25 {
		return "", nil
	}
	cr := res - 3
	// h3PolygonToCells takes (lon, lat); the corners and the centre are
	// added for boxes smaller than a cell, and every cell's ring for the
	// cells the box overlaps without holding their centres.
	var cells []uint64
	err := a.Conn.QueryRow(ctx, fmt.Sprintf(`SELECT arrayDistinct(arrayFlatten(arrayMap(c -> h3kRing(c, 1), arrayConcat(
		h3PolygonToCells([(?, ?), (?, ?), (?, ?), (?, ?)], %[1]d),
		[geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d)]))))`, cr),
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
func (a *API) exploreCell(r *http.Request, epoch uint64, _ epochKey) (any, *failure) {
	raw := r.PathValue("cell")
	cell, err := strconv.ParseUint(raw, 16, 64)
	bad := &failure{http.StatusBadRequest, CodeBadCell, "cell must be an H3 index of resolution 0 to 8 in hex, as the map gives it"}
	if err != nil || len(raw) > 16 {
		return nil, bad
	}
	ctx := r.Context()
	var valid bool
	var res uint8
	if err := a.Conn.QueryRow(ctx, "SELECT h3IsValid(toUInt64(?))", cell).Scan(&valid); err != nil {
		return nil, queryFailed
	}
	if !valid {
		return nil, bad
	}
	if err := a.Conn.QueryRow(ctx, "SELECT h3GetResolution(toUInt64(?))", cell).Scan(&res); err != nil {
		return nil, queryFailed
	}
	if res > 8 {
		return nil, bad
	}
	const limit = 1000
	rows, err := a.Conn.Query(ctx, fmt.Sprintf(`SELECT device_id, any(k), any(o), sum(v) AS valid, sum(s) AS total, sum(f), sum(rj) AS rejected FROM (
		SELECT device_id, kind AS k, owner AS o, readings AS v, score AS s, frauds AS f, 0 AS rj FROM device_scores FINAL
		WHERE epoch = ? AND cell != 0 AND h3GetResolution(cell) >= %[1]d AND h3ToParent(cell, %[1]d) = ?
		UNION ALL
		SELECT device_id, kind, owner, 0, 0, 0, readings FROM epoch_rejections
		WHERE epoch = ? AND cell != 0 AND h3ToParent(cell, %[1]d) = ?)
		GROUP BY device_id ORDER BY total DESC, rejected DESC, device_id LIMIT %[2]d`, res, limit+1), epoch, cell, epoch, cell)
	if err != nil {
		return nil, queryFailed
	}
	defer rows.Close()
	out := CellAnswer{Epoch: epoch, Cell: strconv.FormatUint(cell, 16), Devices: []CellDevice{}}
	for rows.Next() {
		var d CellDevice
		if err := rows.Scan(&d.DeviceID, &d.Kind, &d.Owner, &d.Readings, &d.Score, &d.Frauds, &d.Rejected); err != nil {
			return nil, queryFailed
		}
		out.Devices = append(out.Devices, d)
	}
	if err := rows.Err(); err != nil {
		return nil, queryFailed
	}
	if len(out.Devices) > limit {
		out.Devices, out.Truncated = out.Devices[:limit], true
	}
	return out, nil
}

// KindShare is an element of EpochAnswer.Kinds.
type KindShare struct {
	Kind    string `json:"kind"`
	Devices uint64 `json:"devices"`
	Paid    uint64 `json:"paid"`
	Valid   uint64 `json:"valid"`
	Score   uint64 `json:"score"`
	Reward  string `json:"reward"` // the kind's part of the emission, base units
}

// ReasonCount is an element of EpochAnswer.Reasons.
type ReasonCount struct {
	Reason   string `json:"reason"`
	Readings uint64 `json:"readings"`
	Devices  uint64 `json:"devices"`
}

// EpochAnswer is the body of GET /v1/explorer/epochs/{epoch}.
type EpochAnswer struct {
	Epoch      uint64        `json:"epoch"`
	Scored     bool          `json:"scored"`
	Settlement *EpochSummary `json:"settlement"` // null before it is computed
	Devices    uint64        `json:"devices"`
	Paid       uint64        `json:"paid"`
	Owners     uint64        `json:"owners"` // owners paid by the epoch (0 until it is computed)
	Valid      uint64        `json:"valid"`
	Rejected   uint64        `json:"rejected"`
	Score      uint64        `json:"score"`
	Kinds      []KindShare   `json:"kinds"`
	Reasons    []ReasonCount `json:"reasons"` // the ten most frequent
	Tree       string        `json:"tree"`    // where the tree dump is
}

// exploreEpoch serves GET /v1/explorer/epochs/{epoch}.
func (a *API) exploreEpoch(r *http.Request, epoch uint64, k epochKey) (any, *failure) {
	ctx := r.Context()
	out := EpochAnswer{Epoch: epoch, Scored: k.scored, Kinds: []KindShare{}, Reasons: []ReasonCount{}, Tree: fmt.Sprintf("/v1/epochs/%d/tree", epoch)}
	if k.status != "" {
		s, err := a.settlementOf(ctx, epoch)
		if err != nil {
			return nil, queryFailed
		}
		out.Settlement = s
	}
	rows, err := a.Conn.Query(ctx, `SELECT kind, count(), countIf(score > 0), sum(readings), sum(score)
		FROM device_scores FINAL WHERE epoch = ? GROUP BY kind WITH TOTALS ORDER BY kind`, epoch)
	if err != nil {
		return nil, queryFailed
	}
	defer rows.Close()
	for rows.Next() {
		var s KindShare
		if err := rows.Scan(&s.Kind, &s.Devices, &s.Paid, &s.Valid, &s.Score); err != nil {
			return nil, queryFailed
		}
		out.Kinds = append(out.Kinds, s)
	}
	if rows.Err() != nil {
		return nil, queryFailed
	}
	var kind string
	if err := rows.Totals(&kind, &out.Devices, &out.Paid, &out.Valid, &out.Score); err != nil && len(out.Kinds) > 0 {
		return nil, queryFailed
	}
	// Owners paid: the leaves the epoch paid (none before it is computed).
	if err := a.Conn.QueryRow(ctx, "SELECT count() FROM reward_leaves FINAL WHERE epoch = ? AND amount > 0", epoch).Scan(&out.Owners); err != nil {
		return nil, queryFailed
	}
	for i := range out.Kinds {
		out.Kinds[i].Reward = share(k.emission, out.Kinds[i].Score, out.Score)
	}
	reasons, err := a.Conn.Query(ctx, `SELECT reason, sum(readings) AS n, uniqExact(device_id) FROM epoch_rejections WHERE epoch = ?
		GROUP BY reason ORDER BY n DESC, reason`, epoch)
	if err != nil {
		return nil, queryFailed
	}
	defer reasons.Close()
	for reasons.Next() {
		var c ReasonCount
		if err := reasons.Scan(&c.Reason, &c.Readings, &c.Devices); err != nil {
			return nil, queryFailed
		}
		out.Rejected += c.Readings
		if len(out.Reasons) < 10 {
			out.Reasons = append(out.Reasons, c)
		}
	}
	if reasons.Err() != nil {
		return nil, queryFailed
	}
	return out, nil
}

// settlementOf is an epoch's row of GET /v1/epochs, nil if it has none.
func (a *API) settlementOf(ctx context.Context, epoch uint64) (*EpochSummary, error) {
	rows, err := a.Conn.Query(ctx, settlementColumns+"WHERE epoch = ?", epoch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out *EpochSummary
	for rows.Next() {
		e, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		out = &e
	}
	return out, rows.Err()
}
