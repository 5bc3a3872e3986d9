package settler

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/settler/merkle"
)

// The proof API serves proofs from memory: the first request for a root
// reads that epoch's leaves from ClickHouse once (account and cumulative
// amount), rebuilds the tree and checks it has the root, and every proof of
// that root is then cut from the tree. A query per request cost ClickHouse
// about 11 ms of CPU (FINAL over the epoch's leaves), so the API answered
// some 130 proofs a second at 250,000 accounts (docs/performance.md).

// rootIndex is one root's tree: the leaf of each account, and its amount.
type rootIndex struct {
	tree       *merkle.Tree
	pos        map[common.Address]int // value index in tree
	cumulative []*big.Int
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

// maxIndexes bounds the roots held: the active and the pending root, and
// the ones just replaced.
const maxIndexes = 4

// index returns root's index, building it from epoch's leaves the first
// time; errRootUnknown when ClickHouse's leaves of epoch do not make root.
func (a *API) index(ctx context.Context, epoch uint64, root common.Hash) (*rootIndex, error) {
	a.imu.Lock()
	if a.indexes == nil {
		a.indexes = map[common.Hash]*indexEntry{}
	}
	e := a.indexes[root]
	if e != nil && failedLongAgo(e) {
		e = nil
	}
	if e == nil {
		e = &indexEntry{ready: make(chan struct{})}
		a.evict()
		a.indexes[root] = e
		// Built for everyone who asks meanwhile, so not on the asking
		// request's context.
		go func() {
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
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

// evict drops the oldest built indexes beyond maxIndexes - 1 (a.imu held).
func (a *API) evict() {
	for len(a.indexes) >= maxIndexes {
		var oldest common.Hash
		var at time.Time
		for root, e := range a.indexes {
			select {
			case <-e.ready:
			default:
				continue // being built
			}
			if at.IsZero() || e.built.Before(at) {
				oldest, at = root, e.built
			}
		}
		if at.IsZero() {
			return
		}
		delete(a.indexes, oldest)
	}
}

func buildIndex(ctx context.Context, a *API, epoch uint64, root common.Hash) (*rootIndex, error) {
	rows, err := a.Conn.Query(ctx, "SELECT account, cumulative FROM reward_leaves FINAL WHERE epoch = ?", epoch)
	if err != nil {
		return nil, fmt.Errorf("api: read the leaves of epoch %d: %w", epoch, err)
	}
	defer rows.Close()
	var rewards []merkle.Reward
	idx := &rootIndex{pos: map[common.Address]int{}}
	for rows.Next() {
		var account string
		var cum big.Int
		if err := rows.Scan(&account, &cum); err != nil {
			return nil, err
		}
		addr := common.HexToAddress(account)
		idx.pos[addr] = len(rewards)
		amount := new(big.Int).Set(&cum)
		rewards = append(rewards, merkle.Reward{Account: addr, Amount: amount})
		idx.cumulative = append(idx.cumulative, amount)
	}
	// A read cut short would make another tree, refused below anyway.
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("api: read the leaves of epoch %d: %w", epoch, err)
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

// leaf returns account's cumulative amount and proof; ok is false when the
// root grants it nothing.
func (x *rootIndex) leaf(account common.Address) (*big.Int, []string, bool) {
	i, ok := x.pos[account]
	if !ok {
		return nil, nil, false
	}
	hashes := x.tree.Proof(i)
	proof := make([]string, len(hashes))
	for j, h := range hashes {
		proof[j] = h.Hex()
	}
	return new(big.Int).Set(x.cumulative[i]), proof, true
}

var errRootUnknown = errors.New("root unknown")
