package roles

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/audit"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/settler"
)

// ErrMismatch means verify-epoch found a difference.
var ErrMismatch = errors.New("verify-epoch: the recomputed epoch differs from what was stored or posted")

// VerifyOptions are verify-epoch's own flags.
type VerifyOptions struct {
	From        string // an export's directory: verify it, not the operator's ClickHouse
	RPC         string // overrides settle.rpc
	Distributor string // overrides settle.distributor
}

// Flags registers the options as verify-epoch's flags.
func (o *VerifyOptions) Flags(fs *flag.FlagSet) {
	fs.StringVar(&o.From, "from", "", "verify an export (fieldmint export --out DIR) from its files alone, in a ClickHouse of your own, instead of the operator's database")
	fs.StringVar(&o.RPC, "rpc", "", "JSON-RPC endpoint of the chain to compare the root with (default settle.rpc)")
	fs.StringVar(&o.Distributor, "distributor", "", "the RewardsDistributor whose RootProposed events hold the roots (default settle.distributor; empty: the chain is not asked)")
}

// RunVerifyEpoch recomputes epoch args[0] from ClickHouse and compares it with
// the stored tree and, when settle.distributor is set, the root on chain.
func RunVerifyEpoch(ctx context.Context, c Config, args []string, out io.Writer, log *slog.Logger) error {
	return RunVerifyEpochWith(ctx, c, VerifyOptions{}, args, out, log)
}

// RunVerifyEpochWith is RunVerifyEpoch with verify-epoch's flags: with
// o.From, the epoch is recomputed from an export's files (RunVerifyExport).
func RunVerifyEpochWith(ctx context.Context, c Config, o VerifyOptions, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) != 1 {
		return errors.New("verify-epoch: give the epoch number, e.g. fieldmint verify-epoch 59851696 (epochs are listed by SELECT epoch FROM settlements_latest)")
	}
	epoch, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("verify-epoch: %q is not an epoch number (a non-negative integer)", args[0])
	}
	if o.RPC != "" {
		c.Settle.RPC = o.RPC
	}
	if o.Distributor != "" {
		c.Settle.Distributor = o.Distributor
	}
	roots, closeChain, err := chainRoots(ctx, c.Settle.RPC, c.Settle.Distributor)
	if err != nil {
		return err
	}
	defer closeChain()
	if o.From != "" {
		return RunVerifyExport(ctx, c, epoch, o.From, roots, out, log)
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The scores too are recomputed from the readings with the aggregator's
	// policy, and compared with the stored device_scores rows.
	scoring, err := aggregator.LoadScoring(c.Aggregate.ScoringFile)
	if err != nil {
		return err
	}
	var scoreDiffs []string
	rescore := audit.Rescorer(conn, scoring, c.Kafka.Topics().Rejected, &scoreDiffs, log)
	v, err := settler.VerifyEpochWith(ctx, conn, epoch, roots, rescore, log)
	if err != nil {
		return err
	}
	v.Differences = append(scoreDiffs, v.Differences...)
	fmt.Fprintf(out, "epoch %d: recomputed from %d valid readings; %d settled epochs replayed (%d..%d)\n",
		epoch, v.Readings, len(v.Chain), v.Chain[0], v.Chain[len(v.Chain)-1])
	fmt.Fprintf(out, "  recomputed root %s  accounts %d  total %s\n", v.Root.Hex(), v.Accounts, v.Total)
	fmt.Fprintf(out, "  stored root     %s\n", v.Stored.Hex())
	s := v.Signatures
	fmt.Fprintf(out, "  signatures      %d verified from the stored bytes, %d bad", s.Verified, s.Bad)
	if s.Unsigned > 0 {
		fmt.Fprintf(out, ", %d stored before readings kept them", s.Unsigned)
	}
	if s.Trusted > 0 {
		fmt.Fprintf(out, ", %d unsigned LoRaWAN uplinks trusted by their network server", s.Trusted)
	}
	fmt.Fprintln(out)
	if v.OnChain != nil {
		fmt.Fprintf(out, "  root on chain   %s\n", v.OnChain.Hex())
	} else if roots == nil {
		fmt.Fprintln(out, "  root on chain   not checked (settle.distributor is empty)")
	}
	if len(v.Differences) > 0 {
		return mismatch(out, v.Differences)
	}
	fmt.Fprintln(out, "ok: the readings and their signatures, the stored device scores, tree and leaves, and the chain agree")
	return nil
}

// chainRoots reads the roots a distributor logged, over rpc; nil when
// distributor is empty.
func chainRoots(ctx context.Context, rpc, distributor string) (settler.ChainRoots, func(), error) {
	if distributor == "" {
		return nil, func() {}, nil
	}
	if !common.IsHexAddress(distributor) {
		return nil, nil, errors.New("verify-epoch: --distributor (settle.distributor) must be a contract address (or empty to skip the chain)")
	}
	client, err := ethclient.DialContext(ctx, rpc)
	if err != nil {
		return nil, nil, fmt.Errorf("verify-epoch: dial %s: %w", rpc, err)
	}
	return settler.RootsFromLogs(client, common.HexToAddress(distributor)), client.Close, nil
}

// mismatch prints the first of diffs and how many there are, and returns
// ErrMismatch.
func mismatch(out io.Writer, diffs []string) error {
	fmt.Fprintf(out, "first difference: %s\n", diffs[0])
	if len(diffs) > 1 {
		fmt.Fprintf(out, "(%d differences in all)\n", len(diffs))
	}
	return ErrMismatch
}
