package chain_test

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

func (f *fixture) sendReceipt(t *testing.T, key *ecdsa.PrivateKey, data []byte) (*types.Receipt, error) {
	opts, err := chain.Transactor(f.ctx, f.client, key)
	if err != nil {
		t.Fatal(err)
	}
	return chain.Send(f.ctx, f.client, f.inst, opts, data)
}

func (f *fixture) balance(t *testing.T, a common.Address) int64 {
	b, err := chain.TokenBalance(f.ctx, f.client, f.c.Token, a)
	if err != nil {
		t.Fatal(err)
	}
	return b.Int64()
}

func (f *fixture) activeRoot(t *testing.T) common.Hash {
	r, err := bind.Call(f.inst, nil, f.d.PackRoot(), f.d.UnpackRoot)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// eventNames lists the distributor events a receipt holds, in order.
func (f *fixture) eventNames(r *types.Receipt) []string {
	parsed, _ := distributor.RewardsDistributorMetaData.ParseABI()
	var out []string
	for _, l := range r.Logs {
		if ev, err := parsed.EventByID(l.Topics[0]); err == nil {
			out = append(out, ev.Name)
		}
	}
	return out
}

func leaves(amounts map[common.Address]int64) (*merkle.Tree, []merkle.Reward) {
	var rs []merkle.Reward
	for a, v := range amounts {
		rs = append(rs, merkle.Reward{Account: a, Amount: big.NewInt(v)})
	}
	t, _ := merkle.OfRewards(rs)
	return t, rs
}

func proofFor(t *merkle.Tree, rs []merkle.Reward, a common.Address) [][32]byte {
	for i, r := range rs {
		if r.Account == a {
			return proofOf(t, i)
		}
	}
	return nil
}

// TestDistributorScheduleAndClaims: the on-chain emission cap, the floor of
// what was claimed, pause, and batch claims.
func TestDistributorScheduleAndClaims(t *testing.T) {
	t.Parallel() // each test runs its own chain
	f := newFixtureWith(t, func(s *chain.Settings) { s.EmissionPerEpoch, s.FirstEpoch = big.NewInt(100), 5 })
	a, b := chain.Address(f.other), chain.Address(f.deployer)
	c := crypto.CreateAddress(a, 99) // an account with no key here
	t1, r1 := leaves(map[common.Address]int64{a: 60, b: 40})

	f.mustRevert(t, "epoch before the schedule", f.send(t, f.poster, f.propose(t, 4, t1.Root(), big.NewInt(100))), "EpochBeforeSchedule")
	f.mustRevert(t, "total over the cap", f.send(t, f.poster, f.propose(t, 5, t1.Root(), big.NewInt(101))), "OverEmissionCap")
	rec, err := f.sendReceipt(t, f.poster, f.propose(t, 5, t1.Root(), big.NewInt(100)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.eventNames(rec); !slices.Equal(got, []string{"RootProposed", "RootSigned", "RootActivated"}) {
		t.Errorf("events of a proposal without timelock: %v", got)
	}
	if err := f.send(t, f.deployer, f.d.PackClaim(a, big.NewInt(60), proofFor(t1, r1, a))); err != nil {
		t.Fatal(err)
	}

	t2, r2 := leaves(map[common.Address]int64{a: 100, b: 80, c: 20})
	f.mustRevert(t, "total below what was claimed", f.send(t, f.poster, f.propose(t, 6, t1.Root(), big.NewInt(59))), "BelowClaimed")
	f.mustRevert(t, "second epoch over the cap", f.send(t, f.poster, f.propose(t, 6, t2.Root(), big.NewInt(201))), "OverEmissionCap")
	if err := f.send(t, f.poster, f.propose(t, 6, t2.Root(), big.NewInt(200))); err != nil {
		t.Fatal(err)
	}

	f.mustRevert(t, "pause by the poster", f.send(t, f.poster, f.d.PackPause()), "NotGuardian")
	if err := f.send(t, f.deployer, f.d.PackPause()); err != nil {
		t.Fatal(err)
	}
	f.mustRevert(t, "claim while paused", f.send(t, f.other, f.d.PackClaim(b, big.NewInt(80), proofFor(t2, r2, b))), "ClaimsPaused")
	accounts := []common.Address{a, b, c}
	amounts := []*big.Int{big.NewInt(100), big.NewInt(80), big.NewInt(20)}
	proofs := [][][32]byte{proofFor(t2, r2, a), proofFor(t2, r2, b), proofFor(t2, r2, c)}
	f.mustRevert(t, "batch claim while paused", f.send(t, f.other, f.d.PackClaimMany(accounts, amounts, proofs)), "ClaimsPaused")
	f.mustRevert(t, "unpause by a stranger", f.send(t, f.other, f.d.PackUnpause()), "NotGuardian")
	if err := f.send(t, f.deployer, f.d.PackUnpause()); err != nil {
		t.Fatal(err)
	}

	f.mustRevert(t, "batch of mismatched lengths", f.send(t, f.other, f.d.PackClaimMany(accounts, amounts[:2], proofs)), "LengthMismatch")
	f.mustRevert(t, "batch with a wrong proof", f.send(t, f.other, f.d.PackClaimMany(accounts, amounts, [][][32]byte{proofs[0], proofs[2], proofs[1]})), "InvalidProof")
	rec, err = f.sendReceipt(t, f.other, f.d.PackClaimMany(accounts, amounts, proofs))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gas of a batch claim for 3 accounts (2 of them first claims): %d", rec.GasUsed)
	if f.balance(t, a) != 100 || f.balance(t, b) != 80 || f.balance(t, c) != 20 {
		t.Errorf("balances after the batch: %d %d %d, want 100 80 20", f.balance(t, a), f.balance(t, b), f.balance(t, c))
	}
	// A batch of accounts with nothing left pays nothing and does not revert.
	if err := f.send(t, f.other, f.d.PackClaimMany(accounts, amounts, proofs)); err != nil {
		t.Errorf("repeated batch: %v", err)
	}
	claimed, err := bind.Call(f.inst, nil, f.d.PackTotalClaimed(), f.d.UnpackTotalClaimed)
	if err != nil || claimed.Int64() != 200 || f.balance(t, a) != 100 {
		t.Errorf("total claimed %v (%v), balance of a %d; want 200 and 100", claimed, err, f.balance(t, a))
	}
}

// TestDistributorTimelockAndRevoke: a proposed root waits, the active one
// stays claimable meanwhile, the guardian may revoke it, anyone activates it.
func TestDistributorTimelockAndRevoke(t *testing.T) {
	t.Parallel() // each test runs its own chain
	const timelock = 3
	f := newFixtureWith(t, func(s *chain.Settings) { s.Timelock = timelock })
	a, b := chain.Address(f.other), chain.Address(f.deployer)
	tBad, _ := leaves(map[common.Address]int64{chain.Address(f.poster): 1_000})
	tOK, rOK := leaves(map[common.Address]int64{a: 10, b: 5})

	rec, err := f.sendReceipt(t, f.poster, f.propose(t, 1, tBad.Root(), big.NewInt(1_000)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.eventNames(rec); !slices.Equal(got, []string{"RootProposed", "RootSigned"}) {
		t.Errorf("events of a proposal with a timelock: %v", got)
	}
	if f.activeRoot(t) != (common.Hash{}) {
		t.Fatal("a proposed root is active before its timelock")
	}
	f.mustRevert(t, "activation in the timelock", f.send(t, f.other, f.d.PackActivateRoot()), "PendingRootNotActive")
	f.mustRevert(t, "proposal over a root in its timelock", f.send(t, f.poster, f.propose(t, 2, tOK.Root(), big.NewInt(15))), "PendingRootNotActive")
	f.mustRevert(t, "revocation by the poster", f.send(t, f.poster, f.d.PackRevokePendingRoot()), "NotGuardian")
	if rec, err = f.sendReceipt(t, f.deployer, f.d.PackRevokePendingRoot()); err != nil {
		t.Fatal(err)
	}
	if got := f.eventNames(rec); len(got) != 1 || got[0] != "RootRevoked" {
		t.Errorf("events of a revocation: %v", got)
	}
	f.mustRevert(t, "activation after revocation", f.send(t, f.other, f.d.PackActivateRoot()), "NoPendingRoot")

	// The same epoch again, with the right root.
	if err := f.send(t, f.poster, f.propose(t, 1, tOK.Root(), big.NewInt(15))); err != nil {
		t.Fatal(err)
	}
	// Calls run against the latest block: wait for one sealed after the
	// timelock (the dev chain seals an empty block every few seconds).
	at, err := bind.Call(f.inst, nil, f.d.PackPendingActivatesAt(), f.d.UnpackPendingActivatesAt)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, func() error {
		h, err := f.client.HeaderByNumber(f.ctx, nil)
		if err != nil {
			return err
		}
		if h.Time < at {
			return fmt.Errorf("no block after the timelock (latest %d, activates at %d)", h.Time, at)
		}
		return nil
	})
	if err := f.send(t, f.other, f.d.PackActivateRoot()); err != nil { // anyone may
		t.Fatalf("activation after the timelock: %v", err)
	}
	if f.activeRoot(t) != tOK.Root() {
		t.Fatal("the root did not activate")
	}
	// While a next root waits, the active one still pays.
	tNext, _ := leaves(map[common.Address]int64{a: 20, b: 10})
	if err := f.send(t, f.poster, f.propose(t, 2, tNext.Root(), big.NewInt(30))); err != nil {
		t.Fatal(err)
	}
	if err := f.send(t, f.other, f.d.PackClaim(a, big.NewInt(10), proofFor(tOK, rOK, a))); err != nil {
		t.Fatalf("claim on the active root while the next one waits: %v", err)
	}
	if f.balance(t, a) != 10 || f.activeRoot(t) != tOK.Root() {
		t.Errorf("balance %d, active root %s", f.balance(t, a), f.activeRoot(t).Hex())
	}
}
