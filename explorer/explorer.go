package explorer

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

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/ethereum/go-ethereum/common"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/docs"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// The explorer (docs/explorer.md): pages at /explorer, and the JSON behind
// them under /v1/explorer/, read-only, from ClickHouse and (for an owner's
// claims) the chain. Everything an epoch-scoped answer says (the map, a
// cell's devices, an epoch's totals) is fixed once the epoch is scored and
// its settlement no longer changes, so those answers are cached by epoch,
// settlement state and root.

// Explorer serves the explorer's pages and JSON. It reads ClickHouse, and
// asks the proof API (Settlements) for what the chain says.
type Explorer struct {
	Conn driver.Conn
	API  Settlements

	cache  *lru.Cache[string, []byte] // epoch-scoped answers (cached)
	totals sync.Map                   // a scored epoch's total score, by epoch

	handlerOnce sync.Once
	handler     http.Handler
}

// Settlements is what the explorer needs of the proof API: an owner's proof
// and claim status, and an epoch's settlement as GET /v1/epochs shows it.
type Settlements interface {
	RewardProof(ctx context.Context, account common.Address) (*wire.RewardProof, *wire.Failure)
	Summary(ctx context.Context, epoch uint64) (*wire.EpochSummary, error)
}

// cacheEntries bounds the epoch-scoped answers held; the least recently
// served goes first.
const cacheEntries = 512

// New returns the explorer of conn's data, with api for the chain's view.
func New(conn driver.Conn, api Settlements) *Explorer {
	cache, _ := lru.New[string, []byte](cacheEntries)
	return &Explorer{Conn: conn, API: api, cache: cache}
}

// explorerFiles are the pages and the map's data: world-atlas's Natural
// Earth countries (TopoJSON) and topojson-client, copied from their npm
// packages by `make generate` (explorer/web/package.json pins them).
//
//go:embed web/explorer.html web/explorer.js web/vendor
var explorerFiles embed.FS

// mapCellsMax bounds a map answer; a client zoomed in asks for a bbox.
const mapCellsMax = 20000

// Routes adds the explorer's routes to mux (the proof API mounts it).
func (x *Explorer) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/explorer", http.StatusFound) })
	mux.HandleFunc("GET /explorer", x.explorerAsset("web/explorer.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /explorer/explorer.js", x.explorerAsset("web/explorer.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /explorer/world.json", x.explorerAsset("web/vendor/countries-50m.json", "application/json"))
	mux.HandleFunc("GET /explorer/topojson-client.js", x.explorerAsset("web/vendor/topojson-client.min.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /docs/{name}", serveDoc)
	mux.HandleFunc("GET /v1/explorer/map", x.cached(x.exploreMap))
	mux.HandleFunc("GET /v1/explorer/cells/{cell}", x.cached(x.exploreCell))
	mux.HandleFunc("GET /v1/explorer/epochs/{epoch}", x.cached(x.exploreEpoch))
	mux.HandleFunc("GET /v1/explorer/devices/{id}", x.exploreDevice)
	mux.HandleFunc("GET /v1/explorer/devices/{id}/rejections", x.exploreRejections)
	mux.HandleFunc("GET /v1/explorer/owners/{address}", x.exploreOwner)
}

func (x *Explorer) explorerAsset(name, contentType string) http.HandlerFunc {
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

// Handler returns the explorer's routes alone, built once.
func (x *Explorer) Handler() http.Handler {
	x.handlerOnce.Do(func() {
		mux := http.NewServeMux()
		x.Routes(mux)
		x.handler = mux
	})
	return x.handler
}

// Warm fills the cache with what the first visitor would otherwise wait
// for: the newest scored epoch's world map and epoch page (a few hundred ms
// at 1M devices when its data is cold). The proof API calls it every few
// seconds.
func (x *Explorer) Warm(ctx context.Context) {
	var epoch uint64
	if err := x.Conn.QueryRow(ctx, sqlNewestScored).Scan(&epoch); err != nil || epoch == 0 {
		return
	}
	h := x.Handler()
	for _, path := range []string{fmt.Sprintf("/v1/explorer/map?epoch=%d&res=2", epoch), fmt.Sprintf("/v1/explorer/epochs/%d", epoch)} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		h.ServeHTTP(discard{http.Header{}}, req)
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
		wire.WriteError(w, http.StatusNotFound, wire.CodeNotFound, "no such document")
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

func (x *Explorer) epochKey(ctx context.Context, epoch uint64) (epochKey, error) {
	var k epochKey
	var n uint64
	if err := x.Conn.QueryRow(ctx, sqlScored, epoch).Scan(&n); err != nil {
		return k, err
	}
	k.scored = n > 0
	states, err := x.settlementStates(ctx, []uint64{epoch})
	if err != nil {
		return k, err
	}
	s, ok := states[epoch]
	k.status, k.root, k.emission = string(s.State), s.Root.Hex(), s.Emission
	if !ok {
		k.root, k.emission = "", nil
	}
	return k, nil
}

// settlementStates reads epochs' settlements in their newest state.
func (x *Explorer) settlementStates(ctx context.Context, epochs []uint64) (map[uint64]tables.Settlement, error) {
	return tables.StatesOf(ctx, x.Conn, epochs)
}

// epochHandler answers for one epoch: a value to encode, or a failure.
type epochHandler func(r *http.Request, epoch uint64, k epochKey) (any, *wire.Failure)

// cached resolves the epoch (?epoch=N, or the path's {epoch}; by default the
// newest scored one), and serves an answer from the cache when the epoch is
// scored. X-Cache says which.
func (x *Explorer) cached(h epochHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		raw := r.PathValue("epoch")
		if raw == "" {
			raw = r.URL.Query().Get("epoch")
		}
		var epoch uint64
		var err error
		if raw == "" {
			err = x.Conn.QueryRow(ctx, sqlNewestScored).Scan(&epoch)
			if err != nil {
				wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
				return
			}
		} else if epoch, err = strconv.ParseUint(raw, 10, 64); err != nil {
			wire.WriteError(w, http.StatusBadRequest, wire.CodeBadEpoch, "epoch must be a non-negative integer")
			return
		}
		k, err := x.epochKey(ctx, epoch)
		if err != nil {
			wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
			return
		}
		key := fmt.Sprintf("%s?%s|%d|%s|%s", r.URL.Path, r.URL.RawQuery, epoch, k.status, k.root)
		w.Header().Set("Content-Type", "application/json")
		if b, ok := x.cache.Get(key); ok && k.scored {
			w.Header().Set("X-Cache", "hit")
			w.Write(b)
			return
		}
		v, fail := h(r, epoch, k)
		if fail != nil {
			wire.WriteError(w, fail.Status, fail.Code, fail.Message)
			return
		}
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(v); err != nil {
			wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "encoding failed")
			return
		}
		if k.scored {
			x.cache.Add(key, buf.Bytes())
		}
		w.Header().Set("X-Cache", "miss")
		w.Write(buf.Bytes())
	}
}

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
	Epoch      uint64             `json:"epoch"`
	Scored     bool               `json:"scored"`
	Settlement *wire.EpochSummary `json:"settlement"` // null before it is computed
	Devices    uint64             `json:"devices"`
	Paid       uint64             `json:"paid"`
	Owners     uint64             `json:"owners"` // owners paid by the epoch (0 until it is computed)
	Valid      uint64             `json:"valid"`
	Rejected   uint64             `json:"rejected"`
	Score      uint64             `json:"score"`
	Kinds      []KindShare        `json:"kinds"`
	Reasons    []ReasonCount      `json:"reasons"` // the ten most frequent
	Tree       string             `json:"tree"`    // where the tree dump is
	// Votes are the signers' votes this operator's settler read for the
	// epoch (docs/decentralization.md): who signed which root over which
	// inputs, in which round.
	Votes []wire.Vote `json:"votes"`
}

// exploreEpoch serves GET /v1/explorer/epochs/{epoch}.
func (x *Explorer) exploreEpoch(r *http.Request, epoch uint64, k epochKey) (any, *wire.Failure) {
	ctx := r.Context()
	out := EpochAnswer{Epoch: epoch, Scored: k.scored, Kinds: []KindShare{}, Reasons: []ReasonCount{}, Tree: fmt.Sprintf("/v1/epochs/%d/tree", epoch)}
	if k.status != "" {
		s, err := x.API.Summary(ctx, epoch)
		if err != nil {
			return nil, wire.QueryFailed
		}
		out.Settlement = s
	}
	rows, err := x.Conn.Query(ctx, sqlEpochKinds, epoch)
	if err != nil {
		return nil, wire.QueryFailed
	}
	defer rows.Close()
	for rows.Next() {
		var s KindShare
		if err := rows.Scan(&s.Kind, &s.Devices, &s.Paid, &s.Valid, &s.Score); err != nil {
			return nil, wire.QueryFailed
		}
		out.Kinds = append(out.Kinds, s)
	}
	if rows.Err() != nil {
		return nil, wire.QueryFailed
	}
	var kind string
	if err := rows.Totals(&kind, &out.Devices, &out.Paid, &out.Valid, &out.Score); err != nil && len(out.Kinds) > 0 {
		return nil, wire.QueryFailed
	}
	// Owners paid: the leaves the epoch paid (none before it is computed).
	if out.Owners, err = tables.PaidAccounts(ctx, x.Conn, epoch); err != nil {
		return nil, wire.QueryFailed
	}
	for i := range out.Kinds {
		out.Kinds[i].Reward = share(k.emission, out.Kinds[i].Score, out.Score)
	}
	reasons, err := x.Conn.Query(ctx, sqlEpochReasons, epoch)
	if err != nil {
		return nil, wire.QueryFailed
	}
	defer reasons.Close()
	for reasons.Next() {
		var c ReasonCount
		if err := reasons.Scan(&c.Reason, &c.Readings, &c.Devices); err != nil {
			return nil, wire.QueryFailed
		}
		out.Rejected += c.Readings
		if len(out.Reasons) < 10 {
			out.Reasons = append(out.Reasons, c)
		}
	}
	if reasons.Err() != nil {
		return nil, wire.QueryFailed
	}
	votes, err := tables.VotesOf(ctx, x.Conn, epoch)
	if err != nil {
		return nil, wire.QueryFailed
	}
	out.Votes = make([]wire.Vote, len(votes))
	for i, v := range votes {
		out.Votes[i] = wire.Vote{Epoch: v.Epoch, Round: v.Round, Signer: v.Signer, Root: v.Root, Total: v.Total.String(), PrevRoot: v.PrevRoot,
			Inputs: v.Inputs, Rules: v.Rules, Signature: v.Signature, TreeHash: v.TreeHash}
	}
	return out, nil
}
