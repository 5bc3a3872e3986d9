package settler

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/telemetry"
)

// What an operator watches to know that money is not stuck: how far each
// settlement state has got, how long the pending root has waited, and
// whether the poster can still pay for its transactions.
var (
	epochGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.settler.epoch",
		metric.WithDescription("the newest epoch in each state: scored (closed and scored by the aggregator), computed, proposed, active, final; a state falling behind scored means settlement is stuck"))
	pendingAgeGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.pending_root_age", metric.WithUnit("s"),
		metric.WithDescription("seconds since the root now pending on chain was proposed (0: none pending); longer than the timelock plus a few blocks means activation is stuck"))
	posterBalanceGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.poster_balance_eth",
		metric.WithDescription("the poster's balance, for its gas (shown only: nothing is decided by it)"))
)

// gauges are the figures recordGauges last recorded, for tests.
type gauges struct {
	epochs        map[string]uint64
	pendingAge    time.Duration
	posterBalance *big.Int
}

// recordGauges records the operator's gauges and returns them.
func (s *Service) recordGauges(ctx context.Context) (gauges, error) {
	g := gauges{epochs: map[string]uint64{}}
	scored, err := clickhouse.Uint64s(ctx, s.conn, "SELECT max(epoch) FROM scored_epochs")
	if err != nil {
		return g, err
	}
	g.epochs["scored"] = scored[0]
	rows, err := s.conn.Query(ctx, "SELECT status, max(epoch) FROM settlements_latest WHERE status IN ('computed', 'proposed', 'active', 'final') GROUP BY status")
	if err != nil {
		return g, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var epoch uint64
		if err := rows.Scan(&status, &epoch); err != nil {
			return g, err
		}
		g.epochs[status] = epoch
	}
	if err := rows.Err(); err != nil {
		return g, err
	}
	// Active covers final: an epoch final is active too.
	g.epochs["active"] = max(g.epochs["active"], g.epochs["final"])
	for _, state := range []string{"scored", "computed", "proposed", "active", "final"} {
		epochGauge.Record(ctx, int64(g.epochs[state]), metric.WithAttributes(attribute.String("state", state)))
	}
	var proposedAt time.Time
	err = s.conn.QueryRow(ctx, `SELECT block_time FROM chain_events FINAL
		WHERE removed = 0 AND event = 'RootProposed' AND (epoch, root) IN (SELECT epoch, root FROM settlements_latest WHERE status = 'proposed')
		ORDER BY block DESC LIMIT 1`).Scan(&proposedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows): // none pending
	case err != nil:
		return g, err
	default:
		// In the chain's time, as the timelock counts.
		head, err := s.client.HeaderByNumber(ctx, nil)
		if err != nil {
			return g, err
		}
		g.pendingAge = max(time.Unix(int64(head.Time), 0).Sub(proposedAt), 0)
	}
	pendingAgeGauge.Record(ctx, g.pendingAge.Seconds())
	if g.posterBalance, err = s.client.BalanceAt(ctx, chain.Address(s.key), nil); err != nil {
		return g, err
	}
	eth, _ := new(big.Float).Quo(new(big.Float).SetInt(g.posterBalance), big.NewFloat(1e18)).Float64()
	posterBalanceGauge.Record(ctx, eth)
	return g, nil
}
