package settler_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// mining commits a block of the simulated chain every few milliseconds until
// the returned stop is called, so that code waiting for receipts proceeds.
func mining(sim *simulated.Backend) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				sim.Commit()
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// simulatedChain starts go-ethereum's simulated chain (closed with the test)
// with a funded deployer and poster.
func simulatedChain(t *testing.T) (*simulated.Backend, simulated.Client, *ecdsa.PrivateKey, *ecdsa.PrivateKey) {
	deployer, _ := crypto.GenerateKey()
	poster, _ := crypto.GenerateKey()
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil)
	sim := simulated.NewBackend(types.GenesisAlloc{chain.Address(deployer): {Balance: eth}, chain.Address(poster): {Balance: eth}})
	t.Cleanup(func() { sim.Close() })
	return sim, sim.Client(), deployer, poster
}

// TestReorgThatDropsTheRootLeadsToARepost posts a root on go-ethereum's
// simulated chain, forks the chain below it so that the root's transaction
// is gone (its nonce taken on the new branch), and checks that the event
// index notices (the proposal is undone, the epoch computed again), the
// settler proposes the root again, and records it final only after
// cfg.Confirmations blocks.
func TestReorgThatDropsTheRootLeadsToARepost(t *testing.T) {
	ctx := context.Background()
	sim, client, deployer, poster := simulatedChain(t)
	stop := mining(sim)
	defer func() { stop() }()
	// 200 confirmations: 4 s of blocks at 20 ms, longer than a settler step
	// takes on a loaded machine (20 were mined before the test looked once).
	e := settlertest.Deploy(t, client, deployer, poster, 0, func(c *settler.Config) { c.Confirmations = 200 })
	conn := e.Conn
	e.Scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	first := e.Settle(t, 10)
	stop()

	state := func() (status, tx string) {
		if err := conn.QueryRow(ctx, "SELECT status, tx_hash FROM settlements_latest WHERE epoch = 10").Scan(&status, &tx); err != nil {
			t.Fatal(err)
		}
		return status, tx
	}
	e.Step(t)
	if status, tx := state(); status != "active" || tx != first.Tx.Hex() {
		t.Fatalf("status %s (tx %s) right after posting, want active by %s (not yet %d confirmations)", status, tx, first.Tx.Hex(), e.Config.Confirmations)
	}

	// The reorg: a branch from the root's parent block on which the poster's
	// nonce went to another transaction, longer than the old branch.
	rootTx, _, err := client.TransactionByHash(ctx, first.Tx)
	if err != nil {
		t.Fatal(err)
	}
	block, err := client.HeaderByNumber(ctx, new(big.Int).SetUint64(first.Block))
	if err != nil {
		t.Fatal(err)
	}
	head, _ := client.HeaderByNumber(ctx, nil)
	if err := sim.Fork(block.ParentHash); err != nil {
		t.Fatal(err)
	}
	id, _ := client.ChainID(ctx)
	conflict, _ := types.SignNewTx(poster, types.LatestSignerForChainID(id), &types.DynamicFeeTx{ChainID: id, Nonce: rootTx.Nonce(),
		GasTipCap: new(big.Int).Mul(rootTx.GasTipCap(), big.NewInt(3)), GasFeeCap: new(big.Int).Mul(rootTx.GasFeeCap(), big.NewInt(3)),
		Gas: 21_000, To: &common.Address{}, Value: big.NewInt(0)})
	// The transaction pool moves to the fork's head on an event of its own,
	// after Fork returns: until then it judges by the old head, where the
	// nonce is spent ("nonce too low", on a loaded machine).
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, func() error { return client.SendTransaction(ctx, conflict) })
	for n := head.Number.Uint64() - block.Number.Uint64() + 2; n > 0; n-- {
		sim.Commit()
	}
	if _, err := client.TransactionReceipt(ctx, first.Tx); err == nil {
		t.Fatal("the reorg did not drop the root's transaction")
	}
	d := distributor.NewRewardsDistributor()
	if ep, err := bind.Call(d.Instance(client, e.Contracts.Distributor), nil, d.PackEpoch(), d.UnpackEpoch); err != nil || ep != 0 {
		t.Fatalf("after the reorg the distributor is at epoch %d (%v), want 0", ep, err)
	}
	var live uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM chain_events FINAL WHERE removed = 0 AND tx_hash = ?", first.Tx.Hex()).Scan(&live); err != nil || live != 0 {
		t.Logf("before the next step the index still holds the dropped events (%d): expected", live)
	}

	// The settler sees the proposal undone and posts the root again, then
	// waits for confirmations.
	stop = mining(sim)
	var reposted bool
	for _, s := range e.Step(t) {
		reposted = reposted || s.Epoch == 10 && s.State == tables.Active && s.Tx != first.Tx
	}
	status, tx := state()
	if !reposted || status != "active" || tx == first.Tx.Hex() || tx == "" {
		t.Fatalf("after the reorg: status %s, tx %s (first %s), reposted %v; want active again with a new transaction", status, tx, first.Tx.Hex(), reposted)
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM chain_events FINAL WHERE removed = 0 AND tx_hash = ?", first.Tx.Hex()).Scan(&live); err != nil || live != 0 {
		t.Fatalf("the dropped transaction's events are still indexed (%d, %v)", live, err)
	}
	if root, err := bind.Call(d.Instance(client, e.Contracts.Distributor), nil, d.PackRoot(), d.UnpackRoot); err != nil || common.Hash(root) != first.Root {
		t.Fatalf("root on chain %x (%v), want %s", root, err, first.Root.Hex())
	}
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, func() error {
		e.Step(t)
		if status, _ := state(); status != "final" {
			return errors.New("the re-posted root never became final")
		}
		return nil
	})
	if _, final := state(); final != tx {
		t.Fatalf("final with tx %s, want the re-post %s", final, tx)
	}
}

// TestChainResetParks: a chain that comes back without a root the settler
// saw final (a dev chain reset, a wrong endpoint) parks the epoch with the
// reason instead of re-posting into a contract that is not there.
func TestChainResetParks(t *testing.T) {
	ctx := context.Background()
	sim, client, deployer, poster := simulatedChain(t)
	genesis, err := client.HeaderByNumber(ctx, big.NewInt(0))
	if err != nil {
		t.Fatal(err)
	}
	stop := mining(sim)
	defer func() { stop() }()
	e := settlertest.Deploy(t, client, deployer, poster, 0, func(c *settler.Config) { c.Confirmations = 2 })
	e.Scores(t, 10, map[string]uint64{alice: 1})
	e.Settle(t, 10)
	e.StepUntil(t, 10, tables.Final)
	stop()
	head, _ := client.HeaderByNumber(ctx, nil)
	if err := sim.Fork(genesis.Hash()); err != nil {
		t.Fatal(err)
	}
	for n := head.Number.Uint64() + 2; n > 0; n-- {
		sim.Commit()
	}
	nonce, _ := client.NonceAt(ctx, chain.Address(poster), nil)
	e.Step(t)
	st := e.Settlement(t, 10)
	if st.State != tables.Parked || !strings.Contains(st.Reason, "no longer has it") {
		t.Fatalf("after the reset: %+v (%v), want epoch 10 parked", st, err)
	}
	e.Step(t)
	if n, _ := client.NonceAt(ctx, chain.Address(poster), nil); n != nonce {
		t.Fatal("the settler sent a transaction to a chain that lost its root")
	}
}
