package chain_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/settler/merkle"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// TestClaimWithCastOnAnvil checks the contracts and the trees against
// Foundry, an Ethereum toolchain independent of go-ethereum: the contracts
// run on anvil, and an owner claims with cast, passing the proof the settler's
// tree code made. A proof for another account is refused the same way.
func TestClaimWithCastOnAnvil(t *testing.T) {
	t.Parallel() // each test runs its own chain
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url, client := testenv.Anvil(t)
	// Keys of this test only, funded through anvil's own RPC.
	keys := make([]*ecdsa.PrivateKey, 3)
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
		testenv.Fund(t, client, chain.Address(keys[i]))
	}
	deployer, poster, owner := keys[0], keys[1], keys[2]
	pool, _ := new(big.Int).SetString("1000000000000000000000000", 10)
	c, err := chain.Deploy(ctx, client, deployer, chain.Settings{Signers: []common.Address{chain.Address(poster)}, Guardian: chain.Address(deployer),
		EmissionPerEpoch: pool, FirstEpoch: 1}, pool)
	if err != nil {
		t.Fatal(err)
	}
	rewards := make([]merkle.Reward, 50)
	total := new(big.Int)
	for i := range rewards {
		var a common.Address
		rand.Read(a[:])
		amt, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
		rewards[i] = merkle.Reward{Account: a, Amount: amt.Add(amt, big.NewInt(1))}
		total.Add(total, rewards[i].Amount)
	}
	rewards[7].Account = chain.Address(owner)
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		t.Fatal(err)
	}
	cast := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, testenv.FoundryBin(t, "cast"), append(args, "--rpc-url", url)...)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	proof := func(i int) string {
		var hs []string
		for _, h := range tree.Proof(i) {
			hs = append(hs, h.Hex())
		}
		return "[" + strings.Join(hs, ",") + "]"
	}
	// The keys go to cast as its flag requires; they belong to this test
	// alone, on a loopback chain, and are never printed.
	ownerKey, posterKey := hexutil.Encode(crypto.FromECDSA(owner)), hexutil.Encode(crypto.FromECDSA(poster))

	// cast signs the vote as EIP-712 typed data: the same bytes as
	// quorum.Sign (both RFC 6979), and the contract takes them from cast.
	vote, _, err := quorum.SignNow(ctx, client, c.Distributor, quorum.Vote{Epoch: 1, Root: tree.Root(), Total: total, Inputs: common.Hash{7}, Rules: 3})
	if err != nil {
		t.Fatal(err)
	}
	domain, _ := quorum.DomainOf(ctx, client, c.Distributor)
	mine, _ := quorum.Sign(vote.Digest(domain), poster)
	typed := fmt.Sprintf(`{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
"Vote":[{"name":"epoch","type":"uint64"},{"name":"root","type":"bytes32"},{"name":"total","type":"uint256"},{"name":"prevRoot","type":"bytes32"},{"name":"inputs","type":"bytes32"},{"name":"rules","type":"uint32"},{"name":"round","type":"uint64"}]},
"primaryType":"Vote","domain":{"name":%q,"version":%q,"chainId":%s,"verifyingContract":%q},
"message":{"epoch":%d,"root":%q,"total":"%s","prevRoot":%q,"inputs":%q,"rules":%d,"round":%d}}`,
		quorum.DomainName, quorum.DomainVersion, domain.ChainID, c.Distributor.Hex(),
		vote.Epoch, vote.Root.Hex(), vote.Total, vote.PrevRoot.Hex(), vote.Inputs.Hex(), vote.Rules, vote.Round)
	typedFile := filepath.Join(t.TempDir(), "vote.json")
	os.WriteFile(typedFile, []byte(typed), 0o600)
	signed, err := exec.CommandContext(ctx, testenv.FoundryBin(t, "cast"), "wallet", "sign", "--private-key", posterKey, "--data", "--from-file", typedFile).CombinedOutput()
	sig := strings.TrimSpace(string(signed))
	if err != nil {
		t.Fatalf("cast wallet sign: %v\n%s", err, sig)
	}
	if sig != hexutil.Encode(mine) {
		t.Fatalf("cast signs the vote %s, quorum.Sign %x", sig, mine)
	}
	tuple := fmt.Sprintf("(%d,%s,%s,%s,%s,%d,%d)", vote.Epoch, vote.Root.Hex(), vote.Total, vote.PrevRoot.Hex(), vote.Inputs.Hex(), vote.Rules, vote.Round)
	if out, err := cast("send", "--private-key", ownerKey, c.Distributor.Hex(),
		"proposeRoot((uint64,bytes32,uint256,bytes32,bytes32,uint32,uint64),bytes[])", tuple, "["+sig+"]"); err != nil {
		t.Fatalf("cast send proposeRoot signed by cast: %v\n%s", err, out)
	}
	claimSig := "claim(address,uint256,bytes32[])"
	if out, err := cast("send", "--private-key", ownerKey, c.Distributor.Hex(), claimSig,
		rewards[8].Account.Hex(), rewards[8].Amount.String(), proof(7)); err == nil || !strings.Contains(out, "revert") {
		t.Fatalf("cast: a proof for another account: %v, want a revert\n%s", err, out)
	}
	if out, err := cast("send", "--private-key", ownerKey, c.Distributor.Hex(), claimSig,
		rewards[7].Account.Hex(), rewards[7].Amount.String(), proof(7)); err != nil {
		t.Fatalf("cast send claim: %v\n%s", err, out)
	} else {
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "gasUsed" {
				t.Logf("gas of a first claim on anvil with a %d-hash proof (50 leaves): %s", len(tree.Proof(7)), f[1])
			}
		}
	}
	out, err := cast("call", c.Token.Hex(), "balanceOf(address)(uint256)", chain.Address(owner).Hex())
	if err != nil {
		t.Fatalf("cast call: %v\n%s", err, out)
	}
	if got := strings.Fields(out)[0]; got != rewards[7].Amount.String() {
		t.Errorf("cast reads balance %s, want %s", got, rewards[7].Amount)
	}
	out, err = cast("call", c.Distributor.Hex(), "claimed(address)(uint256)", chain.Address(owner).Hex())
	if err != nil || strings.Fields(out)[0] != rewards[7].Amount.String() {
		t.Errorf("cast reads claimed %q (%v), want %s", out, err, rewards[7].Amount)
	}
	if out, err := cast("call", c.Distributor.Hex(), "root()(bytes32)"); err != nil || !strings.EqualFold(out, tree.Root().Hex()) {
		t.Errorf("cast reads root %q (%v), want %s", out, err, tree.Root().Hex())
	}

	rotateWithCast(t, cast, c.Distributor, poster, posterKey, ownerKey)
}

// rotateWithCast rotates a 1-of-1 set to 2 of 3 as docs/decentralization.md
// does it with cast: the contract's digest, signed raw by the one signer,
// submitted by anyone.
func rotateWithCast(t *testing.T, cast func(...string) (string, error), dist common.Address, poster *ecdsa.PrivateKey, posterKey, senderKey string) {
	t.Helper()
	next := quorum.Sorted([]common.Address{chain.Address(poster), common.HexToAddress("0xb1"), common.HexToAddress("0xb2")})
	list := "[" + next[0].Hex() + "," + next[1].Hex() + "," + next[2].Hex() + "]"
	digest, err := cast("call", dist.Hex(), "signerSetDigest(address[],uint8)(bytes32)", list, "2")
	if err != nil {
		t.Fatalf("cast call signerSetDigest: %v\n%s", err, digest)
	}
	rawSig, err := exec.Command(testenv.FoundryBin(t, "cast"), "wallet", "sign", "--no-hash", digest, "--private-key", posterKey).CombinedOutput()
	if err != nil {
		t.Fatalf("cast wallet sign --no-hash: %v\n%s", err, rawSig)
	}
	if out, err := cast("send", "--private-key", senderKey, dist.Hex(), "updateSigners(address[],uint8,bytes[])", list, "2",
		"["+strings.TrimSpace(string(rawSig))+"]"); err != nil {
		t.Fatalf("cast send updateSigners: %v\n%s", err, out)
	}
	if out, err := cast("call", dist.Hex(), "threshold()(uint8)"); err != nil || out != "2" {
		t.Errorf("threshold after the rotation %q (%v), want 2", out, err)
	}

}
