package settler

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// API error codes.
const (
	CodeBadAddress = "BAD_ADDRESS"
	CodeBadEpoch   = "BAD_EPOCH"
	CodeNotFound   = "NOT_FOUND"
	CodeInternal   = "INTERNAL"
	CodeBadLimit   = "BAD_LIMIT"
	// CodeChainUnavailable: the chain could not be read (502; retry).
	CodeChainUnavailable = "CHAIN_UNAVAILABLE"
	// CodeRootUnknown: the chain's active root is not one this API's
	// ClickHouse holds a tree of (503: its database is behind, or another
	// settler posted it).
	CodeRootUnknown = "ROOT_UNKNOWN"
)

// API serves proofs for the distributor's active root, the pending root's
// grants, epochs and trees from ClickHouse. It holds no key: run any number
// of replicas (fieldmint api).
type API struct {
	Conn        driver.Conn
	Distributor common.Address
	ChainID     *big.Int
	// Client reads the distributor's roots and what accounts have claimed.
	Client chain.Backend
	// ClaimPageHead is extra HTML for the claim page's <head>, from whoever
	// runs the API (tests put a wallet there); empty by default.
	ClaimPageHead string

	d     *distributor.RewardsDistributor
	mu    sync.Mutex
	state onChain // the distributor's roots at state.block

	imu     sync.Mutex
	indexes map[common.Hash]*indexEntry // by root (apiindex.go)

	handlerOnce sync.Once
	handler     http.Handler

	cache  explorerCache // epoch-scoped explorer answers (explorer.go)
	totals sync.Map      // a scored epoch's total score, by epoch
}

// claimPage is the page served at /claim.
//
//go:embed web/claim.html
var claimPage string

// NewAPI returns a proof API reading the distributor at addr through client.
func NewAPI(ctx context.Context, conn driver.Conn, client chain.Backend, addr common.Address) (*API, error) {
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: chain id: %w", err)
	}
	return &API{Conn: conn, Distributor: addr, ChainID: id, Client: client}, nil
}

// RewardProof is the body of GET /v1/rewards/{address}: the proof against
// the root the distributor checks claims against right now.
type RewardProof struct {
	Account          string   `json:"account"`
	Epoch            uint64   `json:"epoch"` // the active root's epoch
	Root             string   `json:"root"`  // the active root
	CumulativeAmount string   `json:"cumulativeAmount"`
	Proof            []string `json:"proof"`
	Distributor      string   `json:"distributor"`
	ChainID          string   `json:"chainId"`
	// Claimed is what the distributor has paid the account so far, and
	// Claimable what a claim with this proof pays now (base units).
	Claimed   string `json:"claimed"`
	Claimable string `json:"claimable"`
	// ClaimCalldata is claim(account, cumulativeAmount, proof) encoded for
	// the distributor: what a wallet sends. Empty when nothing is granted.
	ClaimCalldata string `json:"claimCalldata"`
	// Block is the block whose state this answer reflects.
	Block uint64 `json:"block"`
	// Paused: the guardian has paused claims.
	Paused bool `json:"paused,omitempty"`
	// Pending is the proposed root still in its timelock, if it grants the
	// account anything.
	Pending *PendingGrant `json:"pending,omitempty"`
}

// PendingGrant is what the pending root will make claimable.
type PendingGrant struct {
	Epoch            uint64 `json:"epoch"`
	Root             string `json:"root"`
	CumulativeAmount string `json:"cumulativeAmount"`
	// Claimable is what a claim will pay once the root is active (its
	// cumulative amount minus what was claimed), and More how much more
	// that is than what is claimable now.
	Claimable string `json:"claimable"`
	More      string `json:"more"`
	// ActivatesAt is when the timelock ends (RFC 3339, UTC, and Unix
	// seconds); the root may then be activated by anyone.
	ActivatesAt     string `json:"activatesAt"`
	ActivatesAtUnix uint64 `json:"activatesAtUnix"`
}

// EpochSummary is an element of GET /v1/epochs and the body of
// GET /v1/epochs/{epoch}.
type EpochSummary struct {
	Epoch     uint64 `json:"epoch"`
	Root      string `json:"root"`
	Total     string `json:"total"`    // cumulative total of the tree, base units
	Emission  string `json:"emission"` // paid out by this epoch, base units
	Accounts  uint32 `json:"accounts"`
	Status    string `json:"status"`           // computed, superseded, proposed, active, final, revoked, parked
	Reason    string `json:"reason,omitempty"` // why, for revoked, parked and superseded
	Tx        string `json:"tx,omitempty"`
	Block     uint64 `json:"block,omitempty"`
	UpdatedAt string `json:"updatedAt"`
}

// Handler returns the routes, built once (the explorer's files are
// compressed then).
func (a *API) Handler() http.Handler {
	a.handlerOnce.Do(func() { a.handler = a.routes() })
	return a.handler
}

func (a *API) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rewards/{address}", a.rewards)
	mux.HandleFunc("GET /v1/epochs", a.epochs)
	mux.HandleFunc("GET /v1/epochs/{epoch}", a.epochs)
	mux.HandleFunc("GET /v1/epochs/{epoch}/tree", a.tree)
	mux.HandleFunc("GET /claim", a.claimPage)
	a.explorerRoutes(mux)
	telemetry.HealthHandlers(mux) // /healthz and /readyz
	return mux
}

// Serve serves the API on addr until ctx ends, then lets requests in flight
// finish (for up to 5 s).
func (a *API) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	// otelhttp: request counts and latency by route and status, for the
	// dashboards and the 5xx alert.
	srv := &http.Server{Handler: otelhttp.NewHandler(a.Handler(), "api"), ReadHeaderTimeout: 5 * time.Second}
	go a.warm(ctx, 5*time.Second)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-done
	return nil
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// roots returns the distributor's roots at the latest block, read once per
// block.
func (a *API) roots(ctx context.Context) (onChain, error) {
	head, err := a.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return onChain{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.d == nil {
		a.d = distributor.NewRewardsDistributor()
	}
	if a.state.block == head.Number.Uint64() && a.state.block != 0 {
		return a.state, nil
	}
	st, err := readOnChain(ctx, a.Client, a.d, a.d.Instance(a.Client, a.Distributor))
	if err != nil {
		return onChain{}, err
	}
	if st.block >= a.state.block {
		a.state = st
	}
	return st, nil
}

// leafOf returns account's leaf in epoch, from root's index (built from
// ClickHouse once per root): ok is false when the account has none;
// errRootUnknown when ClickHouse's leaves of epoch do not make root.
func (a *API) leafOf(ctx context.Context, epoch uint64, root common.Hash, account common.Address) (cum *big.Int, proof []string, ok bool, err error) {
	if root == (common.Hash{}) {
		return nil, nil, false, nil
	}
	idx, err := a.index(ctx, epoch, root)
	if err != nil {
		return nil, nil, false, err
	}
	cum, proof, ok = idx.leaf(account)
	return cum, proof, ok, nil
}

func (a *API) rewards(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("address")
	if !common.IsHexAddress(raw) || len(raw) != 42 {
		apiError(w, http.StatusBadRequest, CodeBadAddress, "address must be 0x followed by 40 hex digits")
		return
	}
	out, fail := a.rewardProof(r.Context(), common.HexToAddress(raw))
	if fail != nil {
		apiError(w, fail.status, fail.code, fail.msg)
		return
	}
	writeJSON(w, out)
}

// failure is an API error to answer with.
type failure struct {
	status    int
	code, msg string
}

// rewardProof is account's proof against the active root, what it claimed,
// and its grant in the pending root, read from the chain at its head.
func (a *API) rewardProof(ctx context.Context, account common.Address) (*RewardProof, *failure) {
	st, err := a.roots(ctx)
	if err != nil {
		return nil, &failure{http.StatusBadGateway, CodeChainUnavailable, "could not read the distributor's roots from the chain; retry"}
	}
	cum, proof, granted, err := a.leafOf(ctx, st.epoch, st.root, account)
	pcum, _, pgranted, perr := a.leafOf(ctx, st.pendingEpoch, st.pendingRoot, account)
	switch {
	case errors.Is(err, errRootUnknown):
		return nil, &failure{http.StatusServiceUnavailable, CodeRootUnknown, fmt.Sprintf("the distributor's active root %s (epoch %d) is not in this API's database; retry later", st.root.Hex(), st.epoch)}
	case err != nil || perr != nil && !errors.Is(perr, errRootUnknown):
		return nil, &failure{http.StatusInternalServerError, CodeInternal, "query failed"}
	case !granted && !pgranted:
		return nil, &failure{http.StatusNotFound, CodeNotFound, "no rewards for " + account.Hex() + " in the active or the pending root"}
	}
	d := distributor.NewRewardsDistributor()
	claimed, err := bind.Call(d.Instance(a.Client, a.Distributor), &bind.CallOpts{Context: ctx, BlockNumber: new(big.Int).SetUint64(st.block)}, d.PackClaimed(account), d.UnpackClaimed)
	if err != nil {
		return nil, &failure{http.StatusBadGateway, CodeChainUnavailable, "could not read the claimed amount from the chain; retry"}
	}
	out := &RewardProof{Account: account.Hex(), Epoch: st.epoch, Root: st.root.Hex(), CumulativeAmount: "0", Proof: []string{},
		Distributor: a.Distributor.Hex(), ChainID: a.ChainID.String(), Claimed: claimed.String(), Claimable: "0", Block: st.block, Paused: st.paused}
	if granted {
		out.CumulativeAmount, out.Proof = cum.String(), proof
		out.Claimable = positive(new(big.Int).Sub(cum, claimed)).String()
		hashes := make([][32]byte, len(proof))
		for i, p := range proof {
			hashes[i] = common.HexToHash(p)
		}
		out.ClaimCalldata = hexutil.Encode(d.PackClaim(account, cum, hashes))
	} else {
		cum = new(big.Int)
	}
	if pgranted {
		at := time.Unix(int64(st.activatesAt), 0).UTC()
		out.Pending = &PendingGrant{Epoch: st.pendingEpoch, Root: st.pendingRoot.Hex(), CumulativeAmount: pcum.String(),
			Claimable: positive(new(big.Int).Sub(pcum, claimed)).String(), More: positive(new(big.Int).Sub(pcum, bigMax(cum, claimed))).String(),
			ActivatesAt: at.Format(time.RFC3339), ActivatesAtUnix: st.activatesAt}
	}
	return out, nil
}

func bigMax(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

func positive(v *big.Int) *big.Int {
	if v.Sign() < 0 {
		return v.SetInt64(0)
	}
	return v
}

func (a *API) claimPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY") // a wallet prompt must not be framed by another site
	io.WriteString(w, strings.Replace(claimPage, "<!--head-->", a.ClaimPageHead, 1))
}

// epochs serves GET /v1/epochs (newest first; ?limit=N, at most 1000) and
// GET /v1/epochs/{epoch}.
func (a *API) epochs(w http.ResponseWriter, r *http.Request) {
	one := r.PathValue("epoch") != ""
	var epoch uint64
	limit := uint64(100)
	if one {
		var err error
		if epoch, err = strconv.ParseUint(r.PathValue("epoch"), 10, 64); err != nil {
			apiError(w, http.StatusBadRequest, CodeBadEpoch, "epoch must be a non-negative integer")
			return
		}
	} else if n, ok := limitParam(w, r, limit); !ok {
		return
	} else {
		limit = n
	}
	var out []EpochSummary
	var err error
	if one {
		out, err = a.summaries(r.Context(), "WHERE epoch = ?", epoch)
	} else {
		out, err = a.summaries(r.Context(), "ORDER BY epoch DESC LIMIT ?", limit)
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
		return
	}
	if !one {
		writeJSON(w, map[string]any{"epochs": out})
		return
	}
	if len(out) == 0 {
		apiError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no settlement for epoch %d", epoch))
		return
	}
	writeJSON(w, out[0])
}

func (a *API) tree(w http.ResponseWriter, r *http.Request) {
	epoch, err := strconv.ParseUint(r.PathValue("epoch"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeBadEpoch, "epoch must be a non-negative integer")
		return
	}
	var tree string
	err = a.Conn.QueryRow(r.Context(), "SELECT tree FROM settlements_latest WHERE epoch = ? AND tree != ''", epoch).Scan(&tree)
	if errors.Is(err, sql.ErrNoRows) {
		apiError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no tree for epoch %d", epoch))
		return
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(tree))
}

// NewAPI returns a proof API on the settler's ClickHouse and chain client.
func (s *Service) NewAPI() *API {
	return &API{Conn: s.conn, Distributor: s.distributor(), ChainID: s.chainID, Client: s.client}
}

// summaries reads settlements_latest as GET /v1/epochs answers it, rest
// being the query's WHERE or ORDER BY.
func (a *API) summaries(ctx context.Context, rest string, args ...any) ([]EpochSummary, error) {
	rows, err := a.Conn.Query(ctx, `SELECT epoch, root, total, emission, accounts, status, reason, tx_hash, block, updated_at
		FROM settlements_latest `+rest, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []EpochSummary{}
	for rows.Next() {
		e, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanSummary(rows driver.Rows) (EpochSummary, error) {
	var e EpochSummary
	var total, emission big.Int
	var updated time.Time
	if err := rows.Scan(&e.Epoch, &e.Root, &total, &emission, &e.Accounts, &e.Status, &e.Reason, &e.Tx, &e.Block, &updated); err != nil {
		return e, err
	}
	e.Total, e.Emission, e.UpdatedAt = total.String(), emission.String(), updated.UTC().Format(time.RFC3339Nano)
	return e, nil
}
