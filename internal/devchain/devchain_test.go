package devchain

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

const childEnv = "FIELDMINT_DEVCHAIN_CHILD"

var (
	funder, _ = crypto.ToECDSA(crypto.Keccak256([]byte("fieldmint-devchain-test")))
	payee     = common.HexToAddress("0x00000000000000000000000000000000000000e1")
)

func alloc() map[common.Address]*big.Int {
	return map[common.Address]*big.Int{crypto.PubkeyToAddress(funder.PublicKey): new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)}
}

// TestMain lets the test binary be the child that TestSurvivesKill9 kills:
// it starts a chain in the given directory, pays payee, then seals empty
// blocks, printing each, until it is killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		c, err := Start(Options{DataDir: dir, Alloc: alloc(), EmptyBlocks: time.Hour})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if _, err := pay(c, 3); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		// Then empty blocks, each announced once sealed, until killed.
		client, _ := c.Client(context.Background())
		for {
			c.Commit()
			h, err := client.HeaderByNumber(context.Background(), nil)
			if err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			fmt.Println("sealed", h.Number)
			time.Sleep(200 * time.Millisecond)
		}
	}
	os.Exit(m.Run())
}

// pay sends n payments of 1 wei to payee, each sealed in a block, and
// returns the last block.
func pay(c *Chain, n int) (uint64, error) {
	ctx := context.Background()
	client, err := c.Client(ctx)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	var last uint64
	for i := 0; i < n; i++ {
		if last, err = send(ctx, client, funder, payee); err != nil {
			return 0, err
		}
	}
	return last, nil
}

func send(ctx context.Context, client interface {
	PendingNonceAt(context.Context, common.Address) (uint64, error)
	HeaderByNumber(context.Context, *big.Int) (*types.Header, error)
	SendTransaction(context.Context, *types.Transaction) error
	TransactionReceipt(context.Context, common.Hash) (*types.Receipt, error)
}, key *ecdsa.PrivateKey, to common.Address) (uint64, error) {
	nonce, err := client.PendingNonceAt(ctx, crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		return 0, err
	}
	head, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, err
	}
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9))
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(ChainID), &types.DynamicFeeTx{ChainID: ChainID, Nonce: nonce,
		GasTipCap: big.NewInt(1e9), GasFeeCap: fee, Gas: 21_000, To: &to, Value: big.NewInt(1)})
	if err != nil {
		return 0, err
	}
	if err := client.SendTransaction(ctx, tx); err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r, err := client.TransactionReceipt(ctx, tx.Hash()); err == nil {
			return r.BlockNumber.Uint64(), nil
		}
	}
	return 0, fmt.Errorf("payment %s never mined", tx.Hash().Hex())
}

// TestSurvivesKill9: a dev chain killed with SIGKILL right after sealing
// comes back at the block it had reached, with the payments in it (before
// the database was synced after each block, it came back at an older block
// or at genesis).
func TestSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var block uint64
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "sealed %d", &block); err != nil {
			t.Logf("child: %s", sc.Text())
		}
		if block >= 12 {
			break
		}
	}
	if block < 12 {
		t.Fatal("the child chain never sealed 12 blocks")
	}
	cmd.Process.Kill() // SIGKILL: no close, no flush
	cmd.Wait()

	c, err := Start(Options{DataDir: dir, Alloc: alloc(), EmptyBlocks: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	client, err := c.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	head, err := client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	bal, err := client.BalanceAt(context.Background(), payee, nil)
	if err != nil {
		t.Fatal(err)
	}
	if head.Number.Uint64() < block || bal.Int64() != 3 {
		t.Fatalf("after kill -9 the chain is at block %d with the payee holding %s wei; it had sealed block %d with 3 wei paid", head.Number, bal, block)
	}
	// And it goes on from there.
	if next, err := pay(c, 1); err != nil || next <= block {
		t.Fatalf("after the restart a payment landed in block %d (%v), want after %d", next, err, block)
	}
}
