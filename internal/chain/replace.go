package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// ErrNonceTaken means another transaction of the sender was mined with the
// nonce this one used (one sent before a crash, say): the caller should read
// the chain again before deciding whether anything is left to send.
var ErrNonceTaken = errors.New("chain: another transaction of the sender was mined with this nonce")

// receiptGrace is how long a receipt may lag its nonce.
const receiptGrace = 2 * time.Second

// SendOptions tune SendReplacing.
type SendOptions struct {
	// StuckAfter is how long a version may wait unmined before it is sent
	// again with fees raised by a quarter.
	StuckAfter time.Duration
	// MaxFeePerGas caps the fee cap (wei per gas) of every version, and so
	// what one transaction may cost: raises stop there, and a network whose
	// base fee is above it gets a transaction that waits until the fee
	// falls. nil: no ceiling.
	MaxFeePerGas *big.Int
}

// ErrFeeCeiling is wrapped into an error of SendReplacing when the fee
// ceiling is below what the network asks right now, so nothing is sent.
var ErrFeeCeiling = errors.New("chain: the fee ceiling is below the base fee")

// SendReplacing sends data to contract `to` from key and waits until it is
// mined, without ever leaving two transactions queued for one purpose:
//
//   - it takes the nonce after the last *mined* transaction, so a
//     transaction of ours still waiting in the pool (sent before a crash) is
//     replaced rather than followed by a second one; it then starts at twice
//     the suggested fees, to outbid what it replaces;
//   - every o.StuckAfter without a receipt it sends the same transaction
//     again with fees raised by a quarter (nodes want at least a tenth
//     more), never above o.MaxFeePerGas: at the ceiling it keeps waiting;
//   - it returns the receipt of whichever of its versions was mined.
func SendReplacing(ctx context.Context, client Backend, key *ecdsa.PrivateKey, to common.Address, data []byte, o SendOptions) (*types.Receipt, error) {
	from := Address(key)
	chainID, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("chain id: %w", err)
	}
	nonce, err := client.NonceAt(ctx, from, nil)
	if err != nil {
		return nil, err
	}
	pending, err := client.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, err
	}
	gas, err := client.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &to, Data: data})
	if err != nil {
		return nil, err // a call that would revert: nothing sent
	}
	tip, err := client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, err
	}
	head, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, err
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	if pending > nonce {
		tip, feeCap = scale(tip, 2, 1), scale(feeCap, 2, 1)
	}
	ceiling := o.MaxFeePerGas
	if ceiling != nil {
		if ceiling.Cmp(head.BaseFee) < 0 {
			return nil, fmt.Errorf("%w: base fee %s wei, ceiling %s wei", ErrFeeCeiling, head.BaseFee, ceiling)
		}
		tip, feeCap = capFees(tip, feeCap, ceiling)
	}
	signer := types.LatestSignerForChainID(chainID)
	var sent []common.Hash
	for resend := true; ; {
		if resend {
			tx, err := types.SignNewTx(key, signer, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
				Gas: gas + gas/5, To: &to, Data: data})
			if err != nil {
				return nil, err
			}
			switch err := client.SendTransaction(ctx, tx); {
			case err == nil:
				sent = append(sent, tx.Hash())
			case strings.Contains(err.Error(), "underpriced"):
				// Something of ours with this nonce pays more: outbid it next round.
			case strings.Contains(err.Error(), "nonce too low"):
				if r := minedOf(ctx, client, sent); r != nil {
					return r, nil
				}
				return nil, ErrNonceTaken
			default:
				return nil, fmt.Errorf("send: %w", err)
			}
		}
		deadline := time.Now().Add(o.StuckAfter)
		var movedAt time.Time // when the nonce was first seen used
		for time.Now().Before(deadline) {
			mined, err := client.NonceAt(ctx, from, nil)
			if r := minedOf(ctx, client, sent); r != nil {
				if r.Status != types.ReceiptStatusSuccessful {
					return r, fmt.Errorf("transaction %s reverted", r.TxHash.Hex())
				}
				return r, nil
			}
			if err == nil && mined > nonce {
				// Checked after the nonce: none of ours was mined, or a node
				// shows the nonce used before it serves the receipt (anvil
				// under load, nodes behind a load balancer). Ours gets
				// receiptGrace to appear before the nonce is called taken.
				if movedAt.IsZero() {
					movedAt = time.Now()
				} else if time.Since(movedAt) >= receiptGrace {
					return nil, ErrNonceTaken
				}
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if resend = ceiling == nil || feeCap.Cmp(ceiling) < 0; !resend {
			continue // at the ceiling: the version sent stays, and we keep waiting
		}
		tip, feeCap = scale(tip, 5, 4), scale(feeCap, 5, 4)
		if ceiling != nil {
			tip, feeCap = capFees(tip, feeCap, ceiling)
		}
	}
}

// capFees lowers the fee cap to ceiling, and the tip to the fee cap.
func capFees(tip, feeCap, ceiling *big.Int) (*big.Int, *big.Int) {
	if feeCap.Cmp(ceiling) > 0 {
		feeCap = new(big.Int).Set(ceiling)
	}
	if tip.Cmp(feeCap) > 0 {
		tip = new(big.Int).Set(feeCap)
	}
	return tip, feeCap
}

// minedOf returns the receipt of whichever of hashes was mined, or nil.
func minedOf(ctx context.Context, client Backend, hashes []common.Hash) *types.Receipt {
	for _, h := range hashes {
		if r, err := client.TransactionReceipt(ctx, h); err == nil {
			return r
		}
	}
	return nil
}

// scale returns v*num/den, at least v+1 so that a raise is a raise.
func scale(v *big.Int, num, den int64) *big.Int {
	out := new(big.Int).Div(new(big.Int).Mul(v, big.NewInt(num)), big.NewInt(den))
	if out.Cmp(v) <= 0 {
		out.Add(v, big.NewInt(1))
	}
	return out
}

// RevertData returns the revert data an error of a call or gas estimate
// carries (JSON-RPC error data), if any.
func RevertData(err error) ([]byte, bool) {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil, false
	}
	switch d := de.ErrorData().(type) {
	case string:
		b, err := hexutil.Decode(d)
		return b, err == nil && len(b) >= 4
	case []byte:
		return d, len(d) >= 4
	}
	return nil, false
}
