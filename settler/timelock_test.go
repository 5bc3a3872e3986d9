package settler_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/quorum"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// TestClaimDuringTimelock runs with a real timelock: while a proposed root
// waits, the API serves the proof of the active root (which a claim then
// pays exactly) and says what the pending root will add and when. Epochs
// that close while a root waits are not queued: the newest one is proposed
// once the wait is over, carrying the others' amounts.
func TestClaimDuringTimelock(t *testing.T) {
	e := settlertest.New(t, 4)
	ctx := context.Background()
	api := e.API(t)
	claimer, _ := crypto.GenerateKey() // anyone may send a claim; the tokens go to the account
	e.Fund(t, chain.Address(claimer))

	e.Scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	first := e.Settle(t, 10)
	if first.State != tables.Proposed {
		t.Fatalf("under a timelock epoch 10 should be proposed first, got %s", first.State)
	}
	// Nothing is active yet: the API says what the pending root grants and
	// gives no proof that the contract would refuse.
	p := settlertest.Proof(t, api, alice)
	if p.Root != (common.Hash{}).Hex() || p.CumulativeAmount != "0" || p.Claimable != "0" || len(p.Proof) != 0 || p.Pending == nil ||
		p.Pending.Epoch != 10 || p.Pending.Claimable != "750" || p.Pending.More != "750" {
		t.Fatalf("before any activation: %+v pending %+v", p, p.Pending)
	}
	e.StepUntil(t, 10, tables.Active)

	e.Scores(t, 11, map[string]uint64{alice: 1})
	if s := e.Settle(t, 11); s.State != tables.Proposed {
		t.Fatalf("epoch 11: %+v", s)
	}
	// Epochs 12 and 13 close while 11 waits.
	e.Scores(t, 12, map[string]uint64{bob: 1})
	e.Scores(t, 13, map[string]uint64{alice: 1, bob: 1})
	e.CloseEpoch(t, 12)
	e.CloseEpoch(t, 13)
	e.Step(t)
	if e.State(t, 12) != tables.Computed || e.State(t, 13) != tables.Computed {
		t.Fatalf("epochs 12, 13: %s, %s; want computed while 11 waits", e.State(t, 12), e.State(t, 13))
	}
	// What an operator's gauges say now: 13 scored and computed, 11
	// pending for a few seconds (or none yet: the head block may still be
	// in the proposal's second, block times being whole seconds), 10
	// active, the poster able to pay.
	g, err := e.Svc.RecordGauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]uint64{"scored": 13, "computed": 13, "proposed": 11, "active": 10}; !maps.Equal(g.Epochs, want) ||
		g.PendingAge < 0 || g.PendingAge > time.Minute || g.PosterBalance.Sign() <= 0 {
		t.Fatalf("gauges: epochs %v (want %v), pending root age %s, poster balance %s", g.Epochs, want, g.PendingAge, g.PosterBalance)
	}

	// Claim while 11 is pending: the proof is for epoch 10's active root.
	c := e.Roots(t)
	if c.PendingEpoch != 11 || c.Epoch != 10 {
		t.Fatalf("chain: active %d, pending %d; want 10 and 11", c.Epoch, c.PendingEpoch)
	}
	p = settlertest.Proof(t, api, alice)
	if p.Epoch != 10 || p.Root != c.Root.Hex() || p.Claimable != "750" || p.Pending == nil || p.Pending.Epoch != 11 ||
		p.Pending.CumulativeAmount != "1750" || p.Pending.More != "1000" || p.Pending.ActivatesAtUnix != c.ActivatesAt {
		t.Fatalf("during the timelock: %+v pending %+v (chain %+v)", p, p.Pending, c)
	}
	if !settlertest.Verifies(t, p, c.Root) {
		t.Fatal("the served proof does not verify against the distributor's root()")
	}
	e.Send(t, claimer, common.FromHex(p.ClaimCalldata))
	if c2 := e.Roots(t); c2.PendingEpoch != 11 || c2.Root != c.Root {
		t.Fatalf("the claim should have been made while epoch 11 was pending; chain now %+v", c2)
	}
	if bal := e.Balance(t, alice); bal.Int64() != 750 {
		t.Fatalf("alice's balance %s after claiming during the timelock, want 750", bal)
	}
	if p := settlertest.Proof(t, api, alice); p.Claimed != "750" || p.Claimable != "0" || p.Pending.Claimable != "1000" {
		t.Fatalf("after the claim: %+v pending %+v", p, p.Pending)
	}
	// Epoch 10's active root rewards alice 750 and bob 250.
	if g, err := e.Svc.RecordGauges(ctx); err != nil || g.Claimed.Int64() != 750 || g.Rewarded.Int64() != 1000 || g.ClosedAge <= 0 {
		t.Fatalf("gauges after the claim: %v; claimed %s (want 750), rewarded %s (want 1000), closed epoch age %s", err, g.Claimed, g.Rewarded, g.ClosedAge)
	}

	// Once 11's timelock is over, 13 is proposed (activating 11), and 12 is
	// superseded: one proposal, not two.
	before := e.Nonce(t)
	e.StepUntil(t, 13, tables.Proposed)
	if e.State(t, 11) != tables.Active && e.State(t, 11) != tables.Final {
		t.Fatalf("epoch 11 is %s after 13 was proposed", e.State(t, 11))
	}
	if e.State(t, 12) != tables.Superseded {
		t.Fatalf("epoch 12 is %s, want superseded", e.State(t, 12))
	}
	if n := e.Nonce(t) - before; n != 1 {
		t.Fatalf("the poster sent %d transactions to propose 13 over a due 11, want 1", n)
	}
	want := settlertest.RewardsRoot(t, map[string]int64{alice: 750 + 1000 + 500, bob: 250 + 1000 + 500})
	if c := e.Roots(t); c.PendingRoot != want || c.PendingEpoch != 13 {
		t.Fatalf("pending root %s of epoch %d, want epoch 13's %s (12's amounts included)", c.PendingRoot.Hex(), c.PendingEpoch, want.Hex())
	}
	p = settlertest.Proof(t, api, alice)
	if p.Epoch != 11 || p.Claimable != "1000" || !settlertest.Verifies(t, p, e.Roots(t).Root) {
		t.Fatalf("after 11 activated: %+v", p)
	}
	e.Send(t, claimer, common.FromHex(p.ClaimCalldata))
	if bal := e.Balance(t, alice); bal.Int64() != 1750 {
		t.Fatalf("alice's balance %s, want 1750", bal)
	}
	v, err := settler.VerifyEpoch(ctx, e.Conn, 13, settler.RootsFromLogs(e.Client, e.Contracts.Distributor), slog.New(slog.DiscardHandler))
	if err != nil || len(v.Differences) > 0 || v.Root != want {
		t.Fatalf("verify-epoch 13: %v %+v", err, v)
	}
}

// TestRevokeThenResume: the guardian revokes a pending root; the settler
// marks the epoch revoked and stops, building nothing on it, while claims
// against the active root go on; the operator's resume drops the epoch and
// settles the next ones on the active root.
func TestRevokeThenResume(t *testing.T) {
	e := settlertest.New(t, 4)
	ctx := context.Background()
	e.Scores(t, 10, map[string]uint64{alice: 1})
	e.Settle(t, 10)
	e.StepUntil(t, 10, tables.Active)
	e.Scores(t, 11, map[string]uint64{bob: 1}) // the epoch a bad actor pads
	e.Settle(t, 11)
	e.Send(t, e.Guardian, distributor.NewRewardsDistributor().PackRevokePendingRoot())
	e.StepUntil(t, 11, tables.Revoked)

	e.Scores(t, 12, map[string]uint64{alice: 1, bob: 1})
	e.CloseEpoch(t, 12)
	before := e.Nonce(t)
	for i := 0; i < 3; i++ {
		e.Step(t)
	}
	if st := e.State(t, 12); st != "" {
		t.Fatalf("epoch 12 is %s while epoch 11's revocation holds settlement; want nothing done", st)
	}
	if e.Nonce(t) != before {
		t.Fatal("the settler sent a transaction while held by a revocation")
	}
	if p := settlertest.Proof(t, e.API(t), alice); p.Epoch != 10 || p.Claimable != "1000" || p.Pending != nil {
		t.Fatalf("claims against the active root must keep working: %+v", p)
	}

	if err := e.Svc.Resume(ctx, 10); err == nil || !errors.Is(err, settler.ErrResume) {
		t.Fatalf("resume from the active epoch: %v, want settler.ErrResume", err)
	}
	if err := e.Svc.Resume(ctx, 12); err != nil {
		t.Fatal(err)
	}
	e.StepUntil(t, 12, tables.Proposed)
	if e.State(t, 11) != tables.Revoked {
		t.Fatalf("epoch 11 is %s after resuming from 12, want revoked", e.State(t, 11))
	}
	// 12 builds on 10: bob's revoked 1000 from epoch 11 is gone.
	want := settlertest.RewardsRoot(t, map[string]int64{alice: 1000 + 500, bob: 500})
	if c := e.Roots(t); c.PendingRoot != want || c.PendingEpoch != 12 {
		t.Fatalf("pending root %s (epoch %d), want %s", c.PendingRoot.Hex(), c.PendingEpoch, want.Hex())
	}
	v, err := settler.VerifyEpoch(ctx, e.Conn, 12, settler.RootsFromLogs(e.Client, e.Contracts.Distributor), slog.New(slog.DiscardHandler))
	if err != nil || len(v.Differences) > 0 || v.Root != want {
		t.Fatalf("verify-epoch 12: %v %+v", err, v)
	}
}

// TestResumeRecomputesTheRevokedEpoch: resuming from the revoked epoch
// itself proposes it again (the same readings, the same root), and the
// revocation before the resume no longer holds it.
func TestResumeRecomputesTheRevokedEpoch(t *testing.T) {
	e := settlertest.New(t, 3)
	e.Scores(t, 10, map[string]uint64{alice: 1})
	e.Settle(t, 10)
	e.StepUntil(t, 10, tables.Active)
	e.Scores(t, 11, map[string]uint64{bob: 1})
	first := e.Settle(t, 11)
	e.Send(t, e.Guardian, distributor.NewRewardsDistributor().PackRevokePendingRoot())
	e.StepUntil(t, 11, tables.Revoked)
	if err := e.Svc.Resume(context.Background(), 11); err != nil {
		t.Fatal(err)
	}
	e.StepUntil(t, 11, tables.Proposed)
	e.StepUntil(t, 11, tables.Active)
	if c := e.Roots(t); c.Root != first.Root || c.Epoch != 11 {
		t.Fatalf("active root %s of %d, want epoch 11's %s", c.Root.Hex(), c.Epoch, first.Root.Hex())
	}
}

// TestRecoveredRootBecomesFinal: a root that reached the chain by a
// transaction the settler has no record of (it crashed after sending) is
// followed through its events to final, and nothing is sent again.
func TestRecoveredRootBecomesFinal(t *testing.T) {
	e := settlertest.New(t, 0)
	settler.SetConfirmations(e.Svc, 3)
	e.Scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	root := settlertest.RewardsRoot(t, map[string]int64{alice: 750, bob: 250})
	_, data, err := quorum.SignNow(t.Context(), e.Client, e.Contracts.Distributor, quorum.Vote{Epoch: 10, Root: root, Total: big.NewInt(1000), Rules: settler.Rules}, e.PosterKey)
	if err != nil {
		t.Fatal(err)
	}
	e.Send(t, e.PosterKey, data)
	before := e.Nonce(t)
	e.CloseEpoch(t, 10)
	e.StepUntil(t, 10, tables.Final)
	st := e.Settlement(t, 10)
	if st.Root != root || st.Tx == (common.Hash{}) {
		t.Fatalf("recovered settlement %+v, want root %s with the transaction that posted it", st, root.Hex())
	}
	if e.Nonce(t) != before {
		t.Fatal("the settler posted a root the chain already had")
	}
}

// TestPermanentRevertIsParked: a root the distributor will never accept
// (here a cumulative total over the emission cap, from corrupted leaves) is
// parked with the contract's reason, not retried, and holds later epochs.
func TestPermanentRevertIsParked(t *testing.T) {
	e := settlertest.New(t, 0)
	ctx := context.Background()
	e.Scores(t, 10, map[string]uint64{alice: 1})
	e.Settle(t, 10)
	if err := e.Conn.Exec(ctx, "INSERT INTO reward_leaves VALUES (10, ?, 0, 0, 1000000)", common.HexToAddress("0xc0").Hex()); err != nil {
		t.Fatal(err)
	}
	e.Scores(t, 11, map[string]uint64{alice: 1})
	e.CloseEpoch(t, 11)
	before := e.Nonce(t)
	e.StepUntil(t, 11, tables.Parked)
	st := e.Settlement(t, 11)
	if !strings.Contains(st.Reason, "OverEmissionCap") {
		t.Fatalf("parked epoch 11: %+v, want the contract's OverEmissionCap as its reason", st)
	}
	t.Logf("epoch 11 parked: %s", st.Reason)
	e.Scores(t, 12, map[string]uint64{alice: 1})
	e.CloseEpoch(t, 12)
	for i := 0; i < 3; i++ {
		e.Step(t)
	}
	if e.Nonce(t) != before || e.State(t, 12) != "" {
		t.Fatalf("after parking: nonce %d -> %d, epoch 12 %q; want nothing sent or computed", before, e.Nonce(t), e.State(t, 12))
	}
}

// TestConfigThatDisagreesWithTheContractIsRefused: the settler reads the
// distributor's settings at start and refuses to run on an emission, poster
// or guardian that differ from them.
func TestConfigThatDisagreesWithTheContractIsRefused(t *testing.T) {
	e := settlertest.New(t, 0)
	ctx := context.Background()
	other, _ := crypto.GenerateKey()
	for name, edit := range map[string]func(*settler.Config){
		"emission": func(c *settler.Config) { c.EmissionPerEpoch = "999" },
		"poster":   func(c *settler.Config) { c.PosterKeystore, c.PosterPassword, c.PosterKey = "", "", keyHex(other) },
		"guardian": func(c *settler.Config) { c.Guardian = chain.Address(other).Hex() },
		"address":  func(c *settler.Config) { c.Distributor = chain.Address(other).Hex() },
	} {
		cfg := e.Config
		edit(&cfg)
		_, err := settler.NewWithBackend(ctx, cfg, e.Conn, e.Client, slog.New(slog.DiscardHandler))
		if !errors.Is(err, settler.ErrContractMismatch) {
			t.Errorf("%s: %v, want settler.ErrContractMismatch", name, err)
		} else if strings.Contains(err.Error(), keyHex(other)) {
			t.Errorf("%s: the error shows the key", name)
		}
	}
	cfg := e.Config
	cfg.Guardian = chain.Address(e.Guardian).Hex()
	if _, err := settler.NewWithBackend(ctx, cfg, e.Conn, e.Client, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("the right guardian refused: %v", err)
	}
}

func keyHex(k *ecdsa.PrivateKey) string { return hex.EncodeToString(crypto.FromECDSA(k)) }
