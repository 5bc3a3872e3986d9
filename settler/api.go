package settler

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
)

// API error codes.
const (
	CodeBadAddress = "BAD_ADDRESS"
	CodeBadEpoch   = "BAD_EPOCH"
	CodeNotFound   = "NOT_FOUND"
	CodeInternal   = "INTERNAL"
)

// API serves proofs and trees from ClickHouse.
type API struct {
	Conn        driver.Conn
	Distributor common.Address
	ChainID     *big.Int
}

// NewAPI returns the proof API of this settler.
func (s *Service) NewAPI() *API {
	return &API{Conn: s.conn, Distributor: common.HexToAddress(s.cfg.Distributor), ChainID: s.chainID}
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
}

// Handler returns the routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/rewards/{address}", a.rewards)
	mux.HandleFunc("GET /v1/epochs/{epoch}/tree", a.tree)
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
		INNER JOIN (SELECT epoch, root FROM settlements FINAL WHERE status = 'posted' ORDER BY epoch DESC LIMIT 1) AS s ON l.epoch = s.epoch
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
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
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
