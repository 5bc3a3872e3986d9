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
	"strconv"
	"strings"
	"sync"
	"time"

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
	// Compressed once, when the API's routes are built: the countries are
	// 740 kB, 200 kB gzipped.
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
	h := a.Handler()
	for {
		if st, err := a.roots(ctx); err == nil {
			a.leafOf(ctx, st.epoch, st.root, common.Address{})
			a.leafOf(ctx, st.pendingEpoch, st.pendingRoot, common.Address{})
		}
		var epoch uint64
		if err := a.Conn.QueryRow(ctx, "SELECT max(epoch) FROM scored_epochs").Scan(&epoch); err == nil && epoch > 0 {
			for _, path := range []string{fmt.Sprintf("/v1/explorer/map?epoch=%d&res=2", epoch), fmt.Sprintf("/v1/explorer/epochs/%d", epoch)} {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
				h.ServeHTTP(discard{http.Header{}}, req)
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
	s, err := a.summaries(ctx, "WHERE epoch = ?", epoch)
	if err != nil || len(s) == 0 {
		return nil, err
	}
	return &s[0], nil
}
