package api_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fieldmint/fieldmint/api"
	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// onRequest marks a request's context: the counting backend counts the node
// calls made under it, the request path's.
type onRequest struct{}

// counting is a chain backend that counts the calls made on the request
// path.
type counting struct {
	chain.Backend
	calls atomic.Int64
}

func (c *counting) count(ctx context.Context) {
	if ctx.Value(onRequest{}) != nil {
		c.calls.Add(1)
	}
}

func (c *counting) CallContract(ctx context.Context, m ethereum.CallMsg, b *big.Int) ([]byte, error) {
	c.count(ctx)
	return c.Backend.CallContract(ctx, m, b)
}

func (c *counting) HeaderByNumber(ctx context.Context, n *big.Int) (*types.Header, error) {
	c.count(ctx)
	return c.Backend.HeaderByNumber(ctx, n)
}

func (c *counting) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	c.count(ctx)
	return c.Backend.FilterLogs(ctx, q)
}

// TestProofsFromMemory: with the follower running, a proof request calls
// no node, and a claim made a moment ago is in the answers of every block
// from the claim's on.
func TestProofsFromMemory(t *testing.T) {
	e := settlertest.New(t, 0)
	e.Scores(t, 10, map[string]uint64{settlertest.Alice: 3, settlertest.Bob: 1})
	e.Settle(t, 10)
	e.StepUntil(t, 10, "active")
	node := &counting{Backend: e.Client}
	srv, err := api.New(context.Background(), e.Conn, node, e.Contracts.Distributor)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx, stop := context.WithCancel(context.Background())
	var following sync.WaitGroup
	following.Go(func() { srv.Follow(ctx, e.Contracts.Block, 50*time.Millisecond, slog.New(slog.DiscardHandler)) })
	t.Cleanup(func() { stop(); following.Wait() })

	ask := func() (wire.RewardProof, int64) {
		before := node.calls.Load()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/v1/rewards/"+strings.ToLower(settlertest.Alice), nil) // answered checksummed
		srv.Handler().ServeHTTP(rec, req.WithContext(context.WithValue(req.Context(), onRequest{}, true)))
		var p wire.RewardProof
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
			t.Fatalf("GET /v1/rewards: %d %s", rec.Code, rec.Body)
		}
		return p, node.calls.Load() - before
	}
	testenv.WaitFor(t, 30*time.Second, "a proof answered from memory (no node call)", func() bool { _, calls := ask(); return calls == 0 })
	p, _ := ask()
	if p.Claimed != "0" || p.Claimable != "750" {
		t.Fatalf("before the claim: %+v", p)
	}
	// The addresses as go-ethereum checksums them (the API keeps them made).
	if want := common.HexToAddress(settlertest.Alice).Hex(); p.Account != want || p.Distributor != e.Contracts.Distributor.Hex() {
		t.Fatalf("account %s, distributor %s; want %s and %s", p.Account, p.Distributor, want, e.Contracts.Distributor.Hex())
	}
	// Anyone may send the claim; the tokens go to the account.
	opts, err := chain.Transactor(context.Background(), e.Client, e.Guardian)
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := chain.Send(context.Background(), e.Client, distributor.NewRewardsDistributor().Instance(e.Client, e.Contracts.Distributor), opts, common.FromHex(p.ClaimCalldata))
	if err != nil {
		t.Fatal(err)
	}
	claimedIn := receipt.BlockNumber.Uint64()
	testenv.WaitFor(t, 30*time.Second, "an answer at the claim's block or later", func() bool {
		p, calls := ask()
		if calls != 0 {
			t.Fatalf("a request called the node %d times", calls)
		}
		if p.Block < claimedIn {
			return false
		}
		if p.Claimed != "750" || p.Claimable != "0" {
			t.Fatalf("at block %d (the claim's %d): claimed %s, claimable %s; want 750 and 0", p.Block, claimedIn, p.Claimed, p.Claimable)
		}
		return true
	})
}
