// Package settlertest is the test fixture of settlement: a distributor
// deployed on a dev chain (or a backend the test brings), a migrated
// ClickHouse, and a settler posting there, with the steps tests take
// (record scores, close an epoch, step until a state). The settler's, the
// proof API's and the explorer's tests share it. Tests only.
package settlertest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/api"
	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// Two accounts tests pay.
const (
	Alice = "0x00000000000000000000000000000000000000A1"
	Bob   = "0x00000000000000000000000000000000000000b0"
)

// Env is a deployed distributor and a settler posting to it.
type Env struct {
	Svc       *settler.Service
	Conn      driver.Conn
	Client    chain.Backend // the settler's
	Poster    common.Address
	PosterKey *ecdsa.PrivateKey
	Guardian  *ecdsa.PrivateKey // the deployer
	Contracts chain.Contracts
	Config    settler.Config
	DC        *devchain.Chain // nil on a backend the test brought
}

// New deploys a distributor whose roots wait timelock seconds on a dev
// chain, and a settler whose poster key is in an encrypted keystore, as in
// production.
func New(t testing.TB, timelock uint64) *Env {
	deployer, _ := crypto.GenerateKey()
	poster, _ := crypto.GenerateKey()
	dc, client := startChain(t, deployer, poster)
	e := Deploy(t, client, deployer, poster, timelock, func(c *settler.Config) {
		c.RPC, c.PosterKey = dc.URL, ""
		c.PosterKeystore, c.PosterPassword = WriteKeystore(t, poster, "correct horse"), "correct horse"
	})
	e.DC = dc
	return e
}

// startChain starts a dev chain with keys funded (10,000 ETH each), stopped
// with the test.
func startChain(t testing.TB, keys ...*ecdsa.PrivateKey) (*devchain.Chain, *ethclient.Client) {
	t.Helper()
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil)
	alloc := map[common.Address]*big.Int{}
	for _, k := range keys {
		alloc[chain.Address(k)] = eth
	}
	dc, err := devchain.Start(devchain.Options{Alloc: alloc, EmptyBlocks: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	client, err := dc.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return dc, client
}

// Deploy deploys the reward token and a distributor (1000 per epoch from
// epoch 10, the given timelock, deployer as guardian) on client, and
// returns a settler posting there with poster's key, its configuration
// changed by edit.
func Deploy(t testing.TB, client chain.Backend, deployer, poster *ecdsa.PrivateKey, timelock uint64, edit func(*settler.Config)) *Env {
	ctx := context.Background()
	c, err := chain.Deploy(ctx, client, deployer, chain.Settings{Signers: []common.Address{chain.Address(poster)}, Guardian: chain.Address(deployer),
		EmissionPerEpoch: big.NewInt(1000), FirstEpoch: 10, Timelock: timelock}, new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil))
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := testenv.ClickHouseConn(t)
	cfg := settler.DefaultConfig()
	cfg.Distributor, cfg.EmissionPerEpoch = c.Distributor.Hex(), "1000"
	cfg.PosterKey = hex.EncodeToString(crypto.FromECDSA(poster))
	edit(&cfg)
	svc, err := settler.NewWithBackend(ctx, cfg, conn, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return &Env{Svc: svc, Conn: conn, Client: client, Poster: chain.Address(poster), PosterKey: poster, Guardian: deployer, Contracts: c, Config: cfg}
}

// WriteKeystore writes key to a Web3 Secret Storage file under password.
func WriteKeystore(t testing.TB, key *ecdsa.PrivateKey, password string) string {
	ks := keystore.NewKeyStore(t.TempDir(), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.ImportECDSA(key, password)
	if err != nil {
		t.Fatal(err)
	}
	return acct.URL.Path
}

// Scores records each owner's contribution in epoch, as the aggregator's
// device_scores row of one device per owner.
func (e *Env) Scores(t testing.TB, epoch uint64, s map[string]uint64) {
	for owner, score := range s {
		e.Exec(t, `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, score)
			VALUES (?, ?, ?, 'RESOURCE_KIND_WEATHER', 1, 1, ?, 0, 1, ?)`, epoch, "d-"+owner, owner, score, score)
	}
}

// Exec runs a statement on the fixture's ClickHouse.
func (e *Env) Exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if err := e.Conn.Exec(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// Nonce is the poster's nonce: how many transactions it sent.
func (e *Env) Nonce(t testing.TB) uint64 {
	n, err := e.Client.NonceAt(context.Background(), e.Poster, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// CloseEpoch records epoch closed and its scores released, as the
// aggregator does (the hold passed).
func (e *Env) CloseEpoch(t testing.TB, epoch uint64) {
	e.Exec(t, "INSERT INTO epochs VALUES (?, now64(3), now64(3), now64(3))", epoch)
	e.Exec(t, "INSERT INTO scored_epochs VALUES (?, now64(3))", epoch)
}

// Step runs one settler step and returns what it reported.
func (e *Env) Step(t testing.TB) []settler.Settled {
	t.Helper()
	got, err := e.step()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// step runs one settler step. Settle and StepUntil retry a step that
// failed, as the settler's loop does: go-ethereum's log index can answer a
// query for the newest blocks with "failed to retrieve log value pointer"
// while it is still indexing them (seen with the simulated backend).
func (e *Env) step() ([]settler.Settled, error) {
	var got []settler.Settled
	e.Svc.OnSettled = func(s settler.Settled) { got = append(got, s) }
	err := e.Svc.Step(context.Background())
	return got, err
}

// Settle closes epoch and steps until its root is proposed (or active, with
// no timelock), returning that report.
func (e *Env) Settle(t testing.TB, epoch uint64) settler.Settled {
	t.Helper()
	e.CloseEpoch(t, epoch)
	var got settler.Settled
	testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, func() error {
		settled, err := e.step()
		if err != nil {
			return err
		}
		for _, s := range settled {
			if s.Epoch == epoch && (s.State == tables.Proposed || s.State == tables.Active || s.State == tables.Final) {
				got = s
				return nil
			}
		}
		return fmt.Errorf("epoch %d never proposed; state %s", epoch, e.State(t, epoch))
	})
	return got
}

// StepUntil steps the settler until epoch reaches state.
func (e *Env) StepUntil(t testing.TB, epoch uint64, state tables.State) {
	t.Helper()
	testenv.Eventually(t, 40*time.Second, 200*time.Millisecond, func() error {
		if _, err := e.step(); err != nil {
			return err
		}
		if got := e.State(t, epoch); got != state {
			return fmt.Errorf("epoch %d is %s, never %s", epoch, got, state)
		}
		return nil
	})
}

// Settlement returns epoch's newest settlement ("" state: none).
func (e *Env) Settlement(t testing.TB, epoch uint64) tables.Settlement {
	t.Helper()
	st, _, err := tables.SettlementOf(context.Background(), e.Conn, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// State returns epoch's settlement state ("" when it has none).
func (e *Env) State(t testing.TB, epoch uint64) tables.State {
	t.Helper()
	return e.Settlement(t, epoch).State
}

// Roots reads the distributor's roots.
func (e *Env) Roots(t testing.TB) chain.Roots {
	t.Helper()
	c, err := chain.ReadRoots(context.Background(), e.Client, e.Contracts.Distributor)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Send sends data to the distributor from key and waits for success.
func (e *Env) Send(t testing.TB, key *ecdsa.PrivateKey, data []byte) {
	t.Helper()
	ctx := context.Background()
	opts, err := chain.Transactor(ctx, e.Client, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Send(ctx, e.Client, distributor.NewRewardsDistributor().Instance(e.Client, e.Contracts.Distributor), opts, data); err != nil {
		t.Fatal(err)
	}
}

// Fund gives account 10 ETH from the deployer.
func (e *Env) Fund(t testing.TB, account common.Address) {
	t.Helper()
	ctx := context.Background()
	id, _ := e.Client.ChainID(ctx)
	nonce, _ := e.Client.PendingNonceAt(ctx, chain.Address(e.Guardian))
	head, _ := e.Client.HeaderByNumber(ctx, nil)
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9))
	tx, _ := types.SignNewTx(e.Guardian, types.LatestSignerForChainID(id), &types.DynamicFeeTx{ChainID: id, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: fee,
		Gas: 21_000, To: &account, Value: new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil)})
	if err := e.Client.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := bind.WaitMined(ctx, e.Client, tx.Hash()); err != nil {
		t.Fatal(err)
	}
}

// Balance is account's token balance.
func (e *Env) Balance(t testing.TB, account string) *big.Int {
	t.Helper()
	bal, err := chain.TokenBalance(context.Background(), e.Client, e.Contracts.Token, common.HexToAddress(account))
	if err != nil {
		t.Fatal(err)
	}
	return bal
}

// RewardsRoot is the root of a tree granting each account its amount.
func RewardsRoot(t testing.TB, amounts map[string]int64) common.Hash {
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

// Proof asks the API for account's proof.
func Proof(t testing.TB, api *api.Server, account string) wire.RewardProof {
	t.Helper()
	srv := httptest.NewRecorder()
	api.Handler().ServeHTTP(srv, httptest.NewRequest("GET", "/v1/rewards/"+common.HexToAddress(account).Hex(), nil))
	var p wire.RewardProof
	if srv.Code != 200 || json.Unmarshal(srv.Body.Bytes(), &p) != nil {
		t.Fatalf("GET /v1/rewards/%s: %d %s", account, srv.Code, srv.Body)
	}
	return p
}

// Verifies checks p's proof of its leaf against root, as the contract does.
func Verifies(t testing.TB, p wire.RewardProof, root common.Hash) bool {
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

// API returns a proof API on the fixture's ClickHouse and chain, closed
// with the test.
func (e *Env) API(t testing.TB) *api.Server {
	t.Helper()
	srv, err := api.New(context.Background(), e.Conn, e.Client, e.Contracts.Distributor)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}
