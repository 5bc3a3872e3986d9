package api

import (
	"context"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// The request path answers from memory: a follower reads the distributor's
// roots at every new head and what each account has claimed from its
// Claimed events (cumulative amounts), so no request waits for the node.
// Claims more than followDepth blocks deep are folded into a map kept for
// good; the recent blocks' claims are read again at every head, so a claim
// a reorg dropped stops counting. A view older than staleAfter (the node
// unreachable) is not served: requests then ask the node, and fail as they
// did before if it does not answer.

const (
	followDepth = 64
	followRange = 2000 // blocks per eth_getLogs while catching up
	staleAfter  = 30 * time.Second
	followEvery = 250 * time.Millisecond // how often the head is read
)

// view is the followed state the request path reads.
type view struct {
	roots  chain.Roots
	at     time.Time                   // when it was read
	recent map[common.Address]*big.Int // claims of the recent blocks (read-only once published)
}

// claims are the followed claims: final (deep enough to keep) and the
// published view.
type claims struct {
	mu           sync.RWMutex
	final        map[common.Address]*big.Int // guarded by mu
	finalThrough uint64                      // the follower's own
	view         atomic.Pointer[view]
}

// claimedOf returns what account has claimed as of the view, from memory;
// ok is false when no fresh view is held.
func (a *Server) claimedOf(account common.Address) (chain.Roots, *big.Int, bool) {
	v := a.fresh()
	if v == nil {
		return chain.Roots{}, nil, false
	}
	a.claims.mu.RLock()
	c := a.claims.final[account]
	a.claims.mu.RUnlock()
	if r := v.recent[account]; r != nil && (c == nil || r.Cmp(c) > 0) {
		c = r
	}
	if c == nil {
		c = new(big.Int)
	}
	return v.roots, c, true
}

// fresh returns the followed view, nil when there is none younger than
// staleAfter.
func (a *Server) fresh() *view {
	if v := a.claims.view.Load(); v != nil && time.Since(v.at) <= staleAfter {
		return v
	}
	return nil
}

// currentRoots are the followed roots when fresh, else the node's.
func (a *Server) currentRoots(ctx context.Context) (chain.Roots, error) {
	if v := a.fresh(); v != nil {
		return v.roots, nil
	}
	return a.roots(ctx)
}

// Follow reads the chain every interval until ctx ends: the roots at each
// new head and the Claimed events from fromBlock on. Serve runs it.
func (a *Server) Follow(ctx context.Context, fromBlock uint64, interval time.Duration, log *slog.Logger) {
	a.claims.mu.Lock()
	if a.claims.final == nil {
		a.claims.final = map[common.Address]*big.Int{}
		a.claims.finalThrough = fromBlock
	}
	a.claims.mu.Unlock()
	failing := false
	for {
		if err := a.followOnce(ctx, fromBlock); err != nil && ctx.Err() == nil && !failing {
			log.Warn("api: following the chain failed; requests ask the node until it answers", "err", err)
			failing = true
		} else if err == nil && failing {
			log.Info("api: following the chain again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (a *Server) followOnce(ctx context.Context, fromBlock uint64) error {
	// The head alone first: the roots and the claims are read again only
	// when it moved.
	h, err := a.Client.HeaderByNumber(ctx, nil)
	if err != nil {
		return err
	}
	if v := a.claims.view.Load(); v != nil && v.roots.Block == h.Number.Uint64() {
		a.claims.view.Store(&view{roots: v.roots, at: time.Now(), recent: v.recent}) // the same head, still fresh
		return nil
	}
	roots, err := chain.ReadRoots(ctx, a.Client, a.Distributor)
	if err != nil {
		return err
	}
	// Fold the blocks now deep enough into final, then read the recent ones.
	head := roots.Block
	deep := uint64(0)
	if head > followDepth {
		deep = head - followDepth
	}
	for a.claims.finalThrough < deep {
		from, to := a.claims.finalThrough, min(a.claims.finalThrough+followRange-1, deep)
		found, err := a.claimsIn(ctx, from, to)
		if err != nil {
			return err
		}
		a.claims.mu.Lock()
		merge(a.claims.final, found)
		a.claims.finalThrough = to + 1
		a.claims.mu.Unlock()
	}
	recent, err := a.claimsIn(ctx, max(a.claims.finalThrough, fromBlock), head)
	if err != nil {
		return err
	}
	a.claims.view.Store(&view{roots: roots, at: time.Now(), recent: recent})
	return nil
}

// claimsIn reads the Claimed events of blocks from..to: each account's
// highest cumulative amount claimed.
func (a *Server) claimsIn(ctx context.Context, from, to uint64) (map[common.Address]*big.Int, error) {
	out := map[common.Address]*big.Int{}
	if from > to {
		return out, nil
	}
	logs, err := a.Client.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(from), ToBlock: new(big.Int).SetUint64(to),
		Addresses: []common.Address{a.Distributor}, Topics: [][]common.Hash{{claimedTopic}}})
	if err != nil {
		return nil, err
	}
	d := distributor.NewRewardsDistributor()
	for i := range logs {
		ev, err := d.UnpackClaimedEvent(&logs[i])
		if err != nil {
			return nil, err
		}
		if c := out[ev.Account]; c == nil || ev.CumulativeAmount.Cmp(c) > 0 {
			out[ev.Account] = ev.CumulativeAmount
		}
	}
	return out, nil
}

// claimedTopic is the Claimed event's topic.
var claimedTopic = func() common.Hash {
	parsed, _ := distributor.RewardsDistributorMetaData.ParseABI()
	return parsed.Events["Claimed"].ID
}()

// merge keeps in into each account's highest amount.
func merge(into, from map[common.Address]*big.Int) {
	for a, v := range from {
		if c := into[a]; c == nil || v.Cmp(c) > 0 {
			into[a] = v
		}
	}
}
