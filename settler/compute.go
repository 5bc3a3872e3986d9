package settler

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

type leaf struct {
	account    common.Address
	score      uint64
	amount     *big.Int
	cumulative *big.Int
}

// computed is one epoch's rewards: leaves in address order and their tree.
type computed struct {
	epoch  uint64
	base   uint64 // the epoch whose cumulative totals it builds on (0: none)
	tree   *merkle.Tree
	leaves []leaf
	total  *big.Int
}

// computeEpoch derives the epoch's leaves from ClickHouse alone: the epoch's
// scores split over emission, added to the cumulative totals of the newest
// epoch before it in the chain of record (neither revoked nor parked). It
// returns nil when the epoch has no scores.
func computeEpoch(ctx context.Context, conn driver.Conn, emission *big.Int, epoch uint64, log *slog.Logger) (*computed, error) {
	scores, err := epochScores(ctx, conn, epoch, log)
	if err != nil {
		return nil, err
	}
	shares, err := Split(emission, scores)
	if err != nil || len(shares) == 0 {
		return nil, err
	}
	base, err := tables.BuildsOn(ctx, conn, epoch)
	if err != nil {
		return nil, fmt.Errorf("settle: find the epoch %d builds on: %w", epoch, err)
	}
	cumulative, err := cumulativeOf(ctx, conn, base)
	if err != nil {
		return nil, err
	}
	tree, leaves, err := accumulate(cumulative, shares)
	if err != nil {
		return nil, err
	}
	c := &computed{epoch: epoch, base: base, tree: tree, leaves: leaves, total: new(big.Int)}
	for _, l := range leaves {
		c.total.Add(c.total, l.cumulative)
	}
	return c, nil
}

// cumulativeOf reads the cumulative totals of epoch's stored leaves (none for
// epoch 0). A read cut short would drop accounts from the next root, so
// rows.Err is checked.
func cumulativeOf(ctx context.Context, conn driver.Conn, epoch uint64) (map[common.Address]*big.Int, error) {
	out := map[common.Address]*big.Int{}
	if epoch == 0 {
		return out, nil
	}
	leaves, err := tables.Leaves(ctx, conn, "WHERE epoch = ?", epoch)
	if err != nil {
		return nil, fmt.Errorf("settle: cumulative totals of epoch %d: %w", epoch, err)
	}
	for _, l := range leaves {
		out[l.Account] = l.Cumulative
	}
	return out, nil
}

// epochScores sums each owner's contribution in the epoch from the device
// scores the aggregator wrote when it closed the epoch (device_scores: the
// scoring policy is the aggregator's). Owners that are not addresses cannot
// be paid and are left out.
func epochScores(ctx context.Context, conn driver.Conn, epoch uint64, log *slog.Logger) ([]Score, error) {
	sums, err := tables.OwnerScores(ctx, conn, epoch)
	if err != nil {
		return nil, err
	}
	return OwnerScores(sums, log), nil
}

// OwnerScores sums device scores per owner, leaving out owners that are not
// addresses (they cannot be paid) and zero sums, in address order.
func OwnerScores(ds []tables.OwnerScore, log *slog.Logger) []Score {
	sums := map[common.Address]uint64{}
	for _, d := range ds {
		if !common.IsHexAddress(d.Owner) {
			log.Warn("settle: score of a non-address owner ignored", "owner", d.Owner)
			continue
		}
		sums[common.HexToAddress(d.Owner)] += d.Score
	}
	out := make([]Score, 0, len(sums))
	for a, s := range sums {
		if s > 0 {
			out = append(out, Score{Account: a, Score: s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Account[:], out[j].Account[:]) < 0 })
	return out
}

// accumulate adds an epoch's shares to the cumulative totals before it
// (which it does not change) and builds the epoch's tree: one leaf per
// account ever paid, in address order (proofs are cut from the tree when
// asked for: the proof API's index, the tree dump).
func accumulate(before map[common.Address]*big.Int, shares []Share) (*merkle.Tree, []leaf, error) {
	byAccount := make(map[common.Address]*leaf, len(before)+len(shares))
	for a, cum := range before {
		byAccount[a] = &leaf{account: a, amount: new(big.Int), cumulative: new(big.Int).Set(cum)}
	}
	for _, sh := range shares {
		l := byAccount[sh.Account]
		if l == nil {
			l = &leaf{account: sh.Account, amount: new(big.Int), cumulative: new(big.Int)}
			byAccount[sh.Account] = l
		}
		l.score, l.amount = sh.Score, sh.Amount
		l.cumulative.Add(l.cumulative, sh.Amount)
	}
	leaves := make([]leaf, 0, len(byAccount))
	for _, l := range byAccount {
		leaves = append(leaves, *l)
	}
	sort.Slice(leaves, func(i, j int) bool { return bytes.Compare(leaves[i].account[:], leaves[j].account[:]) < 0 })
	rewards := make([]merkle.Reward, len(leaves))
	for i, l := range leaves {
		rewards[i] = merkle.Reward{Account: l.account, Amount: l.cumulative}
	}
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		return nil, nil, err
	}
	return tree, leaves, nil
}

// Cumulate builds the tree of an epoch that pays shares on the cumulative
// totals before it (the tree of the epoch it builds on), as the settler
// does: an auditor's recomputation from an export.
func Cumulate(before map[common.Address]*big.Int, shares []Share) (*merkle.Tree, []tables.RewardLeaf, error) {
	tree, leaves, err := accumulate(before, shares)
	if err != nil {
		return nil, nil, err
	}
	out := make([]tables.RewardLeaf, len(leaves))
	for i, l := range leaves {
		out[i] = tables.RewardLeaf{Account: l.account, Score: l.score, Amount: l.amount, Cumulative: l.cumulative}
	}
	return tree, out, nil
}

// storeComputed writes c's leaves and tree and records the epoch computed.
// generation tells a recomputation apart from the first computation, so that
// ClickHouse's insert deduplication never drops the leaves of an epoch
// recomputed to the same root after its old leaves were deleted.
func storeComputed(ctx context.Context, st *store, c *computed, emission *big.Int, generation uint64) error {
	root := c.tree.Root()
	leaves := make([]tables.RewardLeaf, len(c.leaves))
	for i, l := range c.leaves {
		leaves[i] = tables.RewardLeaf{Epoch: c.epoch, Account: l.account, Score: l.score, Amount: l.amount, Cumulative: l.cumulative}
	}
	if err := tables.InsertLeaves(ctx, st.conn, fmt.Sprintf("leaves-%d-%s-%d", c.epoch, root.Hex(), generation), leaves); err != nil {
		return fmt.Errorf("settle: store leaves of epoch %d: %w", c.epoch, err)
	}
	// The dump written straight out: json.Marshal would check and compact
	// its 50 MB again (a third of storing 250k accounts' epoch).
	var dump strings.Builder
	if err := c.tree.WriteDump(&dump); err != nil {
		return err
	}
	if err := tables.InsertTree(ctx, st.conn, c.epoch, root, dump.String()); err != nil {
		return fmt.Errorf("settle: store tree of epoch %d: %w", c.epoch, err)
	}
	s := settlement{Epoch: c.epoch, Root: root, Total: c.total, Emission: emission, Accounts: uint32(len(c.leaves))}
	return st.setState(ctx, s, tables.Computed, "", common.Hash{}, 0)
}

// Recompute computes an epoch's rewards and tree from ClickHouse alone and
// stores them (reward_leaves, and the settlement as computed), building on
// the previous computed epoch. It never touches a chain: it is what a replay
// into a fresh database does. ok is false when the epoch has no scores.
func Recompute(ctx context.Context, conn driver.Conn, emission *big.Int, epoch uint64, log *slog.Logger) (root common.Hash, ok bool, err error) {
	c, err := computeEpoch(ctx, conn, emission, epoch, log)
	if err != nil || c == nil {
		return common.Hash{}, false, err
	}
	if err := storeComputed(ctx, &store{conn: conn}, c, emission, 0); err != nil {
		return common.Hash{}, false, err
	}
	return c.tree.Root(), true, nil
}
