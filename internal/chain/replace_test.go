package chain_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// anvilSender starts anvil with mining off and returns it with a funded
// sender's key and address and an address to send to.
func anvilSender(t *testing.T) (*ethclient.Client, *ecdsa.PrivateKey, common.Address, common.Address) {
	_, client := testenv.Anvil(t, "--no-mining")
	key, _ := crypto.GenerateKey()
	testenv.Fund(t, client, chain.Address(key))
	return client, key, chain.Address(key), common.HexToAddress("0x00000000000000000000000000000000000000f1")
}

// TestSendReplacing runs on anvil with mining off, so transactions stay in
// the pool until the test mines: a stuck transaction is replaced with higher
// fees, and a sender restarted while its transaction waits replaces it
// instead of queueing a second one. Each time exactly one is mined.
func TestSendReplacing(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, key, from, to := anvilSender(t)
	mine := func() {
		if err := client.Client().CallContext(ctx, nil, "evm_mine"); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		r   *types.Receipt
		err error
	}
	send := func(ctx context.Context, stuckAfter time.Duration) chan result {
		out := make(chan result, 1)
		go func() {
			r, err := chain.SendReplacing(ctx, client, key, to, nil, chain.SendOptions{StuckAfter: stuckAfter})
			out <- result{r, err}
		}()
		return out
	}
	suggested, err := client.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Stuck: nothing is mined, so the sender raises its fees; mined once it
	// has.
	res := send(ctx, 250*time.Millisecond)
	waitPooled(t, ctx, client, from, 0, "the stuck transaction replaced with a higher tip", func(tx *types.Transaction) bool {
		return tx.GasTipCap().Cmp(suggested) > 0
	})
	mine()
	got := <-res
	if got.err != nil {
		t.Fatal(got.err)
	}
	tx, _, err := client.TransactionByHash(ctx, got.r.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	if tx.GasTipCap().Cmp(suggested) <= 0 {
		t.Errorf("the mined transaction tips %s, no more than the suggested %s: it was never replaced", tx.GasTipCap(), suggested)
	}
	if n, _ := client.NonceAt(ctx, from, nil); n != 1 {
		t.Fatalf("%d transactions mined, want 1", n)
	}

	// A crash while the transaction waits in the pool, then a restart.
	crashed, crash := context.WithCancel(ctx)
	res = send(crashed, time.Minute)
	waiting := waitPooled(t, ctx, client, from, 1, "the sender's transaction in the pool", func(*types.Transaction) bool { return true })
	crash()
	if got := <-res; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("crashed sender: %v", got.err)
	}
	if p, _ := client.PendingNonceAt(ctx, from); p != 2 {
		t.Fatalf("the crashed sender's transaction is not waiting in the pool (pending nonce %d)", p)
	}
	res = send(ctx, time.Minute)
	waitPooled(t, ctx, client, from, 1, "the restarted sender's replacement in the pool", func(tx *types.Transaction) bool {
		return tx.Hash() != waiting.Hash()
	})
	mine()
	if got := <-res; got.err != nil {
		t.Fatalf("restarted sender: %v", got.err)
	}
	mine() // a second transaction, had one been queued, would be mined now
	if n, _ := client.NonceAt(ctx, from, nil); n != 2 {
		t.Errorf("%d transactions mined in all, want 2: the restart queued a second one", n)
	}
}

// TestFeeCeiling: a transaction stuck for several rounds has its fees raised
// up to the ceiling and no further, and is still mined once mining resumes;
// a ceiling below the base fee sends nothing.
func TestFeeCeiling(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, key, from, to := anvilSender(t)
	head, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := client.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip) // the first version's fee cap
	ceiling := new(big.Int).Div(new(big.Int).Mul(first, big.NewInt(3)), big.NewInt(2))
	res := make(chan error, 1)
	var got *types.Receipt
	go func() {
		r, err := chain.SendReplacing(ctx, client, key, to, nil, chain.SendOptions{StuckAfter: 250 * time.Millisecond, MaxFeePerGas: ceiling})
		got = r
		res <- err
	}()
	// 1.25^2 < 1.5 < 1.25^3: the third raise meets the ceiling; a sender
	// that passed it would never show the ceiling itself.
	waitPooled(t, ctx, client, from, 0, "the transaction's fee cap raised to the ceiling", func(tx *types.Transaction) bool {
		return tx.GasFeeCap().Cmp(ceiling) >= 0
	})
	if err := client.Client().CallContext(ctx, nil, "evm_mine"); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	tx, _, err := client.TransactionByHash(ctx, got.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	if tx.GasFeeCap().Cmp(ceiling) != 0 {
		t.Errorf("mined fee cap %s, want exactly the ceiling %s (first version %s)", tx.GasFeeCap(), ceiling, first)
	}
	if tx.GasTipCap().Cmp(tx.GasFeeCap()) > 0 {
		t.Errorf("tip %s above the fee cap %s", tx.GasTipCap(), tx.GasFeeCap())
	}

	// A ceiling below the base fee: refused before anything is sent.
	if head, err = client.HeaderByNumber(ctx, nil); err != nil {
		t.Fatal(err)
	}
	low := new(big.Int).Sub(head.BaseFee, big.NewInt(1))
	if _, err := chain.SendReplacing(ctx, client, key, to, nil, chain.SendOptions{StuckAfter: time.Second, MaxFeePerGas: low}); !errors.Is(err, chain.ErrFeeCeiling) {
		t.Fatalf("ceiling below the base fee: %v, want ErrFeeCeiling", err)
	}
	if p, _ := client.PendingNonceAt(ctx, from); p != 1 {
		t.Errorf("pending nonce %d after the refusal, want 1: something was sent", p)
	}
}

// laggingReceipts is a real chain whose node answers "not found" for the
// first receipts asked after the transaction was mined, as anvil under load
// or an RPC behind a load balancer may: a fault the real node does not
// produce on demand.
type laggingReceipts struct {
	*ethclient.Client
	misses int
}

func (l *laggingReceipts) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	if l.misses > 0 {
		l.misses--
		return nil, ethereum.NotFound
	}
	return l.Client.TransactionReceipt(ctx, h)
}

// TestReceiptLaggingTheNonce: a transaction mined at once, whose receipt
// the node serves only after the nonce shows it used, is the sender's own,
// not a nonce taken by another.
func TestReceiptLaggingTheNonce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, client := testenv.Anvil(t) // mines each transaction at once
	key, _ := crypto.GenerateKey()
	testenv.Fund(t, client, chain.Address(key))
	lagging := &laggingReceipts{Client: client, misses: 4}
	r, err := chain.SendReplacing(ctx, lagging, key, common.HexToAddress("0x00000000000000000000000000000000000000f1"), nil, chain.SendOptions{StuckAfter: 10 * time.Second})
	if err != nil || r == nil || r.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("send with receipts lagging: %v %v, want the mined transaction's receipt", r, err)
	}
	if lagging.misses != 0 {
		t.Fatalf("the node was asked for receipts %d times fewer than it withheld", lagging.misses)
	}
}

// waitPooled waits until the transaction from sends at nonce, waiting in
// anvil's pool (txpool_content), satisfies cond, and returns it; the test
// fails saying what it waited for.
func waitPooled(t *testing.T, ctx context.Context, client *ethclient.Client, from common.Address, nonce uint64, what string, cond func(*types.Transaction) bool) *types.Transaction {
	t.Helper()
	var found *types.Transaction
	testenv.WaitFor(t, 30*time.Second, what, func() bool {
		var pool struct {
			Pending map[string]map[string]*types.Transaction `json:"pending"`
		}
		if err := client.Client().CallContext(ctx, &pool, "txpool_content"); err != nil {
			t.Fatalf("txpool_content: %v", err)
		}
		for addr, txs := range pool.Pending {
			if common.HexToAddress(addr) != from {
				continue
			}
			if tx := txs[strconv.FormatUint(nonce, 10)]; tx != nil && cond(tx) {
				found = tx
				return true
			}
		}
		return false
	})
	return found
}
