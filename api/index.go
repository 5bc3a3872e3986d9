package api

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// The proof API serves proofs from memory: the first request for a root
// reads that epoch's leaves from ClickHouse once (account and cumulative
// amount), rebuilds the tree and checks it has the root, and every proof of
// that root is then cut from the tree. A query per request cost ClickHouse
// about 11 ms of CPU (FINAL over the epoch's leaves), so the API answered
// some 130 proofs a second at 250,000 accounts (docs/performance.md).

// rootIndex is one root's tree: the leaf of each account, its amount, and
// its address as answers write it (EIP-55 checksummed, made once here: a
// Keccak hash per answer was 5% of the API's CPU).
type rootIndex struct {
	tree       *merkle.Tree
	pos        map[common.Address]int // value index in tree
	cumulative []*big.Int             // read only: answers share them
	hexes      []byte                 // account i's checksummed address at [42i, 42i+42)
}

// indexEntry is a root's index, built once; ready closes when it is.
type indexEntry struct {
	ready chan struct{}
	idx   *rootIndex
	err   error
	built time.Time
}

// indexRetry is how long a failed build is remembered before a request
// tries again: a root ClickHouse does not hold yet (its database is behind)
// is not re-read for every request meanwhile.
const indexRetry = 2 * time.Second

// maxIndexes bounds the roots held (least recently asked for goes first):
// the active and the pending root, and the ones just replaced.
const maxIndexes = 4

// index returns root's index, building it from epoch's leaves the first
// time; errRootUnknown when ClickHouse's leaves of epoch do not make root.
func (a *Server) index(ctx context.Context, epoch uint64, root common.Hash) (*rootIndex, error) {
	a.imu.Lock()
	e, ok := a.indexes.Get(root)
	if !ok || failedLongAgo(e) {
		e = &indexEntry{ready: make(chan struct{})}
		a.indexes.Add(root, e)
		// Built for everyone who asks meanwhile, so not on the asking
		// request's context but on the server's: Close stops it.
		a.builds.Add(1)
		go func() {
			defer a.builds.Done()
			bctx, cancel := context.WithTimeout(a.life, 2*time.Minute)
			defer cancel()
			e.idx, e.err = buildIndex(bctx, a, epoch, root)
			e.built = time.Now()
			close(e.ready)
		}()
	}
	a.imu.Unlock()
	select {
	case <-e.ready:
		return e.idx, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// failedLongAgo reports whether e's build failed more than indexRetry ago.
func failedLongAgo(e *indexEntry) bool {
	select {
	case <-e.ready:
		return e.err != nil && time.Since(e.built) > indexRetry
	default:
		return false
	}
}

func buildIndex(ctx context.Context, a *Server, epoch uint64, root common.Hash) (*rootIndex, error) {
	leaves, err := tables.LeavesOf(ctx, a.Conn, epoch)
	// A read cut short would make another tree, refused below anyway.
	if err != nil {
		return nil, fmt.Errorf("api: the leaves of epoch %d: %w", epoch, err)
	}
	rewards := make([]merkle.Reward, len(leaves))
	idx := &rootIndex{pos: make(map[common.Address]int, len(leaves)), cumulative: make([]*big.Int, len(leaves)), hexes: make([]byte, 0, 42*len(leaves))}
	for i, l := range leaves {
		idx.pos[l.Account] = i
		idx.hexes = append(idx.hexes, l.Account.Hex()...)
		rewards[i] = merkle.Reward{Account: l.Account, Amount: l.Cumulative}
		idx.cumulative[i] = l.Cumulative
	}
	if len(rewards) == 0 {
		return nil, errRootUnknown
	}
	if idx.tree, err = merkle.OfRewards(rewards); err != nil {
		return nil, err
	}
	if idx.tree.Root() != root {
		return nil, errRootUnknown
	}
	return idx, nil
}

// leaf returns account's cumulative amount (not to be changed), proof and
// checksummed address; ok is false when the root grants it nothing.
func (x *rootIndex) leaf(account common.Address) (cum *big.Int, proof []common.Hash, hex []byte, ok bool) {
	i, ok := x.pos[account]
	if !ok {
		return nil, nil, nil, false
	}
	return x.cumulative[i], x.tree.Proof(i), x.hexes[42*i : 42*i+42 : 42*i+42], true
}

var errRootUnknown = errors.New("root unknown")
