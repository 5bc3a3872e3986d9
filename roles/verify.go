package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
)

// ErrMismatch means verify-epoch found a difference.
var ErrMismatch = errors.New("verify-epoch: the recomputed epoch differs from what was stored or posted")

// RunVerifyEpoch recomputes epoch args[0] from ClickHouse and compares it with
// the stored tree and, when settle.distributor is set, the root on chain.
func RunVerifyEpoch(ctx context.Context, c Config, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) != 1 {
		return errors.New("verify-epoch: give the epoch number, e.g. fieldmint verify-epoch 59851696 (epochs are listed by SELECT epoch FROM settlements_latest)")
	}
	epoch, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("verify-epoch: %q is not an epoch number (a non-negative integer)", args[0])
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	var roots settler.ChainRoots
	if c.Settle.Distributor != "" {
		if !common.IsHexAddress(c.Settle.Distributor) {
			return errors.New("verify-epoch: settle.distributor must be a contract address (or empty to skip the chain)")
		}
		client, err := ethclient.DialContext(ctx, c.Settle.RPC)
		if err != nil {
			return fmt.Errorf("verify-epoch: dial %s: %w", c.Settle.RPC, err)
		}
		defer client.Close()
		roots = settler.RootsFromLogs(client, common.HexToAddress(c.Settle.Distributor))
	}
	// The scores too are recomputed from the readings with the aggregator's
	// policy, and compared with the stored device_scores rows.
	scoring, err := aggregator.LoadScoring(c.Aggregate.ScoringFile)
	if err != nil {
		return err
	}
	var scoreDiffs []string
	rescore := func(ctx context.Context, e uint64) ([]settler.Score, error) {
		cut, found, err := aggregator.RecordedCut(ctx, conn, e)
		if err != nil {
			return nil, err
		}
		if !found {
			scoreDiffs = append(scoreDiffs, fmt.Sprintf("epoch %d: no recorded cut of the rejected topic (epoch_cuts): scored before scores counted fraud", e))
		}
		// The epoch's length as it was closed, whatever aggregate.epochLength says now.
		var start, end time.Time
		if err := conn.QueryRow(ctx, "SELECT start_time, end_time FROM epochs FINAL WHERE epoch = ?", e).Scan(&start, &end); err != nil {
			return nil, fmt.Errorf("verify-epoch: epoch %d is not closed: %w", e, err)
		}
		// The information checks run again over the epoch's evidence window,
		// and must find what the aggregator stored.
		findings, stop, err := aggregator.Evidence(ctx, conn, scoring, end.Sub(start), e)
		if err != nil {
			return nil, err
		}
		evDiffs, err := compareEvidence(ctx, conn, e, findings)
		if err != nil {
			return nil, err
		}
		scoreDiffs = append(scoreDiffs, evDiffs...)
		ds, err := aggregator.ScoreEpoch(ctx, conn, scoring, end.Sub(start), e, c.Kafka.Topics().Rejected, cut, stop)
		if err != nil {
			return nil, err
		}
		diffs, err := compareScores(ctx, conn, e, ds)
		if err != nil {
			return nil, err
		}
		scoreDiffs = append(scoreDiffs, diffs...)
		return settler.OwnerScores(ds2scores(ds), log), nil
	}
	v, err := settler.VerifyEpochWith(ctx, conn, epoch, roots, rescore, log)
	if err != nil {
		return err
	}
	v.Differences = append(scoreDiffs, v.Differences...)
	fmt.Fprintf(out, "epoch %d: recomputed from %d valid readings; %d settled epochs replayed (%d..%d)\n",
		epoch, v.Readings, len(v.Chain), v.Chain[0], v.Chain[len(v.Chain)-1])
	fmt.Fprintf(out, "  recomputed root %s  accounts %d  total %s\n", v.Root.Hex(), v.Accounts, v.Total)
	fmt.Fprintf(out, "  stored root     %s\n", v.Stored.Hex())
	if s := v.Signatures; s.Unsigned > 0 {
		fmt.Fprintf(out, "  signatures      %d verified from the stored bytes, %d bad, %d stored before readings kept them\n", s.Verified, s.Bad, s.Unsigned)
	} else {
		fmt.Fprintf(out, "  signatures      %d verified from the stored bytes, %d bad\n", s.Verified, s.Bad)
	}
	if v.OnChain != nil {
		fmt.Fprintf(out, "  root on chain   %s\n", v.OnChain.Hex())
	} else if roots == nil {
		fmt.Fprintln(out, "  root on chain   not checked (settle.distributor is empty)")
	}
	if len(v.Differences) > 0 {
		fmt.Fprintf(out, "first difference: %s\n", v.Differences[0])
		if len(v.Differences) > 1 {
			fmt.Fprintf(out, "(%d differences in all)\n", len(v.Differences))
		}
		return ErrMismatch
	}
	fmt.Fprintln(out, "ok: the readings and their signatures, the stored device scores, tree and leaves, and the chain agree")
	return nil
}

func ds2scores(ds []aggregator.DeviceScore) []tables.OwnerScore {
	out := make([]tables.OwnerScore, len(ds))
	for i, d := range ds {
		out[i] = tables.OwnerScore{Owner: d.Owner, Score: d.Score}
	}
	return out
}

// compareEvidence compares the stored stream_evidence of epoch with the
// findings recomputed from the readings.
func compareEvidence(ctx context.Context, conn driver.Conn, epoch uint64, findings []aggregator.Finding) ([]string, error) {
	stored, err := aggregator.StoredEvidence(ctx, conn, epoch)
	if err != nil {
		return nil, err
	}
	key := func(f aggregator.Finding) string { return f.Device + " " + f.Reason }
	byKey := map[string]aggregator.Finding{}
	for _, f := range stored {
		byKey[key(f)] = f
	}
	var diffs []string
	for _, f := range findings {
		s, ok := byKey[key(f)]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s: %s recomputed (%+v) but not stored", epoch, f.Device, f.Reason, f))
		case s != f:
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s: %s stored %+v, recomputed %+v", epoch, f.Device, f.Reason, s, f))
		}
		delete(byKey, key(f))
	}
	for _, s := range stored {
		if _, left := byKey[key(s)]; left {
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s: %s stored (%+v) but its readings do not give it", epoch, s.Device, s.Reason, s))
		}
	}
	return diffs, nil
}

// compareScores compares the stored device_scores of epoch with ds.
func compareScores(ctx context.Context, conn driver.Conn, epoch uint64, ds []aggregator.DeviceScore) ([]string, error) {
	rows, err := tables.DeviceScores(ctx, conn, "WHERE epoch = ?", epoch)
	if err != nil {
		return nil, err
	}
	stored := map[string]aggregator.DeviceScore{}
	for _, d := range rows {
		stored[d.DeviceID] = aggregator.DeviceScore{DeviceScore: d}
	}
	var diffs []string
	for _, d := range ds {
		if s, ok := stored[d.DeviceID]; !ok {
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s scores %d by its readings, but has no stored score", epoch, d.DeviceID, d.Score))
		} else if !s.Same(d) {
			diffs = append(diffs, fmt.Sprintf("epoch %d: device %s stored %+v, recomputed %+v", epoch, d.DeviceID, s, d))
		}
		delete(stored, d.DeviceID)
	}
	for id, s := range stored {
		diffs = append(diffs, fmt.Sprintf("epoch %d: device %s has a stored score (%d) that its readings do not give", epoch, id, s.Score))
	}
	return diffs, nil
}
