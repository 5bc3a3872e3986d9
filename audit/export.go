// Package audit is the public dataset of an epoch: `fieldmint export`
// writes everything the epoch's rewards were computed from (its readings
// with their signed bytes, the decisions, the scores, the cut, the devices,
// the policy, the tree and the tree it builds on) as Parquet and JSON files
// with a manifest of their hashes; `fieldmint verify-epoch --from` checks
// them and recomputes the scores and the root from them alone, in a
// database of its own, and compares the root with the chain.
package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/parquet-go/parquet-go"

	"github.com/fieldmint/fieldmint/aggregator"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// ExportOptions say what to export and where.
type ExportOptions struct {
	Epoch         uint64
	Out           string // a directory: created, and must hold no export already
	Scoring       aggregator.Scoring
	RejectedTopic string
	Makers        []*pb.Maker // the registry's makers (the makers topic)
	Progress      io.Writer   // a line per file; nil: none
}

// Export writes epoch's dataset to o.Out and returns its manifest. The
// epoch must be settled (its tree computed); every file is written in a
// fixed order, so the same epoch exported twice gives the same bytes.
func Export(ctx context.Context, conn driver.Conn, o ExportOptions) (Manifest, error) {
	m := Manifest{Format: Format, Epoch: o.Epoch, RejectedTopic: o.RejectedTopic}
	s, ok, err := tables.SettlementOf(ctx, conn, o.Epoch)
	if err != nil {
		return m, fmt.Errorf("export: %w", err)
	}
	tree, hasTree, err := tables.TreeOf(ctx, conn, o.Epoch)
	if err != nil {
		return m, fmt.Errorf("export: %w", err)
	}
	if !ok || !hasTree {
		return m, fmt.Errorf("export: epoch %d has no computed settlement yet (SELECT epoch, status FROM settlements_latest lists them)", o.Epoch)
	}
	var lengthMs int64
	if err := conn.QueryRow(ctx, sqlEpochLength, o.Epoch).Scan(&lengthMs); err != nil || lengthMs <= 0 {
		return m, fmt.Errorf("export: epoch %d is not closed (epochs): %v", o.Epoch, err)
	}
	m.FirstEpoch, m.LastEpoch = window(o.Scoring, lengthMs, o.Epoch)
	if m.BaseEpoch, err = tables.BuildsOn(ctx, conn, o.Epoch); err != nil {
		return m, fmt.Errorf("export: %w", err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return m, fmt.Errorf("export: %w", err)
	}
	if _, err := os.Stat(filepath.Join(o.Out, ManifestFile)); err == nil {
		return m, fmt.Errorf("export: %s already holds an export (%s); give an empty directory", o.Out, ManifestFile)
	}
	add := func(f File, err error) error {
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		m.Files = append(m.Files, f)
		if o.Progress != nil {
			rows := fmt.Sprintf("%9d rows", f.Rows)
			if filepath.Ext(f.Name) != ".parquet" {
				rows = fmt.Sprintf("%14s", "")
			}
			fmt.Fprintf(o.Progress, "  %-24s %s %11d bytes  sha256 %s\n", f.Name, rows, f.Bytes, f.SHA256[:16])
		}
		return nil
	}
	first, last := m.FirstEpoch, m.LastEpoch
	steps := []func() error{
		func() error {
			return add(exportQuery[Reading](ctx, conn, o.Out, ReadingsFile, sqlReadings, first, last))
		},
		func() error { return add(exportQuery[Device](ctx, conn, o.Out, DevicesFile, sqlDevices, first, last)) },
		func() error { return add(writeParquet(o.Out, MakersFile, makerRows(o.Makers))) },
		func() error { return add(exportQuery[Score](ctx, conn, o.Out, ScoresFile, sqlScores, o.Epoch)) },
		func() error { return add(exportQuery[Evidence](ctx, conn, o.Out, EvidenceFile, sqlEvidence, o.Epoch)) },
		func() error { return add(exportQuery[Epoch](ctx, conn, o.Out, EpochsFile, sqlEpochs, first, last)) },
		func() error { return add(exportQuery[Cut](ctx, conn, o.Out, CutFile, sqlCut, o.Epoch)) },
		func() error { return exportSettlements(ctx, conn, o.Out, s, m.BaseEpoch, add) },
		func() error { return exportLeaves(ctx, conn, o.Out, o.Epoch, add) },
		func() error { return add(writeFile(o.Out, TreeFile, []byte(tree))) },
		func() error {
			policy, err := o.Scoring.File()
			if err != nil {
				return fmt.Errorf("export: the scoring policy: %w", err)
			}
			return add(writeFile(o.Out, ScoringFile, policy))
		},
	}
	if m.BaseEpoch > 0 {
		steps = append(steps, func() error {
			base, ok, err := tables.TreeOf(ctx, conn, m.BaseEpoch)
			if err == nil && !ok {
				err = fmt.Errorf("epoch %d builds on epoch %d, which has no tree", o.Epoch, m.BaseEpoch)
			}
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			return add(writeFile(o.Out, BaseTreeFile, []byte(base)))
		})
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return m, err
		}
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	return m, os.WriteFile(filepath.Join(o.Out, ManifestFile), append(raw, '\n'), 0o644)
}

// window returns the epochs whose readings epoch's scores read: its
// evidence window, the epoch before it (the beacons its witnesses heard),
// and the probation before it and hold after it (fraud-class rejections).
func window(s aggregator.Scoring, lengthMs int64, epoch uint64) (first, last uint64) {
	first, last = epoch-min(epoch, max(s.Probation, 1)), epoch+s.Hold
	if s.Information.On() {
		from, to := s.Window(durationMs(lengthMs), epoch)
		first, last = min(first, uint64(max(from, 0)/lengthMs)), max(last, uint64((to-1)/lengthMs))
	}
	return first, last
}

// exportQuery writes the rows of query to dir/name, a block at a time.
func exportQuery[T any](ctx context.Context, conn driver.Conn, dir, name, query string, args ...any) (File, error) {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	return streamParquet(dir, name, func(w *parquet.GenericWriter[T]) (int64, error) {
		const block = 8192
		buf := make([]T, 0, block)
		var total int64
		flush := func() error {
			_, err := w.Write(buf)
			total, buf = total+int64(len(buf)), buf[:0]
			return err
		}
		for rows.Next() {
			var r T
			if err := rows.ScanStruct(&r); err != nil {
				return total, err
			}
			if buf = append(buf, r); len(buf) == block {
				if err := flush(); err != nil {
					return total, err
				}
			}
		}
		return total, errors.Join(rows.Err(), flush())
	})
}

func makerRows(makers []*pb.Maker) []Maker {
	rows := make([]Maker, len(makers))
	for i, m := range makers {
		rows[i] = Maker{MakerID: m.MakerId, PublicKey: hex.EncodeToString(m.PublicKey), Name: m.Name, Active: m.Active, LastChangeMs: m.LastChangeMs}
	}
	slices.SortFunc(rows, func(a, b Maker) int { return strings.Compare(a.MakerID, b.MakerID) })
	return rows
}

// exportSettlements writes the epoch's settlement and its base's.
func exportSettlements(ctx context.Context, conn driver.Conn, dir string, s tables.Settlement, base uint64, add func(File, error) error) error {
	rows := []Settlement{settlementRow(s)}
	if base > 0 {
		b, ok, err := tables.SettlementOf(ctx, conn, base)
		if err != nil || !ok {
			return fmt.Errorf("export: the settlement of epoch %d, which %d builds on: %v", base, s.Epoch, err)
		}
		rows = append([]Settlement{settlementRow(b)}, rows...)
	}
	return add(writeParquet(dir, SettlementsFile, rows))
}

func settlementRow(s tables.Settlement) Settlement {
	tx := ""
	if s.Tx != ([32]byte{}) {
		tx = s.Tx.Hex()
	}
	return Settlement{Epoch: s.Epoch, Root: s.Root.Hex(), Total: s.Total.String(), Emission: s.Emission.String(), Accounts: s.Accounts,
		State: string(s.State), TxHash: tx, Block: s.Block}
}

// exportLeaves writes the epoch's stored leaves, in account order.
func exportLeaves(ctx context.Context, conn driver.Conn, dir string, epoch uint64, add func(File, error) error) error {
	stored, err := tables.LeavesOf(ctx, conn, epoch)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	rows := make([]Leaf, len(stored))
	for i, l := range stored {
		rows[i] = Leaf{Account: l.Account.Hex(), Score: l.Score, Amount: l.Amount.String(), Cumulative: l.Cumulative.String()}
	}
	return add(writeParquet(dir, LeavesFile, rows))
}
