package chain_test

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// signerKeys returns n fresh keys ascending by address (the contract's order).
func signerKeys(n int) ([]*ecdsa.PrivateKey, []common.Address) {
	keys := make([]*ecdsa.PrivateKey, n)
	addrs := make([]common.Address, n)
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
	}
	for i := range keys {
		for j := i + 1; j < n; j++ {
			if chain.Address(keys[j]).Cmp(chain.Address(keys[i])) < 0 {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
		addrs[i] = chain.Address(keys[i])
	}
	return keys, addrs
}

// vote is (epoch, root, total) building on what the fixture's distributor has now.
func (f *fixture) vote(t *testing.T, epoch uint64, root common.Hash, total int64) (quorum.Vote, quorum.Domain) {
	t.Helper()
	v, _, err := quorum.SignNow(f.ctx, f.client, f.c.Distributor, quorum.Vote{Epoch: epoch, Root: root, Total: big.NewInt(total), Inputs: common.Hash{1}, Rules: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := quorum.DomainOf(f.ctx, f.client, f.c.Distributor)
	return v, d
}

func sigs(t *testing.T, digest common.Hash, keys ...*ecdsa.PrivateKey) [][]byte {
	t.Helper()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		var err error
		if out[i], err = quorum.Sign(digest, k); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestQuorumRefusals: a 2-of-3 distributor takes a root only with two
// signatures of its signers over exactly the vote submitted, in its domain
// and round, building on its root; anyone may submit them.
func TestQuorumRefusals(t *testing.T) {
	t.Parallel() // each test runs its own chain
	keys, addrs := signerKeys(3)
	f := newFixtureWith(t, func(s *chain.Settings) { s.Signers, s.Threshold = addrs, 2 })
	if d := f.readDigest(t, quorum.Vote{Epoch: 3, Root: common.Hash{9}, Total: big.NewInt(5), PrevRoot: common.Hash{8}, Inputs: common.Hash{7}, Rules: 6, Round: 5}); d == (common.Hash{}) {
		t.Fatal("no digest")
	}
	a, b := chain.Address(f.other), chain.Address(f.deployer)
	tree, _ := leaves(map[common.Address]int64{a: 100, b: 50})
	v, d := f.vote(t, 1, tree.Root(), 150)
	digest := v.Digest(d)
	outsider, _ := crypto.GenerateKey()
	mustRevert := func(name string, data []byte, want string) {
		t.Helper()
		f.mustRevert(t, name, f.send(t, f.other, data), want)
	}

	mustRevert("one signature of two", v.Calldata(sigs(t, digest, keys[0])), "TooFewSignatures")
	mustRevert("no signature", v.Calldata(nil), "TooFewSignatures")
	mustRevert("a non-signer's signature", v.Calldata(sigs(t, digest, keys[0], outsider)), "NotSigner")
	mustRevert("the same signer twice", v.Calldata(sigs(t, digest, keys[1], keys[1])), "SignersNotAscending")
	mustRevert("signers out of order", v.Calldata(sigs(t, digest, keys[2], keys[0])), "SignersNotAscending")
	mustRevert("a malformed signature", v.Calldata([][]byte{make([]byte, 65), make([]byte, 65)}), "BadSignature")

	otherChain := quorum.Domain{ChainID: new(big.Int).Add(d.ChainID, big.NewInt(1)), Contract: d.Contract}
	mustRevert("signed for another chain id", v.Calldata(sigs(t, v.Digest(otherChain), keys[0], keys[1])), "NotSigner")
	otherContract := quorum.Domain{ChainID: d.ChainID, Contract: common.HexToAddress("0x1234")}
	mustRevert("signed for another distributor", v.Calldata(sigs(t, v.Digest(otherContract), keys[0], keys[1])), "NotSigner")

	wrongInputs := v
	wrongInputs.Inputs = common.Hash{2}
	mustRevert("signed for other inputs", wrongInputs.Calldata(sigs(t, digest, keys[0], keys[1])), "NotSigner")
	split := [][]byte{sigs(t, digest, keys[0])[0], sigs(t, wrongInputs.Digest(d), keys[1])[0]}
	mustRevert("two signers, two inputs", v.Calldata(split), "NotSigner")

	oldRound := v
	oldRound.Round--
	mustRevert("an old round", oldRound.Calldata(sigs(t, oldRound.Digest(d), keys[0], keys[1])), "WrongRound")
	wrongPrev := v
	wrongPrev.PrevRoot = common.Hash{3}
	mustRevert("a wrong prevRoot", wrongPrev.Calldata(sigs(t, wrongPrev.Digest(d), keys[0], keys[1])), "WrongPrevRoot")

	// Two of three, submitted by someone who signed nothing.
	rec, err := f.sendReceipt(t, f.other, v.Calldata(sigs(t, digest, keys[0], keys[2])))
	if err != nil {
		t.Fatal(err)
	}
	if f.activeRoot(t) != tree.Root() {
		t.Fatal("the root signed by two of three is not active")
	}
	for _, l := range rec.Logs {
		if ev, err := f.d.UnpackRootSignedEvent(l); err == nil {
			if ev.SignedBy != 0b101 || ev.Inputs != v.Inputs || ev.Round != v.Round || ev.PrevRoot != v.PrevRoot {
				t.Errorf("RootSigned %+v, want signers 0 and 2 (0b101), inputs %s, round %d", ev, v.Inputs.Hex(), v.Round)
			}
		}
	}
	// The next root must build on it: a vote on the old base is refused.
	next, _ := leaves(map[common.Address]int64{a: 130, b: 50})
	stale := quorum.Vote{Epoch: 2, Root: next.Root(), Total: big.NewInt(180), PrevRoot: v.PrevRoot, Inputs: common.Hash{1}, Rules: 1, Round: v.Round}
	mustRevert("built on the replaced root", stale.Calldata(sigs(t, stale.Digest(d), keys[0], keys[1])), "WrongPrevRoot")
}

func (f *fixture) readDigest(t *testing.T, v quorum.Vote) common.Hash {
	t.Helper()
	got, err := bind.Call(f.inst, nil, f.d.PackVoteDigest(v.Binding()), f.d.UnpackVoteDigest)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := quorum.DomainOf(f.ctx, f.client, f.c.Distributor)
	if want := v.Digest(d); common.Hash(got) != want {
		t.Fatalf("the contract's voteDigest %x, quorum's %s", got, want.Hex())
	}
	return got
}

// TestSignerRotation: k current signers replace the set; the round moves on,
// so every signature made before dies, and the removed signer's votes count
// for nothing after.
func TestSignerRotation(t *testing.T) {
	t.Parallel() // each test runs its own chain
	keys, addrs := signerKeys(3)
	f := newFixtureWith(t, func(s *chain.Settings) { s.Signers, s.Threshold = addrs, 2 })
	d, _ := quorum.DomainOf(f.ctx, f.client, f.c.Distributor)
	newKey, _ := crypto.GenerateKey()
	next := quorum.Sorted([]common.Address{addrs[0], addrs[1], chain.Address(newKey)})
	round := f.round(t)
	rotation := quorum.SignerSetDigest(d, next, 2, round)
	mustRevert := func(name string, data []byte, want string) {
		t.Helper()
		f.mustRevert(t, name, f.send(t, f.other, data), want)
	}

	// A vote signed before the rotation, by the signer about to leave.
	tree, _ := leaves(map[common.Address]int64{chain.Address(f.other): 10})
	before, _ := f.vote(t, 1, tree.Root(), 10)
	beforeSigs := sigs(t, before.Digest(d), keys[0], keys[2])

	mustRevert("a rotation signed by one", f.d.PackUpdateSigners(next, 2, sigs(t, rotation, keys[0])), "TooFewSignatures")
	bad := quorum.SignerSetDigest(d, next, 1, round)
	mustRevert("a threshold of one of three", f.d.PackUpdateSigners(next, 1, sigs(t, bad, keys[0], keys[1])), "BadSignerSet")
	unsorted := []common.Address{next[2], next[1], next[0]}
	mustRevert("a set out of order", f.d.PackUpdateSigners(unsorted, 2, sigs(t, quorum.SignerSetDigest(d, unsorted, 2, round), keys[0], keys[1])), "BadSignerSet")
	if err := f.send(t, f.other, f.d.PackUpdateSigners(next, 2, sigs(t, rotation, keys[0], keys[1]))); err != nil {
		t.Fatal(err)
	}
	if got := f.round(t); got != round+1 {
		t.Fatalf("round %d after a rotation, want %d", got, round+1)
	}
	set, _ := bind.Call(f.inst, nil, f.d.PackSigners(), f.d.UnpackSigners)
	if len(set) != 3 || set[0] != next[0] || set[1] != next[1] || set[2] != next[2] {
		t.Fatalf("signers %v, want %v", set, next)
	}
	mustRevert("the rotation replayed", f.d.PackUpdateSigners(next, 2, sigs(t, rotation, keys[0], keys[1])), "NotSigner")
	mustRevert("a vote of the old round", before.Calldata(beforeSigs), "WrongRound")
	after, _ := f.vote(t, 1, tree.Root(), 10)
	digest := after.Digest(d)
	removed := [][]byte{sigs(t, digest, keys[0])[0], sigs(t, digest, keys[2])[0]}
	if addrs[2].Cmp(addrs[0]) < 0 {
		removed[0], removed[1] = removed[1], removed[0]
	}
	mustRevert("the removed signer's vote", after.Calldata(removed), "NotSigner")
	ordered, err := quorum.Ordered(digest, next, []quorum.Signature{
		{Signer: chain.Address(newKey), Sig: sigs(t, digest, newKey)[0]}, {Signer: addrs[0], Sig: sigs(t, digest, keys[0])[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.send(t, f.other, after.Calldata(ordered)); err != nil {
		t.Fatalf("the new signer and an old one: %v", err)
	}
	if f.activeRoot(t) != tree.Root() {
		t.Fatal("root not active")
	}
}

func (f *fixture) round(t *testing.T) uint64 {
	t.Helper()
	r, err := bind.Call(f.inst, nil, f.d.PackRound(), f.d.UnpackRound)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestProposeRootGas logs the gas of proposeRoot at 1-of-1, 2-of-3 and
// 5-of-7, for the closing note and docs/decentralization.md, and holds each
// extra signature under 10,000 gas.
func TestProposeRootGas(t *testing.T) {
	t.Parallel() // each case runs its own chain
	gas := map[int]uint64{}
	for _, c := range []struct{ k, n int }{{1, 1}, {2, 3}, {5, 7}} {
		keys, addrs := signerKeys(c.n)
		f := newFixtureWith(t, func(s *chain.Settings) { s.Signers, s.Threshold = addrs, uint8(c.k) })
		d, _ := quorum.DomainOf(f.ctx, f.client, f.c.Distributor)
		var rec *types.Receipt
		for epoch := int64(1); epoch <= 2; epoch++ { // the second root is the steady state
			tree, _ := leaves(map[common.Address]int64{chain.Address(f.other): 10 * epoch})
			v, _ := f.vote(t, uint64(epoch), tree.Root(), 10*epoch)
			var err error
			if rec, err = f.sendReceipt(t, f.other, v.Calldata(sigs(t, v.Digest(d), keys[:c.k]...))); err != nil {
				t.Fatal(err)
			}
		}
		gas[c.k] = rec.GasUsed
		t.Logf("proposeRoot %d-of-%d (a second root, no timelock): %d gas", c.k, c.n, rec.GasUsed)
	}
	perSig := (gas[5] - gas[2]) / 3
	t.Logf("each extra signature: %d gas", perSig)
	if gas[2] <= gas[1] || gas[5] <= gas[2] || perSig > 10_000 {
		t.Errorf("gas %v: each signature should cost something and under 10,000", gas)
	}
}
