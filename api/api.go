package api

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// Server serves proofs for the distributor's active root, the pending
// root's grants, epochs and trees from ClickHouse, and the claim page. It
// holds no key: run any number of replicas (fieldmint api). The explorer,
// when set, is mounted on the same routes.
type Server struct {
	Conn        driver.Conn
	Distributor common.Address
	ChainID     *big.Int
	// Client reads the distributor's roots and what accounts have claimed.
	Client chain.Backend
	// ClaimPageHead is extra HTML for the claim page's <head>, from whoever
	// runs the API (tests put a wallet there); empty by default.
	ClaimPageHead string
	// Explorer, if set, adds its routes and is kept warm (package explorer).
	Explorer Mount
	// FromBlock is the block the distributor was deployed in: Serve follows
	// its Claimed events from there (follow.go).
	FromBlock uint64
	// Log receives the follower's warnings (nil: discarded).
	Log *slog.Logger

	mu     sync.Mutex
	state  chain.Roots // the distributor's roots at state.Block, when not followed
	claims claims      // the followed roots and claims (follow.go)

	imu     sync.Mutex                           // an index's lookup and the start of its build, as one step
	indexes *lru.Cache[common.Hash, *indexEntry] // by root (index.go)
	builds  sync.WaitGroup                       // index builds in flight
	life    context.Context                      // ends at Close: builds stop
	stop    context.CancelFunc

	handlerOnce sync.Once
	handler     http.Handler

	distOnce sync.Once
	distHex  string // Distributor's checksummed address, made once
}

// distributorHex is the distributor's checksummed address, as answers
// write it.
func (a *Server) distributorHex() string {
	a.distOnce.Do(func() { a.distHex = a.Distributor.Hex() })
	return a.distHex
}

// Mount is what the API needs of a component that serves beside it: its
// routes, and a warm-up run every few seconds.
type Mount interface {
	Routes(mux *http.ServeMux)
	Warm(ctx context.Context)
}

// claimPage is the page served at /claim.
//
//go:embed web/claim.html
var claimPage string

// New returns a proof API reading the distributor at addr through client.
// Close it to stop the index builds it starts.
func New(ctx context.Context, conn driver.Conn, client chain.Backend, addr common.Address) (*Server, error) {
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: chain id: %w", err)
	}
	indexes, _ := lru.New[common.Hash, *indexEntry](maxIndexes)
	life, stop := context.WithCancel(context.Background())
	return &Server{Conn: conn, Distributor: addr, ChainID: id, Client: client, indexes: indexes, life: life, stop: stop}, nil
}

// Close stops the index builds in flight and waits for them.
func (a *Server) Close() {
	a.stop()
	a.builds.Wait()
}

// Handler returns the routes, built once (the explorer's files are
// compressed then).
func (a *Server) Handler() http.Handler {
	a.handlerOnce.Do(func() { a.handler = a.routes() })
	return a.handler
}

func (a *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rewards/{address}", a.rewards)
	mux.HandleFunc("GET /v1/epochs", a.epochs)
	mux.HandleFunc("GET /v1/epochs/{epoch}", a.epochs)
	mux.HandleFunc("GET /v1/epochs/{epoch}/tree", a.tree)
	mux.HandleFunc("GET /v1/epochs/{epoch}/scores", a.scores)
	mux.HandleFunc("GET /v1/votes", a.votes)
	mux.HandleFunc("GET /claim", a.claimPage)
	if a.Explorer != nil {
		a.Explorer.Routes(mux)
	}
	telemetry.HealthHandlers(mux) // /healthz and /readyz
	return mux
}

// Serve serves the API on addr until ctx ends, then lets requests in flight
// finish (for up to 5 s). It keeps the active and pending roots' indexes
// (and the explorer) warm meanwhile, and stops everything it started
// before it returns.
func (a *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	// Request counts and latency by route and status, for the dashboards
	// and the 5xx alert, and spans (instrumented).
	srv := &http.Server{Handler: instrumented(a.Handler()), ReadHeaderTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); a.warm(ctx, 5*time.Second) }()
	go func() {
		defer wg.Done()
		a.Follow(ctx, a.FromBlock, followEvery, cmp.Or(a.Log, slog.New(slog.DiscardHandler)))
	}()
	go func() {
		defer wg.Done()
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	err = srv.Serve(ln)
	cancel()
	wg.Wait()
	a.Close()
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// warm keeps what the first visitor would otherwise wait for ready, every
// interval until ctx ends: the proof index of the active and the pending
// root (a second at 250,000 accounts), and the explorer's.
func (a *Server) warm(ctx context.Context, interval time.Duration) {
	for {
		if st, err := a.currentRoots(ctx); err == nil {
			a.leafOf(ctx, st.Epoch, st.Root, common.Address{})
			a.leafOf(ctx, st.PendingEpoch, st.PendingRoot, common.Address{})
		}
		if a.Explorer != nil {
			a.Explorer.Warm(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// roots returns the distributor's roots at the latest block, read once per
// block.
func (a *Server) roots(ctx context.Context) (chain.Roots, error) {
	head, err := a.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return chain.Roots{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state.Block == head.Number.Uint64() && a.state.Block != 0 {
		return a.state, nil
	}
	st, err := chain.ReadRoots(ctx, a.Client, a.Distributor)
	if err != nil {
		return chain.Roots{}, err
	}
	if st.Block >= a.state.Block {
		a.state = st
	}
	return st, nil
}

// leafOf returns account's leaf in epoch, from root's index (built from
// ClickHouse once per root): ok is false when the account has none;
// errRootUnknown when ClickHouse's leaves of epoch do not make root.
func (a *Server) leafOf(ctx context.Context, epoch uint64, root common.Hash, account common.Address) (l leaf, ok bool, err error) {
	if root == (common.Hash{}) {
		return leaf{}, false, nil
	}
	idx, err := a.index(ctx, epoch, root)
	if err != nil {
		return leaf{}, false, err
	}
	l.cumulative, l.proof, l.hex, ok = idx.leaf(account)
	return l, ok, nil
}

// leaf is an account's grant in a root: its cumulative amount (shared: not
// to be changed), its proof, and the account's checksummed address.
type leaf struct {
	cumulative *big.Int
	proof      []common.Hash
	hex        []byte
}

func (a *Server) rewards(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("address")
	if !common.IsHexAddress(raw) || len(raw) != 42 {
		wire.WriteError(w, http.StatusBadRequest, wire.CodeBadAddress, "address must be 0x followed by 40 hex digits")
		return
	}
	ans, fail := a.answer(r.Context(), common.HexToAddress(raw))
	if fail != nil {
		wire.WriteError(w, fail.Status, fail.Code, fail.Message)
		return
	}
	buf := answerBuffers.Get().(*[]byte)
	*buf = ans.appendJSON((*buf)[:0], a.distributorHex(), a.ChainID)
	w.Header().Set("Content-Type", "application/json")
	w.Write(*buf)
	answerBuffers.Put(buf)
}

// RewardProof is account's proof against the active root, what it claimed,
// and its grant in the pending root, as of the head the API follows.
func (a *Server) RewardProof(ctx context.Context, account common.Address) (*wire.RewardProof, *wire.Failure) {
	ans, fail := a.answer(ctx, account)
	if fail != nil {
		return nil, fail
	}
	return ans.wire(a.Distributor, a.ChainID), nil
}

// answer is what RewardProof says, before it is written: read from the
// chain at its head when the API does not follow it.
func (a *Server) answer(ctx context.Context, account common.Address) (*proofAnswer, *wire.Failure) {
	st, claimed, followed := a.claimedOf(account)
	if !followed {
		var err error
		if st, err = a.roots(ctx); err != nil {
			return nil, &wire.Failure{Status: http.StatusBadGateway, Code: wire.CodeChainUnavailable, Message: "could not read the distributor's roots from the chain; retry"}
		}
	}
	active, granted, err := a.leafOf(ctx, st.Epoch, st.Root, account)
	pending, pgranted, perr := a.leafOf(ctx, st.PendingEpoch, st.PendingRoot, account)
	switch {
	case errors.Is(err, errRootUnknown):
		return nil, &wire.Failure{Status: http.StatusServiceUnavailable, Code: wire.CodeRootUnknown, Message: fmt.Sprintf("the distributor's active root %s (epoch %d) is not in this API's database; retry later", st.Root.Hex(), st.Epoch)}
	case err != nil || perr != nil && !errors.Is(perr, errRootUnknown):
		return nil, &wire.Failure{Status: http.StatusInternalServerError, Code: wire.CodeInternal, Message: "query failed"}
	case !granted && !pgranted:
		return nil, &wire.Failure{Status: http.StatusNotFound, Code: wire.CodeNotFound, Message: "no rewards for " + account.Hex() + " in the active or the pending root"}
	}
	if !followed {
		d := distributor.NewRewardsDistributor()
		if claimed, err = bind.Call(d.Instance(a.Client, a.Distributor), &bind.CallOpts{Context: ctx, BlockNumber: new(big.Int).SetUint64(st.Block)}, d.PackClaimed(account), d.UnpackClaimed); err != nil {
			return nil, &wire.Failure{Status: http.StatusBadGateway, Code: wire.CodeChainUnavailable, Message: "could not read the claimed amount from the chain; retry"}
		}
	}
	ans := &proofAnswer{account: account, accountHex: active.hex, roots: st, claimed: claimed, cumulative: active.cumulative, proof: active.proof, pending: pending.cumulative}
	if !granted {
		ans.accountHex = pending.hex
	}
	return ans, nil
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

func (a *Server) claimPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY") // a wallet prompt must not be framed by another site
	io.WriteString(w, strings.Replace(claimPage, "<!--head-->", a.ClaimPageHead, 1))
}

// epochs serves GET /v1/epochs (newest first; ?limit=N, at most 1000) and
// GET /v1/epochs/{epoch}.
func (a *Server) epochs(w http.ResponseWriter, r *http.Request) {
	one := r.PathValue("epoch") != ""
	var epoch uint64
	limit := uint64(100)
	if one {
		var err error
		if epoch, err = strconv.ParseUint(r.PathValue("epoch"), 10, 64); err != nil {
			wire.WriteError(w, http.StatusBadRequest, wire.CodeBadEpoch, "epoch must be a non-negative integer")
			return
		}
	} else if n, ok := wire.Limit(w, r, limit); !ok {
		return
	} else {
		limit = n
	}
	var out []wire.EpochSummary
	var err error
	if one {
		out, err = a.summaries(r.Context(), "WHERE epoch = ?", epoch)
	} else {
		out, err = a.summaries(r.Context(), "ORDER BY epoch DESC LIMIT ?", limit)
	}
	if err != nil {
		wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
		return
	}
	if !one {
		wire.WriteJSON(w, map[string]any{"epochs": out})
		return
	}
	if len(out) == 0 {
		wire.WriteError(w, http.StatusNotFound, wire.CodeNotFound, fmt.Sprintf("no settlement for epoch %d", epoch))
		return
	}
	wire.WriteJSON(w, out[0])
}

func (a *Server) tree(w http.ResponseWriter, r *http.Request) {
	epoch, err := strconv.ParseUint(r.PathValue("epoch"), 10, 64)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, wire.CodeBadEpoch, "epoch must be a non-negative integer")
		return
	}
	tree, ok, err := tables.TreeOf(r.Context(), a.Conn, epoch)
	switch {
	case err != nil:
		wire.QueryFailed.Write(w)
	case !ok:
		wire.WriteError(w, http.StatusNotFound, wire.CodeNotFound, fmt.Sprintf("no tree for epoch %d", epoch))
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(tree))
	}
}

// summaries reads settlements_latest as GET /v1/epochs answers it, rest
// being the query's WHERE or ORDER BY.
func (a *Server) summaries(ctx context.Context, rest string, args ...any) ([]wire.EpochSummary, error) {
	sets, err := tables.Latest(ctx, a.Conn, rest, args...)
	out := make([]wire.EpochSummary, len(sets))
	for i, s := range sets {
		out[i] = summary(s)
	}
	return out, err
}

// summary is a settlement as GET /v1/epochs shows it.
func summary(s tables.Settlement) wire.EpochSummary {
	e := wire.EpochSummary{Epoch: s.Epoch, Root: s.Root.Hex(), Total: s.Total.String(), Emission: s.Emission.String(), Accounts: s.Accounts,
		Status: string(s.State), Reason: s.Reason, Block: s.Block, UpdatedAt: s.UpdatedAt.UTC().Format(time.RFC3339Nano)}
	if s.Tx != (common.Hash{}) {
		e.Tx = s.Tx.Hex()
	}
	return e
}

// Summary is epoch's row of GET /v1/epochs, nil if it has none: what the
// explorer shows of an epoch's settlement.
func (a *Server) Summary(ctx context.Context, epoch uint64) (*wire.EpochSummary, error) {
	s, err := a.summaries(ctx, "WHERE epoch = ?", epoch)
	if err != nil || len(s) == 0 {
		return nil, err
	}
	return &s[0], nil
}
