package dev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
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
	v, err := settler.VerifyEpoch(ctx, conn, epoch, roots, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "epoch %d: recomputed from %d valid readings; %d settled epochs replayed (%d..%d)\n",
		epoch, v.Readings, len(v.Chain), v.Chain[0], v.Chain[len(v.Chain)-1])
	fmt.Fprintf(out, "  recomputed root %s  accounts %d  total %s\n", v.Root.Hex(), v.Accounts, v.Total)
	fmt.Fprintf(out, "  stored root     %s\n", v.Stored.Hex())
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
	fmt.Fprintln(out, "ok: the readings, the stored tree and leaves, and the chain agree")
	return nil
}
