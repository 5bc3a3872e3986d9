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
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/fieldmint/fieldmint/internal/chain"

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
)

// API serves proofs and trees from ClickHouse, and what accounts have
// claimed from the chain.
type API struct {
	Conn        driver.Conn
	Distributor common.Address
	ChainID     *big.Int
	// Client, when set, is read for claimed amounts.
	Client chain.Backend
	// ClaimPageHead is extra HTML for the claim page's <head>, from whoever
	// runs the API (tests put a wallet there); empty by default.
	ClaimPageHead string
}

// claimPage is the page served at /claim.
//
//go:embed web/claim.html
var claimPage string

// NewAPI returns the proof API of this settler.
func (s *Service) NewAPI() *API {
	return &API{Conn: s.conn, Distributor: common.HexToAddress(s.cfg.Distributor), ChainID: s.chainID, Client: s.client}
}

// RewardProof is the body of GET /v1/rewards/{address}.
type RewardProof struct {
	Account          string   `json:"account"`
	Epoch            uint64   `json:"epoch"`
	Root             string   `json:"root"`
	CumulativeAmount string   `json:"cumulativeAmount"`
	Proof            []string `json:"proof"`
	Distributor      string   `json:"distributor"`
	ChainID          string   `json:"chainId"`
	// Claimed is what the distributor has paid the account so far, and
	// Claimable what a claim with this proof pays now (base units).
	Claimed   string `json:"claimed,omitempty"`
	Claimable string `json:"claimable,omitempty"`
	// ClaimCalldata is claim(account, cumulativeAmount, proof) encoded for
	// the distributor: what a wallet sends.
	ClaimCalldata string `json:"claimCalldata"`
}

// EpochSummary is an element of GET /v1/epochs and the body of
// GET /v1/epochs/{epoch}.
type EpochSummary struct {
	Epoch     uint64 `json:"epoch"`
	Root      string `json:"root"`
	Total     string `json:"total"`    // cumulative total of the tree, base units
	Emission  string `json:"emission"` // paid out by this epoch, base units
	Accounts  uint32 `json:"accounts"`
	Status    string `json:"status"` // computed, posted, final
	Tx        string `json:"tx,omitempty"`
	Block     uint64 `json:"block,omitempty"`
	UpdatedAt string `json:"updatedAt"`
}

// Handler returns the routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rewards/{address}", a.rewards)
	mux.HandleFunc("GET /v1/epochs", a.epochs)
	mux.HandleFunc("GET /v1/epochs/{epoch}", a.epochs)
	mux.HandleFunc("GET /v1/epochs/{epoch}/tree", a.tree)
	mux.HandleFunc("GET /claim", a.claimPage)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

// Serve serves the API on addr until ctx ends.
func (a *API) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

func (a *API) rewards(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("address")
	if !common.IsHexAddress(raw) || len(raw) != 42 {
		apiError(w, http.StatusBadRequest, CodeBadAddress, "address must be 0x followed by 40 hex digits")
		return
	}
	account := common.HexToAddress(raw)
	var out RewardProof
	var cum big.Int
	err := a.Conn.QueryRow(r.Context(), `SELECT l.epoch, s.root, l.cumulative, l.proof
		FROM reward_leaves AS l FINAL
		INNER JOIN (SELECT epoch, root FROM settlements FINAL WHERE stage >= 2 ORDER BY epoch DESC LIMIT 1) AS s ON l.epoch = s.epoch
		WHERE l.account = ?`, account.Hex()).Scan(&out.Epoch, &out.Root, &cum, &out.Proof)
	if errors.Is(err, sql.ErrNoRows) {
		apiError(w, http.StatusNotFound, CodeNotFound, "no rewards for "+account.Hex()+" in the latest posted root")
		return
	}
	if err != nil {
		apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
		return
	}
	out.Account, out.CumulativeAmount = account.Hex(), cum.String()
	out.Distributor, out.ChainID = a.Distributor.Hex(), a.ChainID.String()
	if out.Proof == nil {
		out.Proof = []string{}
	}
	d := distributor.NewRewardsDistributor()
	proof := make([][32]byte, len(out.Proof))
	for i, p := range out.Proof {
		proof[i] = common.HexToHash(p)
	}
	out.ClaimCalldata = hexutil.Encode(d.PackClaim(account, &cum, proof))
	if a.Client != nil {
		claimed, err := bind.Call(d.Instance(a.Client, a.Distributor), &bind.CallOpts{Context: r.Context()}, d.PackClaimed(account), d.UnpackClaimed)
		if err != nil {
			apiError(w, http.StatusBadGateway, CodeChainUnavailable, "could not read claimed amount from the chain; retry")
			return
		}
		claimable := new(big.Int).Sub(&cum, claimed)
		if claimable.Sign() < 0 {
			claimable.SetInt64(0)
		}
		out.Claimed, out.Claimable = claimed.String(), claimable.String()
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
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
	} else if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.ParseUint(q, 10, 64)
		if err != nil || n == 0 || n > 1000 {
			apiError(w, http.StatusBadRequest, CodeBadLimit, "limit must be an integer from 1 to 1000")
			return
		}
		limit = n
	}
	query := `SELECT epoch, root, total, emission, accounts, status, tx_hash, block, updated_at FROM settlements_latest `
	args := []any{}
	if one {
		query += "WHERE epoch = ?"
		args = append(args, epoch)
	} else {
		query += "ORDER BY epoch DESC LIMIT ?"
		args = append(args, limit)
	}
	rows, err := a.Conn.Query(r.Context(), query, args...)
	if err != nil {
		apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
		return
	}
	defer rows.Close()
	out := []EpochSummary{}
	for rows.Next() {
		var e EpochSummary
		var total, emission big.Int
		var updated time.Time
		if err := rows.Scan(&e.Epoch, &e.Root, &total, &emission, &e.Accounts, &e.Status, &e.Tx, &e.Block, &updated); err != nil {
			apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
			return
		}
		e.Total, e.Emission, e.UpdatedAt = total.String(), emission.String(), updated.UTC().Format(time.RFC3339Nano)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !one {
		json.NewEncoder(w).Encode(map[string]any{"epochs": out})
		return
	}
	if len(out) == 0 {
		apiError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no settlement for epoch %d", epoch))
		return
	}
	json.NewEncoder(w).Encode(out[0])
}

func (a *API) tree(w http.ResponseWriter, r *http.Request) {
	epoch, err := strconv.ParseUint(r.PathValue("epoch"), 10, 64)
	if err != nil {
		apiError(w, http.StatusBadRequest, CodeBadEpoch, "epoch must be a non-negative integer")
		return
	}
	var tree string
	err = a.Conn.QueryRow(r.Context(), "SELECT tree FROM settlements FINAL WHERE epoch = ? AND tree != ''", epoch).Scan(&tree)
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
