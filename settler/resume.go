package settler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// ErrResume means a resume was refused; the message says what to do first.
var ErrResume = errors.New("settle: cannot resume")

// Resume is the operator's answer to a revoked or parked epoch (fieldmint
// settle --resume-from N): it recomputes every closed epoch from `from` on,
// building on the distributor's active root, and drops the epochs between
// the active root and `from` (their grants are never paid). Run it after
// fixing what made the guardian revoke (denylisting devices, repairing
// data); the settler then proposes the recomputed root as usual.
func (s *Service) Resume(ctx context.Context, from uint64) error {
	c, err := chain.ReadRoots(ctx, s.client, s.distributor())
	if err != nil {
		return fmt.Errorf("settle: read the distributor: %w", err)
	}
	if c.PendingRoot != (common.Hash{}) {
		return fmt.Errorf("%w: epoch %d's root is pending on chain: let it activate, or have the guardian revoke it, first", ErrResume, c.PendingEpoch)
	}
	if from <= c.Epoch {
		return fmt.Errorf("%w: epoch %d is not after the active root's epoch %d, and an active root cannot be recomputed", ErrResume, from, c.Epoch)
	}
	if err := s.follow(ctx); err != nil {
		return err
	}
	sets, err := s.st.settlements(ctx, c.Epoch+1)
	if err != nil {
		return err
	}
	for _, st := range sets {
		if st.Epoch >= from || st.State == tables.Revoked {
			continue
		}
		reason := fmt.Sprintf("dropped by the operator's resume from epoch %d", from)
		if err := s.st.setState(ctx, st, tables.Revoked, reason, common.Hash{}, 0); err != nil {
			return err
		}
		s.log.Warn("settle: epoch dropped", "epoch", st.Epoch, "reason", reason)
	}
	// The old leaves of the epochs to recompute go first: a recomputed epoch
	// may pay fewer accounts, and a leaf left behind would be built on.
	if err := tables.DeleteLeavesFrom(ctx, s.conn, from); err != nil {
		return fmt.Errorf("settle: delete the leaves of epochs from %d: %w", from, err)
	}
	generation := s.st.nextVersion()
	epochs, err := ScoredEpochs(ctx, s.conn, max(from, s.firstEpoch))
	if err != nil {
		return err
	}
	old := map[uint64]settlement{}
	for _, st := range sets {
		old[st.Epoch] = st
	}
	for _, e := range epochs {
		cmp, err := computeEpoch(ctx, s.conn, s.emission, e, s.log)
		if err != nil {
			return fmt.Errorf("settle: recompute epoch %d: %w", e, err)
		}
		if cmp == nil {
			if st, ok := old[e]; ok && st.State != tables.Revoked {
				if err := s.st.setState(ctx, st, tables.Revoked, "no scores left when recomputed", common.Hash{}, 0); err != nil {
					return err
				}
			}
			continue
		}
		if err := storeComputed(ctx, s.st, cmp, s.emission, generation); err != nil {
			return err
		}
		s.log.Info("settle: epoch recomputed", "epoch", e, "root", cmp.tree.Root().Hex(), "accounts", len(cmp.leaves))
	}
	if err := s.st.recordResume(ctx, from, c.Block); err != nil {
		return err
	}
	s.log.Warn("settle: resumed by the operator", "from", from, "recomputed", len(epochs), "buildsOn", c.Epoch)
	return nil
}

// ScoredEpochs lists the epochs whose device scores are written (the
// aggregator holds them for scoring.hold epochs after the close), from
// `from` on, oldest first: the epochs the settler pays.
func ScoredEpochs(ctx context.Context, conn driver.Conn, from uint64) ([]uint64, error) {
	epochs, err := clickhouse.Uint64s(ctx, conn, sqlScoredEpochs, from)
	if err != nil {
		return nil, fmt.Errorf("read scored epochs: %w", err)
	}
	return epochs, nil
}

// counts returns the epoch's valid readings and, by reason, the readings
// rejected while it was open (by ingest time: a rejected reading's event time
// may be the very thing that is wrong).
func (s *Service) counts(ctx context.Context, epoch uint64, start, end time.Time) (uint64, map[string]uint64, error) {
	rows, err := s.conn.Query(ctx, sqlDecisions, epoch, start.UTC(), end.UTC())
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var accepted uint64
	rejected := map[string]uint64{}
	for rows.Next() {
		var status, reason string
		var n uint64
		if err := rows.Scan(&status, &reason, &n); err != nil {
			return 0, nil, err
		}
		if status == "valid" {
			accepted += n
		} else {
			rejected[reason] += n
		}
	}
	return accepted, rejected, rows.Err()
}

// stopped counts the devices whose pay an information check stopped in the
// epoch, by reason.
func (s *Service) stopped(ctx context.Context, epoch uint64) (map[string]uint64, error) {
	ds, err := tables.DeviceScores(ctx, s.conn, "WHERE epoch = ? AND evidence != ''", epoch)
	out := map[string]uint64{}
	for _, d := range ds {
		out[d.Evidence]++
	}
	return out, err
}
