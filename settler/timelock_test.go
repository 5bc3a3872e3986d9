package settler

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// rewardsRoot is the root of a tree granting each account its amount.
func rewardsRoot(t *testing.T, amounts map[string]int64) common.Hash {
	var rs []merkle.Reward
	for a, v := range amounts {
		rs = append(rs, merkle.Reward{Account: common.HexToAddress(a), Amount: big.NewInt(v)})
	}
	tree, err := merkle.OfRewards(rs)
	if err != nil {
		t.Fatal(err)
	}
	return tree.Root()
}

// stepUntil steps the settler until epoch reaches state.
func (e *env) stepUntil(t *testing.T, epoch uint64, state State) {
	t.Helper()
	testenv.Eventually(t, 40*time.Second, 200*time.Millisecond, func() error {
		e.step(t)
		if got := e.state(t, epoch); got != state {
			return fmt.Errorf("epoch %d is %s, never %s", epoch, got, state)
		}
		return nil
	})
}

// send sends data to the distributor from key and waits for success.
func (e *env) send(t *testing.T, key *ecdsa.PrivateKey, data []byte) {
	t.Helper()
	ctx := context.Background()
	client, err := e.dc.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	opts, err := chain.Transactor(ctx, client, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Send(ctx, client, e.svc.dist, opts, data); err != nil {
		t.Fatal(err)
	}
}

// TestClaimDuringTimelock runs with a real timelock: while a proposed root
// waits, the API serves the proof of the active root (which a claim then
// pays exactly) and says what the pending root will add and when. Epochs
// that close while a root waits are not queued: the newest one is proposed
// once the wait is over, carrying the others' amounts.
func TestClaimDuringTimelock(t *testing.T) {
	e := newEnvWithTimelock(t, 4)
	ctx := context.Background()
	api := e.svc.NewAPI()
	claimer, _ := crypto.GenerateKey() // anyone may send a claim; the tokens go to the account
	fund(t, e, chain.Address(claimer))

	e.scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	first := e.settle(t, 10)
	if first.State != Proposed {
		t.Fatalf("under a timelock epoch 10 should be proposed first, got %s", first.State)
	}
	// Nothing is active yet: the API says what the pending root grants and
	// gives no proof that the contract would refuse.
	p := getProof(t, api, alice)
	if p.Root != (common.Hash{}).Hex() || p.CumulativeAmount != "0" || p.Claimable != "0" || len(p.Proof) != 0 || p.Pending == nil ||
		p.Pending.Epoch != 10 || p.Pending.Claimable != "750" || p.Pending.More != "750" {
		t.Fatalf("before any activation: %+v pending %+v", p, p.Pending)
	}
	e.stepUntil(t, 10, Active)

	e.scores(t, 11, map[string]uint64{alice: 1})
	if s := e.settle(t, 11); s.State != Proposed {
		t.Fatalf("epoch 11: %+v", s)
	}
	// Epochs 12 and 13 close while 11 waits.
	e.scores(t, 12, map[string]uint64{bob: 1})
	e.scores(t, 13, map[string]uint64{alice: 1, bob: 1})
	e.closeEpoch(t, 12)
	e.closeEpoch(t, 13)
	e.step(t)
	if e.state(t, 12) != Computed || e.state(t, 13) != Computed {
		t.Fatalf("epochs 12, 13: %s, %s; want computed while 11 waits", e.state(t, 12), e.state(t, 13))
	}
	// What an operator's gauges say now: 13 scored and computed, 11
	// pending for a few seconds, 10 active, the poster able to pay.
	g, err := e.svc.recordGauges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]uint64{"scored": 13, "computed": 13, "proposed": 11, "active": 10}; !maps.Equal(g.epochs, want) ||
		g.pendingAge <= 0 || g.pendingAge > time.Minute || g.posterBalance.Sign() <= 0 {
		t.Fatalf("gauges: epochs %v (want %v), pending root age %s, poster balance %s", g.epochs, want, g.pendingAge, g.posterBalance)
	}

	// Claim while 11 is pending: the proof is for epoch 10's active root.
	c := e.chain(t)
	if c.pendingEpoch != 11 || c.epoch != 10 {
		t.Fatalf("chain: active %d, pending %d; want 10 and 11", c.epoch, c.pendingEpoch)
	}
	p = getProof(t, api, alice)
	if p.Epoch != 10 || p.Root != c.root.Hex() || p.Claimable != "750" || p.Pending == nil || p.Pending.Epoch != 11 ||
		p.Pending.CumulativeAmount != "1750" || p.Pending.More != "1000" || p.Pending.ActivatesAtUnix != c.activatesAt {
		t.Fatalf("during the timelock: %+v pending %+v (chain %+v)", p, p.Pending, c)
	}
	if !verifies(t, p, c.root) {
		t.Fatal("the served proof does not verify against the distributor's root()")
	}
	e.send(t, claimer, common.FromHex(p.ClaimCalldata))
	if c2 := e.chain(t); c2.pendingEpoch != 11 || c2.root != c.root {
		t.Fatalf("the claim should have been made while epoch 11 was pending; chain now %+v", c2)
	}
	if bal := e.balance(t, alice); bal.Int64() != 750 {
		t.Fatalf("alice's balance %s after claiming during the timelock, want 750", bal)
	}
	if p := getProof(t, api, alice); p.Claimed != "750" || p.Claimable != "0" || p.Pending.Claimable != "1000" {
		t.Fatalf("after the claim: %+v pending %+v", p, p.Pending)
	}
	// Epoch 10's active root rewards alice 750 and bob 250.
	if g, err := e.svc.recordGauges(ctx); err != nil || g.claimed.Int64() != 750 || g.rewarded.Int64() != 1000 || g.closedAge <= 0 {
		t.Fatalf("gauges after the claim: %v; claimed %s (want 750), rewarded %s (want 1000), closed epoch age %s", err, g.claimed, g.rewarded, g.closedAge)
	}

	// Once 11's timelock is over, 13 is proposed (activating 11), and 12 is
	// superseded: one proposal, not two.
	before := e.nonce(t)
	e.stepUntil(t, 13, Proposed)
	if e.state(t, 11) != Active && e.state(t, 11) != Final {
		t.Fatalf("epoch 11 is %s after 13 was proposed", e.state(t, 11))
	}
	if e.state(t, 12) != Superseded {
		t.Fatalf("epoch 12 is %s, want superseded", e.state(t, 12))
	}
	if n := e.nonce(t) - before; n != 1 {
		t.Fatalf("the poster sent %d transactions to propose 13 over a due 11, want 1", n)
	}
	want := rewardsRoot(t, map[string]int64{alice: 750 + 1000 + 500, bob: 250 + 1000 + 500})
	if c := e.chain(t); c.pendingRoot != want || c.pendingEpoch != 13 {
		t.Fatalf("pending root %s of epoch %d, want epoch 13's %s (12's amounts included)", c.pendingRoot.Hex(), c.pendingEpoch, want.Hex())
	}
	p = getProof(t, api, alice)
	if p.Epoch != 11 || p.Claimable != "1000" || !verifies(t, p, e.chain(t).root) {
		t.Fatalf("after 11 activated: %+v", p)
	}
	e.send(t, claimer, common.FromHex(p.ClaimCalldata))
	if bal := e.balance(t, alice); bal.Int64() != 1750 {
		t.Fatalf("alice's balance %s, want 1750", bal)
	}
	v, err := VerifyEpoch(ctx, e.conn, 13, RootsFromLogs(e.svc.client, e.svc.distributor()), slog.New(slog.DiscardHandler))
	if err != nil || len(v.Differences) > 0 || v.Root != want {
		t.Fatalf("verify-epoch 13: %v %+v", err, v)
	}
}

// TestRevokeThenResume: the guardian revokes a pending root; the settler
// marks the epoch revoked and stops, building nothing on it, while claims
// against the active root go on; the operator's resume drops the epoch and
// settles the next ones on the active root.
func TestRevokeThenResume(t *testing.T) {
	e := newEnvWithTimelock(t, 4)
	ctx := context.Background()
	e.scores(t, 10, map[string]uint64{alice: 1})
	e.settle(t, 10)
	e.stepUntil(t, 10, Active)
	e.scores(t, 11, map[string]uint64{bob: 1}) // the epoch a bad actor pads
	e.settle(t, 11)
	e.send(t, e.guardian, e.svc.d.PackRevokePendingRoot())
	e.stepUntil(t, 11, Revoked)

	e.scores(t, 12, map[string]uint64{alice: 1, bob: 1})
	e.closeEpoch(t, 12)
	before := e.nonce(t)
	for i := 0; i < 3; i++ {
		e.step(t)
	}
	if st := e.state(t, 12); st != "" {
		t.Fatalf("epoch 12 is %s while epoch 11's revocation holds settlement; want nothing done", st)
	}
	if e.nonce(t) != before {
		t.Fatal("the settler sent a transaction while held by a revocation")
	}
	if p := getProof(t, e.svc.NewAPI(), alice); p.Epoch != 10 || p.Claimable != "1000" || p.Pending != nil {
		t.Fatalf("claims against the active root must keep working: %+v", p)
	}

	if err := e.svc.Resume(ctx, 10); err == nil || !errors.Is(err, ErrResume) {
		t.Fatalf("resume from the active epoch: %v, want ErrResume", err)
	}
	if err := e.svc.Resume(ctx, 12); err != nil {
		t.Fatal(err)
	}
	e.stepUntil(t, 12, Proposed)
	if e.state(t, 11) != Revoked {
		t.Fatalf("epoch 11 is %s after resuming from 12, want revoked", e.state(t, 11))
	}
	// 12 builds on 10: bob's revoked 1000 from epoch 11 is gone.
	want := rewardsRoot(t, map[string]int64{alice: 1000 + 500, bob: 500})
	if c := e.chain(t); c.pendingRoot != want || c.pendingEpoch != 12 {
		t.Fatalf("pending root %s (epoch %d), want %s", c.pendingRoot.Hex(), c.pendingEpoch, want.Hex())
	}
	v, err := VerifyEpoch(ctx, e.conn, 12, RootsFromLogs(e.svc.client, e.svc.distributor()), slog.New(slog.DiscardHandler))
	if err != nil || len(v.Differences) > 0 || v.Root != want {
		t.Fatalf("verify-epoch 12: %v %+v", err, v)
	}
}

// TestResumeRecomputesTheRevokedEpoch: resuming from the revoked epoch
// itself proposes it again (the same readings, the same root), and the
// revocation before the resume no longer holds it.
func TestResumeRecomputesTheRevokedEpoch(t *testing.T) {
	e := newEnvWithTimelock(t, 3)
	e.scores(t, 10, map[string]uint64{alice: 1})
	e.settle(t, 10)
	e.stepUntil(t, 10, Active)
	e.scores(t, 11, map[string]uint64{bob: 1})
	first := e.settle(t, 11)
	e.send(t, e.guardian, e.svc.d.PackRevokePendingRoot())
	e.stepUntil(t, 11, Revoked)
	if err := e.svc.Resume(context.Background(), 11); err != nil {
		t.Fatal(err)
	}
	e.stepUntil(t, 11, Proposed)
	e.stepUntil(t, 11, Active)
	if c := e.chain(t); c.root != first.Root || c.epoch != 11 {
		t.Fatalf("active root %s of %d, want epoch 11's %s", c.root.Hex(), c.epoch, first.Root.Hex())
	}
}

// TestRecoveredRootBecomesFinal: a root that reached the chain by a
// transaction the settler has no record of (it crashed after sending) is
// followed through its events to final, and nothing is sent again.
func TestRecoveredRootBecomesFinal(t *testing.T) {
	e := newEnvWithTimelock(t, 0)
	e.svc.cfg.Confirmations = 3
	e.scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	root := rewardsRoot(t, map[string]int64{alice: 750, bob: 250})
	e.send(t, e.posterKey, e.svc.d.PackProposeRoot(10, root, big.NewInt(1000)))
	before := e.nonce(t)
	e.closeEpoch(t, 10)
	e.stepUntil(t, 10, Final)
	st, _, err := e.svc.st.settlement(context.Background(), 10)
	if err != nil || st.root != root || st.tx == (common.Hash{}) {
		t.Fatalf("recovered settlement %+v (%v), want root %s with the transaction that posted it", st, err, root.Hex())
	}
	if e.nonce(t) != before {
		t.Fatal("the settler posted a root the chain already had")
	}
}

// TestPermanentRevertIsParked: a root the distributor will never accept
// (here a cumulative total over the emission cap, from corrupted leaves) is
// parked with the contract's reason, not retried, and holds later epochs.
func TestPermanentRevertIsParked(t *testing.T) {
	e := newEnvWithTimelock(t, 0)
	ctx := context.Background()
	e.scores(t, 10, map[string]uint64{alice: 1})
	e.settle(t, 10)
	if err := e.conn.Exec(ctx, "INSERT INTO reward_leaves VALUES (10, ?, 0, 0, 1000000)", common.HexToAddress("0xc0").Hex()); err != nil {
		t.Fatal(err)
	}
	e.scores(t, 11, map[string]uint64{alice: 1})
	e.closeEpoch(t, 11)
	before := e.nonce(t)
	e.stepUntil(t, 11, Parked)
	st, _, err := e.svc.st.settlement(ctx, 11)
	if err != nil || !strings.Contains(st.reason, "OverEmissionCap") {
		t.Fatalf("parked epoch 11: %+v (%v), want the contract's OverEmissionCap as its reason", st, err)
	}
	t.Logf("epoch 11 parked: %s", st.reason)
	e.scores(t, 12, map[string]uint64{alice: 1})
	e.closeEpoch(t, 12)
	for i := 0; i < 3; i++ {
		e.step(t)
	}
	if e.nonce(t) != before || e.state(t, 12) != "" {
		t.Fatalf("after parking: nonce %d -> %d, epoch 12 %q; want nothing sent or computed", before, e.nonce(t), e.state(t, 12))
	}
}

// TestConfigThatDisagreesWithTheContractIsRefused: the settler reads the
// distributor's settings at start and refuses to run on an emission, poster
// or guardian that differ from them.
func TestConfigThatDisagreesWithTheContractIsRefused(t *testing.T) {
	e := newEnvWithTimelock(t, 0)
	ctx := context.Background()
	other, _ := crypto.GenerateKey()
	for name, edit := range map[string]func(*Config){
		"emission": func(c *Config) { c.EmissionPerEpoch = "999" },
		"poster":   func(c *Config) { c.PosterKeystore, c.PosterPassword, c.PosterKey = "", "", keyHex(other) },
		"guardian": func(c *Config) { c.Guardian = chain.Address(other).Hex() },
		"address":  func(c *Config) { c.Distributor = chain.Address(other).Hex() },
	} {
		cfg := e.svc.cfg
		edit(&cfg)
		_, err := NewWithBackend(ctx, cfg, e.conn, e.svc.client, slog.New(slog.DiscardHandler))
		if !errors.Is(err, ErrContractMismatch) {
			t.Errorf("%s: %v, want ErrContractMismatch", name, err)
		} else if strings.Contains(err.Error(), keyHex(other)) {
			t.Errorf("%s: the error shows the key", name)
		}
	}
	cfg := e.svc.cfg
	cfg.Guardian = e.svcGuardian().Hex()
	if _, err := NewWithBackend(ctx, cfg, e.conn, e.svc.client, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("the right guardian refused: %v", err)
	}
}

func keyHex(k *ecdsa.PrivateKey) string { return hex.EncodeToString(crypto.FromECDSA(k)) }

func (e *env) svcGuardian() common.Address { return chain.Address(e.guardian) }

// fund gives account 10 ETH from the deployer.
func fund(t *testing.T, e *env, account common.Address) {
	t.Helper()
	ctx := context.Background()
	client, err := e.dc.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	id, _ := client.ChainID(ctx)
	nonce, _ := client.PendingNonceAt(ctx, chain.Address(e.guardian))
	head, _ := client.HeaderByNumber(ctx, nil)
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9))
	tx, _ := types.SignNewTx(e.guardian, types.LatestSignerForChainID(id), &types.DynamicFeeTx{ChainID: id, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: fee,
		Gas: 21_000, To: &account, Value: new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil)})
	if err := client.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitMined(ctx, client, tx.Hash()); err != nil {
		t.Fatal(err)
	}
}

// balance is account's token balance.
func (e *env) balance(t *testing.T, account string) *big.Int {
	t.Helper()
	bal, err := chain.TokenBalance(context.Background(), e.svc.client, e.contracts.Token, common.HexToAddress(account))
	if err != nil {
		t.Fatal(err)
	}
	return bal
}

// getProof asks the API for account's proof.
func getProof(t *testing.T, api *API, account string) RewardProof {
	t.Helper()
	srv := httptest.NewRecorder()
	api.Handler().ServeHTTP(srv, httptest.NewRequest("GET", "/v1/rewards/"+common.HexToAddress(account).Hex(), nil))
	var p RewardProof
	if srv.Code != 200 || json.Unmarshal(srv.Body.Bytes(), &p) != nil {
		t.Fatalf("GET /v1/rewards/%s: %d %s", account, srv.Code, srv.Body)
	}
	return p
}

// verifies checks p's proof of its leaf against root, as the contract does.
func verifies(t *testing.T, p RewardProof, root common.Hash) bool {
	cum, ok := new(big.Int).SetString(p.CumulativeAmount, 10)
	if !ok {
		t.Fatalf("cumulative %q", p.CumulativeAmount)
	}
	proof := make([]common.Hash, len(p.Proof))
	for i, h := range p.Proof {
		proof[i] = common.HexToHash(h)
	}
	return merkle.Verify(root, merkle.RewardLeaf(common.HexToAddress(p.Account), cum), proof)
}
