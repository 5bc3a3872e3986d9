package tables

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
)

// Settlement is one epoch's settlement in one state: a row of
// settlement_states, or of the settlements_latest view (its newest state).
type Settlement struct {
	Epoch     uint64
	Root      common.Hash
	Total     *big.Int // the tree's cumulative total, base units
	Emission  *big.Int // paid out by this epoch, base units
	Accounts  uint32
	State     State
	Reason    string      // why, for revoked, parked and superseded
	Tx        common.Hash // the transaction that put it there (zero: none)
	Block     uint64
	Version   uint64    // strictly increasing per writer
	UpdatedAt time.Time // set by the server when the state is written
}

// SettlementColumns are settlements_latest's columns in Settlement's order.
const SettlementColumns = `epoch, root, total, emission, accounts, status, reason, tx_hash, block, version, updated_at`

// ScanSettlement reads one row of SettlementColumns.
func ScanSettlement(rows driver.Rows) (Settlement, error) {
	var s Settlement
	var root, state, tx string
	var total, emission big.Int
	if err := rows.Scan(&s.Epoch, &root, &total, &emission, &s.Accounts, &state, &s.Reason, &tx, &s.Block, &s.Version, &s.UpdatedAt); err != nil {
		return s, err
	}
	s.Root, s.State, s.Total, s.Emission = common.HexToHash(root), State(state), &total, &emission
	if tx != "" {
		s.Tx = common.HexToHash(tx)
	}
	return s, nil
}

// InsertState records that s entered s.State (with s.Reason, s.Tx and
// s.Block) as version s.Version.
func InsertState(ctx context.Context, conn driver.Conn, s Settlement) error {
	tx := ""
	if s.Tx != (common.Hash{}) {
		tx = s.Tx.Hex()
	}
	total, emission := orZero(s.Total), orZero(s.Emission)
	return conn.Exec(ctx, "INSERT INTO settlement_states (epoch, version, root, total, emission, accounts, state, reason, tx_hash, block, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now64(3))",
		s.Epoch, s.Version, s.Root.Hex(), total, emission, s.Accounts, string(s.State), s.Reason, tx, s.Block)
}

func orZero(v *big.Int) *big.Int {
	if v == nil {
		return new(big.Int)
	}
	return v
}

// Latest reads settlements_latest; rest is the query's WHERE, ORDER BY and
// LIMIT with its arguments.
func Latest(ctx context.Context, conn driver.Conn, rest string, args ...any) ([]Settlement, error) {
	rows, err := conn.Query(ctx, "SELECT "+SettlementColumns+" FROM settlements_latest "+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("read settlements: %w", err)
	}
	defer rows.Close()
	var out []Settlement
	for rows.Next() {
		s, err := ScanSettlement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read settlements: %w", err)
	}
	return out, nil
}

// first returns the first of Latest's answer; ok is false when it is empty.
func first(ctx context.Context, conn driver.Conn, rest string, args ...any) (Settlement, bool, error) {
	out, err := Latest(ctx, conn, rest+" LIMIT 1", args...)
	if err != nil || len(out) == 0 {
		return Settlement{}, false, err
	}
	return out[0], true, nil
}

// Settlements returns the newest state of every epoch from `from` on, oldest
// epoch first.
func Settlements(ctx context.Context, conn driver.Conn, from uint64) ([]Settlement, error) {
	return Latest(ctx, conn, "WHERE epoch >= ? ORDER BY epoch", from)
}

// SettlementOf returns epoch's newest state; ok is false when it has none.
func SettlementOf(ctx context.Context, conn driver.Conn, epoch uint64) (Settlement, bool, error) {
	return first(ctx, conn, "WHERE epoch = ?", epoch)
}

// NewestComputed returns the newest epoch after `after`, and at most
// `through`, whose root may still be signed and proposed (Votable:
// computed, awaiting its quorum).
func NewestComputed(ctx context.Context, conn driver.Conn, after, through uint64) (Settlement, bool, error) {
	return first(ctx, conn, "WHERE status IN "+Votable.SQL()+" AND epoch > ? AND epoch <= ? ORDER BY epoch DESC", after, through)
}

// Hold returns what stops settlement: the newest revoked or parked epoch
// written after the last operator resume (settler_resumes). ok is false
// when nothing holds it.
func Hold(ctx context.Context, conn driver.Conn) (Settlement, bool, error) {
	return first(ctx, conn, "WHERE status IN "+Holding.SQL()+" AND version > (SELECT max(version) FROM settler_resumes) ORDER BY epoch DESC")
}

// BuildsOn returns the epoch whose cumulative totals epoch's build on: the
// newest earlier one in the chain of record (0: none).
func BuildsOn(ctx context.Context, conn driver.Conn, epoch uint64) (uint64, error) {
	var base uint64
	err := conn.QueryRow(ctx, "SELECT max(epoch) FROM settlements_latest WHERE epoch < ? AND status NOT IN "+Holding.SQL(), epoch).Scan(&base)
	return base, err
}

// NewestIn returns, for each state of set, the newest epoch in it (absent:
// none).
func NewestIn(ctx context.Context, conn driver.Conn, set StateSet) (map[State]uint64, error) {
	rows, err := conn.Query(ctx, "SELECT status, max(epoch) FROM settlements_latest WHERE status IN "+set.SQL()+" GROUP BY status")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[State]uint64{}
	for rows.Next() {
		var s string
		var e uint64
		if err := rows.Scan(&s, &e); err != nil {
			return nil, err
		}
		out[State(s)] = e
	}
	return out, rows.Err()
}

// PostedEmissions returns the emission of each epoch from first to last
// whose emission reached the chain (Posted), by epoch.
func PostedEmissions(ctx context.Context, conn driver.Conn, first, last uint64) (map[uint64]*big.Int, error) {
	out := map[uint64]*big.Int{}
	posted, err := Latest(ctx, conn, "WHERE epoch BETWEEN ? AND ? AND status IN "+Posted.SQL()+" ORDER BY epoch", first, last)
	for _, s := range posted {
		out[s.Epoch] = s.Emission
	}
	return out, err
}

// PostedSince counts the epochs from `from` on whose emission reached the
// chain.
func PostedSince(ctx context.Context, conn driver.Conn, from uint64) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM settlements_latest WHERE epoch >= ? AND status IN "+Posted.SQL(), from).Scan(&n)
	return n, err
}

// EverPosted counts the states written past computed: a database in which
// no root was ever proposed answers 0.
func EverPosted(ctx context.Context, conn driver.Conn) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, "SELECT count() FROM settlement_states WHERE state != '"+string(Computed)+"'").Scan(&n)
	return n, err
}

// ProposedAt returns the block time of the pending (proposed) root's
// RootProposed event, as indexed in chain_events; ok is false when no
// root is pending.
func ProposedAt(ctx context.Context, conn driver.Conn) (at time.Time, ok bool, err error) {
	rows, err := conn.Query(ctx, `SELECT block_time FROM chain_events FINAL
		WHERE removed = 0 AND event = 'RootProposed' AND (epoch, root) IN (SELECT epoch, root FROM settlements_latest WHERE status = '`+string(Proposed)+`')
		ORDER BY block DESC LIMIT 1`)
	if err != nil {
		return at, false, err
	}
	defer rows.Close()
	if rows.Next() {
		err = rows.Scan(&at)
		return at, err == nil, err
	}
	return at, false, rows.Err()
}

// StatesOf returns the newest state of each of epochs that has one, read
// from settlement_states by its key (the settlements_latest view reads
// every epoch's).
func StatesOf(ctx context.Context, conn driver.Conn, epochs []uint64) (map[uint64]Settlement, error) {
	out := map[uint64]Settlement{}
	if len(epochs) == 0 {
		return out, nil
	}
	rows, err := conn.Query(ctx, `SELECT epoch, argMax(root, version), argMax(total, version), argMax(emission, version), argMax(accounts, version),
		argMax(state, version), argMax(reason, version), argMax(tx_hash, version), argMax(block, version), max(version), argMax(updated_at, version)
		FROM settlement_states WHERE epoch IN ? GROUP BY epoch`, epochs)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		s, err := ScanSettlement(rows)
		if err != nil {
			return nil, err
		}
		out[s.Epoch] = s
	}
	return out, rows.Err()
}

// EpochsIn returns the epochs from `from` on whose newest state is in set,
// oldest first.
func EpochsIn(ctx context.Context, conn driver.Conn, set StateSet, from uint64) ([]uint64, error) {
	rows, err := conn.Query(ctx, "SELECT epoch FROM settlements_latest WHERE status IN "+set.SQL()+" AND epoch >= ? ORDER BY epoch", from)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var e uint64
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// NewestSettled returns the newest epoch with a settlement in any state
// (0: none).
func NewestSettled(ctx context.Context, conn driver.Conn) (uint64, error) {
	var e uint64
	err := conn.QueryRow(ctx, "SELECT max(epoch) FROM settlement_states").Scan(&e)
	return e, err
}
