package chain_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/settler/merkle"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

type fixture struct {
	ctx                     context.Context
	client                  *ethclient.Client
	deployer, poster, other *ecdsa.PrivateKey
	c                       chain.Contracts
	d                       *distributor.RewardsDistributor
	inst                    *bind.BoundContract
}

// mustRevert fails the test unless err is the distributor's custom error want.
func (f *fixture) mustRevert(t *testing.T, name string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: accepted, want revert %s", name, want)
	}
	var de rpc.DataError
	if !errors.As(err, &de) {
		t.Fatalf("%s: %v, want revert %s", name, err, want)
	}
	hexData, _ := de.ErrorData().(string)
	decoded, derr := f.d.UnpackError(common.FromHex(hexData))
	if derr != nil || !strings.HasSuffix(fmt.Sprintf("%T", decoded), "RewardsDistributor"+want) {
		t.Fatalf("%s: reverted with %T (%v), want %s", name, decoded, derr, want)
	}
}

func newFixture(t *testing.T) *fixture {
	return newFixtureWith(t, func(*chain.Settings) {})
}

// newFixtureWith deploys with the default settings (poster keys[1],
// guardian keys[0], no timelock, the pool as emission per epoch from epoch 1)
// changed by edit.
func newFixtureWith(t *testing.T, edit func(*chain.Settings)) *fixture {
	keys := make([]*ecdsa.PrivateKey, 3)
	alloc := map[common.Address]*big.Int{}
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil)
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
		alloc[chain.Address(keys[i])] = eth
	}
	dc, err := devchain.Start(devchain.Options{Alloc: alloc, EmptyBlocks: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	ctx := context.Background()
	client, err := dc.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	pool, _ := new(big.Int).SetString("1000000000000000000000000000", 10)
	settings := chain.Settings{Signers: []common.Address{chain.Address(keys[1])}, Guardian: chain.Address(keys[0]), EmissionPerEpoch: pool, FirstEpoch: 1}
	edit(&settings)
	c, err := chain.Deploy(ctx, client, keys[0], settings, pool)
	if err != nil {
		t.Fatal(err)
	}
	d := distributor.NewRewardsDistributor()
	return &fixture{ctx: ctx, client: client, deployer: keys[0], poster: keys[1], other: keys[2], c: c, d: d, inst: d.Instance(client, c.Distributor)}
}

// propose is proposeRoot(epoch, root, total) signed by the poster, the
// fixture's one signer, building on what the distributor has now.
func (f *fixture) propose(t *testing.T, epoch uint64, root [32]byte, total *big.Int) []byte {
	return f.proposeBy(t, f.poster, epoch, root, total)
}

func (f *fixture) proposeBy(t *testing.T, key *ecdsa.PrivateKey, epoch uint64, root [32]byte, total *big.Int) []byte {
	t.Helper()
	_, data, err := quorum.SignNow(f.ctx, f.client, f.c.Distributor, quorum.Vote{Epoch: epoch, Root: root, Total: total}, key)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (f *fixture) send(t *testing.T, key *ecdsa.PrivateKey, data []byte) error {
	opts, err := chain.Transactor(f.ctx, f.client, key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = chain.Send(f.ctx, f.client, f.inst, opts, data)
	return err
}

// simulateClaim runs claim as an eth_call: it reverts exactly when the claim would.
func (f *fixture) simulateClaim(account common.Address, amount *big.Int, proof []common.Hash) error {
	p := make([][32]byte, len(proof))
	for i := range proof {
		p[i] = proof[i]
	}
	_, err := f.client.CallContract(f.ctx, ethereum.CallMsg{To: &f.c.Distributor, Data: f.d.PackClaim(account, amount, p)}, nil)
	return err
}

func proofOf(tree *merkle.Tree, i int) [][32]byte {
	var out [][32]byte
	for _, h := range tree.Proof(i) {
		out = append(out, h)
	}
	return out
}

// TestRandomTreeInOpenZeppelinJSAndContract: one random 1,000-leaf tree;
// OpenZeppelin's library loads its dump with the same root and accepts every
// proof, and so does the contract.
func TestRandomTreeInOpenZeppelinJSAndContract(t *testing.T) {
	t.Parallel() // each test runs its own chain
	f := newFixture(t)
	rewards := make([]merkle.Reward, 1000)
	for i := range rewards {
		var a common.Address
		rand.Read(a[:])
		amt, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 80))
		rewards[i] = merkle.Reward{Account: a, Amount: amt.Add(amt, big.NewInt(1))}
	}
	// Two known owners, so that real claims can be checked against balances.
	rewards[0].Account, rewards[1].Account = chain.Address(f.other), chain.Address(f.deployer)
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		t.Fatal(err)
	}
	checkWithOpenZeppelinJS(t, tree)

	total := new(big.Int)
	for _, r := range rewards {
		total.Add(total, r.Amount)
	}
	if err := f.send(t, f.poster, f.propose(t, 1, tree.Root(), total)); err != nil {
		t.Fatal(err)
	}
	for i, r := range rewards {
		if err := f.simulateClaim(r.Account, r.Amount, tree.Proof(i)); err != nil {
			t.Fatalf("contract refuses proof %d: %v", i, err)
		}
	}
	// A real claim pays exactly the cumulative amount, and only once.
	opts, err := chain.Transactor(f.ctx, f.client, f.other)
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := chain.Send(f.ctx, f.client, f.inst, opts, f.d.PackClaim(rewards[0].Account, rewards[0].Amount, proofOf(tree, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gas of a first claim with a %d-hash proof (1,000 leaves): %d", len(tree.Proof(0)), receipt.GasUsed)
	bal, err := chain.TokenBalance(f.ctx, f.client, f.c.Token, rewards[0].Account)
	if err != nil || bal.Cmp(rewards[0].Amount) != 0 {
		t.Fatalf("balance %v (%v), want %s", bal, err, rewards[0].Amount)
	}
	if err := f.simulateClaim(rewards[0].Account, rewards[0].Amount, tree.Proof(0)); err == nil {
		t.Fatal("second claim of the same cumulative amount accepted")
	}
}

func TestDistributorRefusals(t *testing.T) {
	t.Parallel() // each test runs its own chain
	f := newFixture(t)
	a, b := chain.Address(f.other), chain.Address(f.deployer)
	tree, _ := merkle.OfRewards([]merkle.Reward{{Account: a, Amount: big.NewInt(100)}, {Account: b, Amount: big.NewInt(50)}})
	root := tree.Root()
	mustRevert := func(name string, err error, want string) { t.Helper(); f.mustRevert(t, name, err, want) }
	mustRevert("signed by a non-signer", f.send(t, f.other, f.proposeBy(t, f.other, 1, root, big.NewInt(150))), "NotSigner")
	mustRevert("zero root", f.send(t, f.poster, f.propose(t, 1, [32]byte{}, big.NewInt(0))), "ZeroRoot")
	if err := f.send(t, f.poster, f.propose(t, 5, root, big.NewInt(150))); err != nil {
		t.Fatal(err)
	}
	mustRevert("same epoch again", f.send(t, f.poster, f.propose(t, 5, root, big.NewInt(150))), "EpochNotIncreasing")
	mustRevert("older epoch", f.send(t, f.poster, f.propose(t, 4, root, big.NewInt(150))), "EpochNotIncreasing")
	mustRevert("more than granted", f.simulateClaim(a, big.NewInt(101), tree.Proof(0)), "InvalidProof")
	mustRevert("proof of another account", f.simulateClaim(a, big.NewInt(50), tree.Proof(1)), "InvalidProof")
	mustRevert("empty proof", f.simulateClaim(a, big.NewInt(100), nil), "InvalidProof")
	if err := f.send(t, f.deployer, f.d.PackClaim(a, big.NewInt(100), proofOf(tree, 0))); err != nil {
		t.Fatalf("claim on behalf of another account: %v", err)
	}
	mustRevert("double claim", f.send(t, f.other, f.d.PackClaim(a, big.NewInt(100), proofOf(tree, 0))), "NothingToClaim")
	// Tokens went to the account, not to whoever sent the claim.
	if bal, _ := chain.TokenBalance(f.ctx, f.client, f.c.Token, a); bal.Int64() != 100 {
		t.Fatalf("account balance %s, want 100", bal)
	}
	// Cumulative: a new root granting 130 pays the 30 not yet claimed.
	tree2, _ := merkle.OfRewards([]merkle.Reward{{Account: a, Amount: big.NewInt(130)}, {Account: b, Amount: big.NewInt(50)}})
	if err := f.send(t, f.poster, f.propose(t, 6, tree2.Root(), big.NewInt(180))); err != nil {
		t.Fatal(err)
	}
	mustRevert("old root's proof after a new root", f.simulateClaim(b, big.NewInt(50), tree.Proof(1)), "InvalidProof")
	if err := f.send(t, f.other, f.d.PackClaim(a, big.NewInt(130), proofOf(tree2, 0))); err != nil {
		t.Fatal(err)
	}
	if bal, _ := chain.TokenBalance(f.ctx, f.client, f.c.Token, a); bal.Int64() != 130 {
		t.Fatalf("balance after second root %s, want 130", bal)
	}
}

func checkWithOpenZeppelinJS(t *testing.T, tree *merkle.Tree) {
	t.Helper()
	modules, _ := filepath.Abs("../../schemas/contracts/node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@openzeppelin", "merkle-tree")); err != nil {
		t.Fatal("@openzeppelin/merkle-tree is not installed: run `make deps`")
	}
	dir := t.TempDir()
	dump, _ := json.Marshal(tree)
	os.WriteFile(filepath.Join(dir, "dump.json"), dump, 0o644)
	proofs := make([][]string, tree.Len())
	for i := range proofs {
		for _, p := range tree.Proof(i) {
			proofs[i] = append(proofs[i], p.Hex())
		}
	}
	pj, _ := json.Marshal(proofs)
	os.WriteFile(filepath.Join(dir, "proofs.json"), pj, 0o644)
	// entries() yields values in input order, the order proofs.json follows.
	script := `
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const fs = require("fs");
const tree = StandardMerkleTree.load(JSON.parse(fs.readFileSync(process.argv[1] + "/dump.json")));
tree.validate();
const proofs = JSON.parse(fs.readFileSync(process.argv[1] + "/proofs.json"));
let n = 0, bad = 0;
for (const [i, v] of tree.entries()) {
  if (!StandardMerkleTree.verify(tree.root, ["address", "uint256"], v, proofs[i])) bad++;
  n++;
}
console.log(JSON.stringify({ root: tree.root, n, bad }));
`
	cmd := exec.Command("node", "-e", script, dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		Root   string
		N, Bad int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	if res.Root != tree.Root().Hex() || res.N != tree.Len() || res.Bad != 0 {
		t.Fatalf("OpenZeppelin JS: %+v, want root %s, %d leaves, 0 bad proofs", res, tree.Root().Hex(), tree.Len())
	}
}
