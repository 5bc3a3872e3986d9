package settler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// settlement is one row of settlements_latest (schemas/tables owns the
// table and its states).
type settlement = tables.Settlement

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
func (st *store) setState(ctx context.Context, s settlement, state tables.State, reason string, tx common.Hash, block uint64) error {
	s.State, s.Reason, s.Tx, s.Block, s.Version = state, reason, tx, block, st.nextVersion()
	if err := tables.InsertState(ctx, st.conn, s); err != nil {
		return fmt.Errorf("settle: record epoch %d %s: %w", s.Epoch, state, err)
	}
	settlementsCounter.Add(ctx, 1, metric.WithAttributes(attribute.String("status", string(state))))
	return nil
}

// settlementsCounter counts settlement states entered, by state; exported by
// internal/telemetry.
var settlementsCounter, _ = telemetry.Meter().Int64Counter("fieldmint.settler.settlements",
	metric.WithDescription("epoch settlement states entered, by status (computed, superseded, proposed, active, final, revoked, parked)"))

// settlements returns the newest state of every epoch from `from` on, oldest
// epoch first.
func (st *store) settlements(ctx context.Context, from uint64) ([]settlement, error) {
	out, err := tables.Settlements(ctx, st.conn, from)
	if err != nil {
		return nil, fmt.Errorf("settle: %w", err)
	}
	return out, nil
}

// hold is what stops settlement: the newest revoked or parked epoch written
// after the last resume. ok is false when nothing holds it.
func (st *store) hold(ctx context.Context) (settlement, bool, error) {
	h, ok, err := tables.Hold(ctx, st.conn)
	if err != nil {
		return h, false, fmt.Errorf("settle: read holds: %w", err)
	}
	return h, ok, nil
}

// recordResume records an operator's resume from epoch at chain head block:
// holds written before it no longer stop settlement.
func (st *store) recordResume(ctx context.Context, epoch, block uint64) error {
	return st.conn.Exec(ctx, sqlInsertResume, epoch, st.nextVersion(), block)
}

// lastResume returns the newest resume's epoch and head block (zeros: none).
func (st *store) lastResume(ctx context.Context) (epoch, block uint64, err error) {
	err = st.conn.QueryRow(ctx, sqlLastResume).Scan(&epoch, &block)
	return epoch, block, err
}
