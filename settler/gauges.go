package settler

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/schemas/tables"
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
	timelockGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.settler.timelock", metric.WithUnit("s"),
		metric.WithDescription("the distributor's timelock: how long a proposed root waits before it can activate"))
	closedAgeGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.closed_epoch_age", metric.WithUnit("s"),
		metric.WithDescription("seconds since the end of the newest epoch the aggregator closed; more than two epoch lengths means epochs are not closing"))
	epochLengthGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.epoch_length", metric.WithUnit("s"),
		metric.WithDescription("length of the newest closed epoch, for alerts that count in epochs"))
	rewardedGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.rewarded_tokens",
		metric.WithDescription("tokens the active root lets owners claim in all, in whole tokens (shown only)"))
	claimedGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.claimed_tokens",
		metric.WithDescription("tokens owners have claimed in all, in whole tokens (shown only)"))
	awaitingGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.awaiting_quorum", metric.WithUnit("s"),
		metric.WithDescription("seconds the newest epoch awaiting its quorum has waited since this settler signed it (0: none awaits)"))
	quorumTimeoutGauge, _ = telemetry.Meter().Float64Gauge("fieldmint.settler.quorum_timeout", metric.WithUnit("s"),
		metric.WithDescription("settle.quorumTimeout: how long an epoch may await its quorum before the alert"))
	splitGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.settler.votes_split",
		metric.WithDescription("1 while the signers' votes for the epoch this settler votes on name two or more different votes (roots, inputs or bases), else 0"))
	outvotedGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.settler.outvoted",
		metric.WithDescription("1 while settlement is held because the signers' quorum posted another root than this settler computed, else 0"))
)

// Gauges are the figures RecordGauges recorded.
type Gauges struct {
	Epochs        map[string]uint64 // the newest epoch in each state
	PendingAge    time.Duration
	PosterBalance *big.Int
	ClosedAge     time.Duration // since the newest closed epoch's end (0: none)
	Rewarded      *big.Int      // the distributor's total and totalClaimed, base units
	Claimed       *big.Int
	Awaiting      time.Duration // since the newest epoch awaiting its quorum was signed (0: none)
	Split         bool          // the votes for the epoch voted on disagree
	Outvoted      bool          // an outvoted epoch holds settlement
}

// whole converts base units of an 18-decimal token (or wei) to a float of
// whole ones, for display only.
func whole(units *big.Int) float64 {
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(units), big.NewFloat(1e18)).Float64()
	return f
}

// RecordGauges records the operator's gauges and returns them.
func (s *Service) RecordGauges(ctx context.Context) (Gauges, error) {
	g := Gauges{Epochs: map[string]uint64{}}
	scored, err := clickhouse.Uint64s(ctx, s.conn, sqlNewestScored)
	if err != nil {
		return g, err
	}
	g.Epochs["scored"] = scored[0]
	newest, err := tables.NewestIn(ctx, s.conn, tables.Progress)
	if err != nil {
		return g, err
	}
	for state, epoch := range newest {
		g.Epochs[string(state)] = epoch
	}
	// Active covers final: an epoch final is active too; computed covers
	// awaiting its quorum (computed and signed).
	g.Epochs["active"] = max(g.Epochs["active"], g.Epochs["final"])
	g.Epochs["computed"] = max(g.Epochs["computed"], g.Epochs[string(tables.AwaitingQuorum)])
	for _, state := range []string{"scored", "computed", "proposed", "active", "final"} {
		epochGauge.Record(ctx, int64(g.Epochs[state]), metric.WithAttributes(attribute.String("state", state)))
	}
	proposedAt, pending, err := tables.ProposedAt(ctx, s.conn)
	if err != nil {
		return g, err
	}
	if pending {
		// In the chain's time, as the timelock counts.
		head, err := s.client.HeaderByNumber(ctx, nil)
		if err != nil {
			return g, err
		}
		g.PendingAge = max(time.Unix(int64(head.Time), 0).Sub(proposedAt), 0)
	}
	pendingAgeGauge.Record(ctx, g.PendingAge.Seconds())
	timelockGauge.Record(ctx, int64(s.timelock))
	if g.PosterBalance, err = s.client.BalanceAt(ctx, chain.Address(s.key), nil); err != nil {
		return g, err
	}
	posterBalanceGauge.Record(ctx, whole(g.PosterBalance))
	var start, end time.Time
	err = s.conn.QueryRow(ctx, sqlNewestClosed).Scan(&start, &end)
	switch {
	case errors.Is(err, sql.ErrNoRows): // none closed yet
	case err != nil:
		return g, err
	default:
		g.ClosedAge = time.Since(end)
		closedAgeGauge.Record(ctx, g.ClosedAge.Seconds())
		epochLengthGauge.Record(ctx, end.Sub(start).Seconds())
	}
	call := &bind.CallOpts{Context: ctx}
	if g.Rewarded, err = bind.Call(s.dist, call, s.d.PackTotal(), s.d.UnpackTotal); err != nil {
		return g, err
	}
	if g.Claimed, err = bind.Call(s.dist, call, s.d.PackTotalClaimed(), s.d.UnpackTotalClaimed); err != nil {
		return g, err
	}
	rewardedGauge.Record(ctx, whole(g.Rewarded))
	claimedGauge.Record(ctx, whole(g.Claimed))
	return g, s.recordQuorum(ctx, &g)
}

// recordQuorum records the gauges of k-of-n settlement.
func (s *Service) recordQuorum(ctx context.Context, g *Gauges) error {
	awaiting, err := tables.Latest(ctx, s.conn, "WHERE status = ? ORDER BY epoch DESC LIMIT 1", string(tables.AwaitingQuorum))
	if err != nil {
		return err
	}
	if len(awaiting) > 0 {
		g.Awaiting = max(time.Since(awaiting[0].UpdatedAt), 0)
	}
	h, held, err := tables.Hold(ctx, s.conn)
	if err != nil {
		return err
	}
	g.Outvoted, g.Split = held && h.State == tables.Outvoted, s.v.split
	awaitingGauge.Record(ctx, g.Awaiting.Seconds())
	quorumTimeoutGauge.Record(ctx, s.cfg.QuorumTimeout.Seconds())
	splitGauge.Record(ctx, flag(g.Split))
	outvotedGauge.Record(ctx, flag(g.Outvoted))
	return nil
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
