package tables

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
)

// RewardLeaf is one account's leaf in one epoch's tree (reward_leaves).
type RewardLeaf struct {
	Epoch      uint64
	Account    common.Address
	Score      uint64   // the account's summed device scores in the epoch
	Amount     *big.Int // this epoch's reward, base units
	Cumulative *big.Int // every reward up to this epoch: what the tree commits to
}

// LeafColumns are reward_leaves' columns in RewardLeaf's order.
const LeafColumns = `epoch, account, score, amount, cumulative`

// InsertLeaves writes leaves in one block; token is ClickHouse's insert
// deduplication token, so a retried insert stores them once.
func InsertLeaves(ctx context.Context, conn driver.Conn, token string, leaves []RewardLeaf) error {
	ictx := ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": token}))
	batch, err := conn.PrepareBatch(ictx, "INSERT INTO reward_leaves ("+LeafColumns+")")
	if err != nil {
		return err
	}
	for _, l := range leaves {
		if err := batch.Append(l.Epoch, l.Account.Hex(), l.Score, l.Amount, l.Cumulative); err != nil {
			batch.Abort()
			return err
		}
	}
	return batch.Send()
}

// Leaves reads reward_leaves (deduplicated); rest is the query's WHERE,
// ORDER BY and LIMIT with its arguments. A read cut short would drop
// accounts from a tree, so rows.Err is checked.
func Leaves(ctx context.Context, conn driver.Conn, rest string, args ...any) ([]RewardLeaf, error) {
	rows, err := conn.Query(ctx, "SELECT "+LeafColumns+" FROM reward_leaves FINAL "+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("read reward_leaves: %w", err)
	}
	defer rows.Close()
	var out []RewardLeaf
	for rows.Next() {
		var l RewardLeaf
		var account string
		var amount, cum big.Int
		if err := rows.Scan(&l.Epoch, &account, &l.Score, &amount, &cum); err != nil {
			return nil, err
		}
		l.Account, l.Amount, l.Cumulative = common.HexToAddress(account), &amount, &cum
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reward_leaves: %w", err)
	}
	return out, nil
}

// LeavesOf returns epoch's leaves in account order.
func LeavesOf(ctx context.Context, conn driver.Conn, epoch uint64) ([]RewardLeaf, error) {
	return Leaves(ctx, conn, "WHERE epoch = ? ORDER BY account", epoch)
}

// DeleteLeavesFrom deletes the leaves of every epoch from `from` on (an
// operator's resume recomputes them).
func DeleteLeavesFrom(ctx context.Context, conn driver.Conn, from uint64) error {
	return conn.Exec(ctx, "DELETE FROM reward_leaves WHERE epoch >= ?", from)
}

// InsertTree stores an epoch's tree dump (settlement_trees), once per
// (epoch, root).
func InsertTree(ctx context.Context, conn driver.Conn, epoch uint64, root common.Hash, dump string) error {
	return conn.Exec(ctx, "INSERT INTO settlement_trees (epoch, root, tree) VALUES (?, ?, ?)", epoch, root.Hex(), dump)
}

// TreeOf returns the tree dump of epoch's newest settlement; ok is false
// when it has none.
func TreeOf(ctx context.Context, conn driver.Conn, epoch uint64) (tree string, ok bool, err error) {
	err = conn.QueryRow(ctx, "SELECT tree FROM settlements_latest WHERE epoch = ? AND tree != ''", epoch).Scan(&tree)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return tree, err == nil, err
}

// PaidAccounts counts the accounts epoch paid something (0 before it is
// computed).
func PaidAccounts(ctx context.Context, conn driver.Conn, epoch uint64) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM reward_leaves FINAL WHERE epoch = ? AND amount > 0", epoch).Scan(&n)
	return n, err
}
