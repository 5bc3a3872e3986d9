package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// VerifyOptions say where an export is and what to check it against.
type VerifyOptions struct {
	Dir string
	// Database opens an empty, migrated database of the verifier's own, for
	// the files' rows, and the func that drops it: the scores are computed
	// by the same SQL the aggregator runs, in the verifier's ClickHouse.
	Database func(ctx context.Context) (driver.Conn, func(), error)
	Chain    settler.ChainRoots // nil: the chain is not asked
	Log      *slog.Logger
	Progress io.Writer // a line per step, with its time; nil: none
}

// Verification is what VerifyExport found.
type Verification struct {
	Manifest   Manifest
	Readings   uint64 // valid readings of the epoch
	Signatures settler.Signatures
	// Attestations: the makers' attestations of the devices paid.
	Attestations Attestations
	Root         common.Hash // recomputed
	Accounts     int
	Total        *big.Int
	Exported     common.Hash  // the root the export's tree and settlement hold
	OnChain      *common.Hash // the root the distributor logged; nil if not asked
	BaseRoot     common.Hash  // the tree the epoch builds on, rebuilt from its values
	// Differences, the most telling first: the files, then the readings,
	// the scores, the money; none when everything agrees.
	Differences []string
}

// VerifyExport checks the export in o.Dir against its manifest, loads it
// into a database of the verifier's own, checks every valid reading's
// signature and that its columns are the signed bytes, and the maker's
// attestation of every device that has one, scores the epoch
// again with the exported policy, rebuilds the tree the epoch builds on from
// its values, pays the epoch's emission by the recomputed scores on top of
// it, and compares the root with the export's and, when o.Chain is set,
// with the chain's (and the base tree's root too).
func VerifyExport(ctx context.Context, o VerifyOptions) (*Verification, error) {
	m, err := ReadManifest(o.Dir)
	if err != nil {
		return nil, err
	}
	v := &Verification{Manifest: m, Total: new(big.Int)}
	step := progress(o.Progress)
	if v.Differences = CheckFiles(o.Dir, m); len(v.Differences) > 0 {
		return v, nil // a file that is not the one published: nothing in it is evidence
	}
	step("every file's sha256 as in the manifest")
	differ := func(format string, args ...any) { v.Differences = append(v.Differences, fmt.Sprintf(format, args...)) }
	scoring, err := aggregator.LoadScoring(filepath.Join(o.Dir, ScoringFile))
	if err != nil {
		return nil, err
	}
	conn, drop, err := o.Database(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: a database for the files: %w", err)
	}
	defer drop()
	step("a database of its own started")
	if err := load(ctx, conn, o.Dir, step); err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, sqlValidReadings, m.Epoch).Scan(&v.Readings); err != nil {
		return nil, err
	}
	if v.Signatures, err = settler.CheckSignatures(ctx, conn, m.Epoch); err != nil {
		return nil, err
	}
	if s := v.Signatures; s.Bad > 0 {
		differ("epoch %d: %d valid readings are not what their devices signed (the first: %s)", m.Epoch, s.Bad, s.FirstBad)
	}
	if s := v.Signatures; s.Unsigned > 0 {
		differ("epoch %d: %d valid readings carry no signed bytes (stored before migration 0014): they cannot be checked", m.Epoch, s.Unsigned)
	}
	step("signatures checked")
	if v.Attestations, err = checkAttestations(ctx, conn, o.Dir, m.Epoch, differ); err != nil {
		return nil, err
	}
	step("attestations checked")
	var scoreDiffs []string
	owners, err := Rescorer(conn, scoring, m.RejectedTopic, &scoreDiffs, o.Log)(ctx, m.Epoch)
	if err != nil {
		return nil, err
	}
	v.Differences = append(v.Differences, scoreDiffs...)
	step("evidence and scores recomputed")
	if err := v.money(ctx, o, owners, differ); err != nil {
		return nil, err
	}
	step("tree rebuilt and compared")
	return v, nil
}

// progress returns a func that writes a step's line to w with the time
// since the previous one (nothing when w is nil).
func progress(w io.Writer) func(format string, args ...any) {
	last := time.Now()
	return func(format string, args ...any) {
		if w == nil {
			return
		}
		fmt.Fprintf(w, "  ... "+format+" (%s)\n", append(args, time.Since(last).Round(time.Millisecond))...)
		last = time.Now()
	}
}

// money pays the epoch's emission by owners on top of the base tree and
// compares the tree with the export's and the chain's.
func (v *Verification) money(ctx context.Context, o VerifyOptions, owners []settler.Score, differ func(string, ...any)) error {
	m := v.Manifest
	settlements, err := readParquet[Settlement](o.Dir, SettlementsFile)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(settlements, func(s Settlement) bool { return s.Epoch == m.Epoch })
	if i < 0 {
		return fmt.Errorf("verify: %s holds no settlement of epoch %d", SettlementsFile, m.Epoch)
	}
	s := settlements[i]
	emission, ok := new(big.Int).SetString(s.Emission, 10)
	if !ok {
		return fmt.Errorf("verify: %s: emission %q is not a number", SettlementsFile, s.Emission)
	}
	before := map[common.Address]*big.Int{}
	if m.BaseEpoch > 0 {
		if before, v.BaseRoot, err = baseTotals(o.Dir); err != nil {
			return err
		}
		if j := slices.IndexFunc(settlements, func(s Settlement) bool { return s.Epoch == m.BaseEpoch }); j < 0 || common.HexToHash(settlements[j].Root) != v.BaseRoot {
			differ("base epoch %d: its tree's values give root %s, not its settlement's", m.BaseEpoch, v.BaseRoot.Hex())
		}
	}
	shares, err := settler.Split(emission, owners)
	if err != nil {
		return fmt.Errorf("verify: epoch %d: %w", m.Epoch, err)
	}
	tree, leaves, err := settler.Cumulate(before, shares)
	if err != nil {
		return err
	}
	v.Root, v.Accounts, v.Exported = tree.Root(), len(leaves), common.HexToHash(s.Root)
	for _, l := range leaves {
		v.Total.Add(v.Total, l.Cumulative)
	}
	if dump, err := readDump(o.Dir, TreeFile); err != nil || len(dump.Tree) == 0 || common.HexToHash(dump.Tree[0]) != v.Exported {
		differ("epoch %d: %s's root is not its settlement's (%s)", m.Epoch, TreeFile, s.Root)
	}
	if v.Root != v.Exported {
		differ("epoch %d: exported root %s, recomputed %s", m.Epoch, v.Exported.Hex(), v.Root.Hex())
	}
	if v.Total.String() != s.Total {
		differ("epoch %d: exported total %s, recomputed %s", m.Epoch, s.Total, v.Total)
	}
	if err := compareLeaves(o.Dir, m.Epoch, leaves, differ); err != nil {
		return err
	}
	if o.Chain == nil {
		return nil
	}
	check := func(epoch uint64, want common.Hash) (*common.Hash, error) {
		root, found, err := o.Chain(ctx, epoch)
		switch {
		case err != nil:
			return nil, err
		case !found:
			differ("epoch %d: no RootProposed event on chain", epoch)
			return nil, nil
		case root != want:
			differ("epoch %d: root on chain %s, recomputed %s", epoch, root.Hex(), want.Hex())
		}
		return &root, nil
	}
	if m.BaseEpoch > 0 {
		if _, err := check(m.BaseEpoch, v.BaseRoot); err != nil {
			return err
		}
	}
	v.OnChain, err = check(m.Epoch, v.Root)
	return err
}

// baseTotals rebuilds the base tree from its values and returns each
// account's cumulative total in it and its root.
func baseTotals(dir string) (map[common.Address]*big.Int, common.Hash, error) {
	dump, err := readDump(dir, BaseTreeFile)
	if err != nil {
		return nil, common.Hash{}, err
	}
	if !slices.Equal(dump.LeafEncoding, merkle.RewardEncoding) {
		return nil, common.Hash{}, fmt.Errorf("verify: %s: leaf encoding %v, a reward tree's is %v", BaseTreeFile, dump.LeafEncoding, merkle.RewardEncoding)
	}
	totals := make(map[common.Address]*big.Int, len(dump.Values))
	rewards := make([]merkle.Reward, 0, len(dump.Values))
	for i, dv := range dump.Values {
		var addr, amount string
		if len(dv.Value) == 2 {
			addr, _ = dv.Value[0].(string)
			amount, _ = dv.Value[1].(string)
		}
		n, ok := new(big.Int).SetString(amount, 10)
		if !common.IsHexAddress(addr) || !ok {
			return nil, common.Hash{}, fmt.Errorf("verify: %s: value %d is not an address and an amount", BaseTreeFile, i)
		}
		totals[common.HexToAddress(addr)] = n
		rewards = append(rewards, merkle.Reward{Account: common.HexToAddress(addr), Amount: n})
	}
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		return nil, common.Hash{}, fmt.Errorf("verify: %s: %w", BaseTreeFile, err)
	}
	return totals, tree.Root(), nil
}

func readDump(dir, name string) (merkle.Dump, error) {
	var d merkle.Dump
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err == nil {
		err = json.Unmarshal(raw, &d)
	}
	if err != nil {
		return d, fmt.Errorf("verify: %s: %w", name, err)
	}
	return d, nil
}

// compareLeaves compares the exported leaves with the recomputed ones.
func compareLeaves(dir string, epoch uint64, leaves []tables.RewardLeaf, differ func(string, ...any)) error {
	exported, err := readParquet[Leaf](dir, LeavesFile)
	if err != nil {
		return err
	}
	want := make(map[common.Address]tables.RewardLeaf, len(leaves))
	for _, l := range leaves {
		want[l.Account] = l
	}
	seen := 0
	for _, e := range exported {
		l, ok := want[common.HexToAddress(e.Account)]
		switch {
		case !ok:
			differ("epoch %d: exported leaf for %s, which the readings do not pay", epoch, e.Account)
		case l.Cumulative.String() != e.Cumulative:
			differ("epoch %d: %s exported cumulative %s, recomputed %s", epoch, e.Account, e.Cumulative, l.Cumulative)
		case l.Amount.String() != e.Amount:
			differ("epoch %d: %s exported amount %s, recomputed %s", epoch, e.Account, e.Amount, l.Amount)
		}
		if ok {
			seen++
		}
	}
	if seen != len(leaves) {
		differ("epoch %d: %d accounts recomputed, %d of them exported", epoch, len(leaves), seen)
	}
	return nil
}
