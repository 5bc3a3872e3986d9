package settler

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
)

// State is where an epoch's settlement stands. The settler writes states in
// one place (store.setState); the chain's events decide every state after
// computed.
type State string

const (
	// Computed: leaves and tree stored, the root not (or no longer) on chain.
	Computed State = "computed"
	// Superseded: never proposed on its own; a later epoch's root, whose
	// cumulative amounts include this epoch's, was proposed instead.
	Superseded State = "superseded"
	// Proposed: RootProposed seen; the root waits its timelock.
	Proposed State = "proposed"
	// Active: RootActivated seen; the root is (or was) claimable.
	Active State = "active"
	// Final: active, and its activation is settle.confirmations blocks deep.
	Final State = "final"
	// Revoked: the guardian revoked the pending root (RootRevoked), or an
	// operator's resume dropped the epoch. Its grants are never built on.
	Revoked State = "revoked"
	// Parked: the contract refuses the root for good, or the chain lost a
	// root it had made final; reason says which. Settlement waits for an
	// operator.
	Parked State = "parked"
)

// chainOfRecord reports whether an epoch in state s is part of the chain of
// cumulative totals that later epochs build on.
func (s State) chainOfRecord() bool { return s != Revoked && s != Parked }

// holds reports whether the state stops settlement until an operator resumes.
func (s State) holds() bool { return s == Revoked || s == Parked }

// settlement is one row of settlements_latest.
type settlement struct {
	epoch    uint64
	root     common.Hash
	total    *big.Int
	emission *big.Int
	accounts uint32
	state    State
	reason   string
	tx       common.Hash
	block    uint64
	version  uint64
}

// store is the settler's ClickHouse state: settlement states and resumes.
type store struct {
	conn driver.Conn
	mu   sync.Mutex
	last uint64 // the newest version written by this process
}

// nextVersion returns a version greater than every one written before, by
// this process or (through the clock) an earlier one.
func (st *store) nextVersion() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	v := uint64(time.Now().UnixNano())
	if v <= st.last {
		v = st.last + 1
	}
	st.last = v
	return v
}

// setState records that s entered state, with reason (why, for revoked and
// parked) and the transaction that put it there (zero: none).
func (st *store) setState(ctx context.Context, s settlement, state State, reason string, tx common.Hash, block uint64) error {
	txHex := ""
	if tx != (common.Hash{}) {
		txHex = tx.Hex()
	}
	emission := s.emission
	if emission == nil {
		emission = new(big.Int)
	}
	err := st.conn.Exec(ctx, "INSERT INTO settlement_states VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now64(3))",
		s.epoch, st.nextVersion(), s.root.Hex(), s.total, emission, s.accounts, string(state), reason, txHex, block)
	if err != nil {
		return fmt.Errorf("settle: record epoch %d %s: %w", s.epoch, state, err)
	}
	settlementsCounter.Add(ctx, 1, metric.WithAttributes(attribute.String("status", string(state))))
	return nil
}

// settlementsCounter counts settlement states entered, by state; exported by
// internal/telemetry.
var settlementsCounter, _ = telemetry.Meter().Int64Counter("fieldmint.settler.settlements",
	metric.WithDescription("epoch settlement states entered, by status (computed, superseded, proposed, active, final, revoked, parked)"))

const latestColumns = `epoch, root, total, emission, accounts, status, reason, tx_hash, block, version`

func scanSettlement(rows driver.Rows) (settlement, error) {
	var s settlement
	var root, state, tx string
	var total, emission big.Int
	if err := rows.Scan(&s.epoch, &root, &total, &emission, &s.accounts, &state, &s.reason, &tx, &s.block, &s.version); err != nil {
		return s, err
	}
	s.root, s.state, s.total, s.emission = common.HexToHash(root), State(state), &total, &emission
	if tx != "" {
		s.tx = common.HexToHash(tx)
	}
	return s, nil
}

// settlements returns the newest state of every epoch from `from` on, oldest
// epoch first.
func (st *store) settlements(ctx context.Context, from uint64) ([]settlement, error) {
	rows, err := st.conn.Query(ctx, "SELECT "+latestColumns+" FROM settlements_latest WHERE epoch >= ? ORDER BY epoch", from)
	if err != nil {
		return nil, fmt.Errorf("settle: read settlements: %w", err)
	}
	defer rows.Close()
	var out []settlement
	for rows.Next() {
		s, err := scanSettlement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// settlement returns epoch's newest state; ok is false when it has none.
func (st *store) settlement(ctx context.Context, epoch uint64) (settlement, bool, error) {
	rows, err := st.conn.Query(ctx, "SELECT "+latestColumns+" FROM settlements_latest WHERE epoch = ?", epoch)
	if err != nil {
		return settlement{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return settlement{}, false, rows.Err()
	}
	s, err := scanSettlement(rows)
	return s, err == nil, err
}

// hold is what stops settlement: the newest revoked or parked epoch written
// after the last resume. ok is false when nothing holds it.
func (st *store) hold(ctx context.Context) (s settlement, ok bool, err error) {
	rows, err := st.conn.Query(ctx, "SELECT "+latestColumns+` FROM settlements_latest
		WHERE status IN ('revoked', 'parked') AND version > (SELECT max(version) FROM settler_resumes)
		ORDER BY epoch DESC LIMIT 1`)
	if err != nil {
		return s, false, fmt.Errorf("settle: read holds: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return s, false, rows.Err()
	}
	s, err = scanSettlement(rows)
	return s, err == nil, err
}

// recordResume records an operator's resume from epoch at chain head block:
// holds written before it no longer stop settlement.
func (st *store) recordResume(ctx context.Context, epoch, block uint64) error {
	return st.conn.Exec(ctx, "INSERT INTO settler_resumes VALUES (?, ?, ?, now64(3))", epoch, st.nextVersion(), block)
}

// lastResume returns the newest resume's epoch and head block (zeros: none).
func (st *store) lastResume(ctx context.Context) (epoch, block uint64, err error) {
	err = st.conn.QueryRow(ctx, "SELECT argMax(epoch, version), argMax(block, version) FROM settler_resumes").Scan(&epoch, &block)
	return epoch, block, err
}
