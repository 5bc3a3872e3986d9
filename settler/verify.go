package settler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/chain"

	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// Verification is what VerifyEpoch found.
type Verification struct {
	Epoch    uint64
	Chain    []uint64 // the settled epochs recomputed, oldest first, ending with Epoch
	Readings uint64   // valid readings of Epoch
	Root     common.Hash
	Total    *big.Int
	Accounts int
	Stored   common.Hash  // the root the settler stored
	OnChain  *common.Hash // the root the distributor logged; nil if not asked
	// The stored signatures of Epoch's valid readings, checked.
	Signatures Signatures
	// Differences, earliest first; none when everything agrees.
	Differences []string
}

// ChainRoots reads the roots a distributor logged (RootProposed events).
type ChainRoots func(ctx context.Context, epoch uint64) (root common.Hash, found bool, err error)

// VerifyEpoch recomputes an epoch's rewards and root from the readings in
// ClickHouse alone and compares them with what the settler stored
// (settlements, the tree dump, reward_leaves) and, when chain is not nil,
// with the root the distributor logged for the epoch.
//
// No stored total is trusted: every settled epoch up to this one is
// recomputed from its readings, in order, with the emission its settlement
// recorded, building the cumulative totals as the settler did: on every
// epoch before it that was neither revoked nor parked. The chain is asked
// only for epochs whose root was proposed (superseded and computed epochs
// never reach it on their own).
func VerifyEpoch(ctx context.Context, conn driver.Conn, epoch uint64, chain ChainRoots, log *slog.Logger) (*Verification, error) {
	return VerifyEpochWith(ctx, conn, epoch, chain, nil, log)
}

// ScoreSource gives the owners' scores of an epoch. VerifyEpoch reads the
// stored device_scores; verify-epoch passes one that scores the readings
// again with the aggregator's policy, so that nothing stored is trusted.
type ScoreSource func(ctx context.Context, epoch uint64) ([]Score, error)

// VerifyEpochWith is VerifyEpoch with the scores taken from scores (nil:
// the stored device_scores).
func VerifyEpochWith(ctx context.Context, conn driver.Conn, epoch uint64, chain ChainRoots, scores ScoreSource, log *slog.Logger) (*Verification, error) {
	if scores == nil {
		scores = func(ctx context.Context, e uint64) ([]Score, error) { return epochScores(ctx, conn, e, log) }
	}
	all, err := tables.Latest(ctx, conn, "WHERE epoch <= ? ORDER BY epoch", epoch)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if len(all) == 0 || all[len(all)-1].Epoch != epoch {
		return nil, fmt.Errorf("verify: epoch %d has no settlement in ClickHouse (see settlements_latest)", epoch)
	}
	target := all[len(all)-1]
	v := &Verification{Epoch: epoch, Stored: target.Root}
	differ := func(format string, args ...any) { v.Differences = append(v.Differences, fmt.Sprintf(format, args...)) }

	cumulative := map[common.Address]*big.Int{}
	var tree *merkle.Tree
	var leaves []leaf
	for _, s := range all {
		if !s.State.ChainOfRecord() && s.Epoch != epoch {
			continue // the settler never builds on a revoked or parked epoch
		}
		v.Chain = append(v.Chain, s.Epoch)
		owners, err := scores(ctx, s.Epoch)
		if err != nil {
			return nil, err
		}
		shares, err := Split(s.Emission, owners)
		if err != nil {
			return nil, fmt.Errorf("verify: epoch %d: %w", s.Epoch, err)
		}
		if len(shares) == 0 {
			differ("epoch %d: settled, but its readings hold no scores", s.Epoch)
			continue
		}
		if tree, leaves, err = accumulate(cumulative, shares); err != nil {
			return nil, err
		}
		if got := tree.Root(); got != s.Root && s.Epoch != epoch {
			differ("epoch %d (before %d): stored root %s, recomputed %s", s.Epoch, epoch, s.Root.Hex(), got.Hex())
		}
		for _, l := range leaves {
			cumulative[l.account] = l.cumulative
		}
	}
	if tree == nil {
		return v, nil
	}
	v.Root, v.Accounts, v.Total = tree.Root(), len(leaves), new(big.Int)
	for _, l := range leaves {
		v.Total.Add(v.Total, l.cumulative)
	}
	if err := conn.QueryRow(ctx, sqlValidReadings, epoch).Scan(&v.Readings); err != nil {
		return nil, err
	}
	if v.Signatures, err = CheckSignatures(ctx, conn, epoch); err != nil {
		return nil, err
	}
	if s := v.Signatures; s.Bad > 0 {
		differ("epoch %d: %d valid readings whose stored signature does not verify (the first: %s)", epoch, s.Bad, s.FirstBad)
	}
	// Rows without signed bytes are the schema before migration 0014; in
	// an epoch whose other rows have them, they were written around the
	// pipeline (or across the upgrade itself).
	if s := v.Signatures; s.Unsigned > 0 && s.Verified+s.Bad > 0 {
		differ("epoch %d: %d valid readings carry no signed bytes while its other %d do: written around the pipeline (or stored across the upgrade to migration 0014)",
			epoch, s.Unsigned, s.Verified+s.Bad)
	}
	if v.Stored != v.Root {
		differ("epoch %d: stored root %s, recomputed %s", epoch, v.Stored.Hex(), v.Root.Hex())
	}
	if v.Total.Cmp(target.Total) != 0 {
		differ("epoch %d: stored total %s, recomputed %s", epoch, target.Total.String(), v.Total)
	}
	stored, _, err := tables.TreeOf(ctx, conn, epoch)
	if err != nil {
		return nil, fmt.Errorf("verify: the tree of epoch %d: %w", epoch, err)
	}
	var dump merkle.Dump
	if err := json.Unmarshal([]byte(stored), &dump); err != nil || len(dump.Tree) == 0 {
		differ("epoch %d: the stored tree dump does not parse", epoch)
	} else if !strings.EqualFold(dump.Tree[0], v.Root.Hex()) {
		differ("epoch %d: the stored tree dump's root is %s, recomputed %s", epoch, dump.Tree[0], v.Root.Hex())
	}
	if err := compareLeaves(ctx, conn, epoch, leaves, differ); err != nil {
		return nil, err
	}
	if chain != nil && wentOnChain(target.State) {
		root, found, err := chain(ctx, epoch)
		if err != nil {
			return nil, err
		}
		switch {
		case !found:
			differ("epoch %d: no RootProposed event on chain", epoch)
		case root != v.Root:
			differ("epoch %d: root on chain %s, recomputed %s", epoch, root.Hex(), v.Root.Hex())
		}
		if found {
			v.OnChain = &root
		}
	}
	return v, nil
}

// compareLeaves compares the stored reward_leaves of epoch with leaves.
func compareLeaves(ctx context.Context, conn driver.Conn, epoch uint64, leaves []leaf, differ func(string, ...any)) error {
	stored, err := tables.LeavesOf(ctx, conn, epoch)
	if err != nil {
		return err
	}
	want := make(map[common.Address]leaf, len(leaves))
	for _, l := range leaves {
		want[l.account] = l
	}
	seen := 0
	for _, s := range stored {
		account := s.Account.Hex()
		l, ok := want[s.Account]
		switch {
		case !ok:
			differ("epoch %d: stored leaf for %s, which the readings do not pay", epoch, account)
		case l.cumulative.Cmp(s.Cumulative) != 0:
			differ("epoch %d: %s stored cumulative %s, recomputed %s", epoch, account, s.Cumulative.String(), l.cumulative)
		case l.amount.Cmp(s.Amount) != 0:
			differ("epoch %d: %s stored amount %s, recomputed %s", epoch, account, s.Amount.String(), l.amount)
		}
		if ok {
			seen++
		}
	}
	if seen != len(leaves) {
		differ("epoch %d: %d accounts recomputed, %d of them stored", epoch, len(leaves), seen)
	}
	return nil
}

// RootsFromLogs reads the RootProposed events of the distributor at addr. The
// last event for an epoch wins (a root proposed again after a revocation or a
// reorg).
func RootsFromLogs(client chain.Backend, addr common.Address) ChainRoots {
	d := distributor.NewRewardsDistributor()
	parsed, _ := distributor.RewardsDistributorMetaData.ParseABI()
	id := parsed.Events["RootProposed"].ID
	return func(ctx context.Context, epoch uint64) (common.Hash, bool, error) {
		logs, err := client.FilterLogs(ctx, ethereum.FilterQuery{
			Addresses: []common.Address{addr},
			Topics:    [][]common.Hash{{id}, {common.BigToHash(new(big.Int).SetUint64(epoch))}},
		})
		if err != nil {
			return common.Hash{}, false, fmt.Errorf("verify: read RootProposed events: %w", err)
		}
		if len(logs) == 0 {
			return common.Hash{}, false, nil
		}
		ev, err := d.UnpackRootProposedEvent(&logs[len(logs)-1])
		if err != nil {
			return common.Hash{}, false, err
		}
		return common.Hash(ev.Root), true, nil
	}
}

// wentOnChain reports whether a settlement in state s had its root proposed.
func wentOnChain(s tables.State) bool {
	return s == tables.Proposed || s == tables.Active || s == tables.Final || s == tables.Revoked
}
