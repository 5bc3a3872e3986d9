package settler

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	os.Exit(m.Run())
}

type env struct {
	svc       *Service
	conn      driver.Conn
	poster    common.Address
	posterKey *ecdsa.PrivateKey
	guardian  *ecdsa.PrivateKey // the deployer
	contracts chain.Contracts
	dc        *devchain.Chain
}

func newEnv(t *testing.T) *env { return newEnvWithTimelock(t, 0) }

// newEnvWithTimelock deploys a distributor whose roots wait timelock seconds
// on a dev chain, and a settler whose poster key is in an encrypted
// keystore, as in production.
func newEnvWithTimelock(t *testing.T, timelock uint64) *env {
	ctx := context.Background()
	deployer, _ := crypto.GenerateKey()
	poster, _ := crypto.GenerateKey()
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil)
	dc, err := devchain.Start(devchain.Options{Alloc: map[common.Address]*big.Int{chain.Address(deployer): eth, chain.Address(poster): eth}, EmptyBlocks: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	client, err := dc.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	e, _ := deploySettler(t, client, deployer, poster, timelock, func(c *Config) {
		c.RPC, c.PosterKey = dc.URL, ""
		c.PosterKeystore, c.PosterPassword = writeKeystore(t, poster, "correct horse"), "correct horse"
	})
	e.dc = dc
	return e
}

// deploySettler deploys the reward token and a distributor (1000 per epoch
// from epoch 10, the given timelock, deployer as guardian) on client, and
// returns the contracts and a settler posting there with poster's key, its
// configuration changed by edit.
func deploySettler(t *testing.T, client chain.Backend, deployer, poster *ecdsa.PrivateKey, timelock uint64, edit func(*Config)) (*env, chain.Contracts) {
	ctx := context.Background()
	c, err := chain.Deploy(ctx, client, deployer, chain.Settings{Poster: chain.Address(poster), Guardian: chain.Address(deployer),
		EmissionPerEpoch: big.NewInt(1000), FirstEpoch: 10, Timelock: timelock}, new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil))
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := testenv.ClickHouseConn(t)
	cfg := DefaultConfig()
	cfg.Distributor, cfg.EmissionPerEpoch = c.Distributor.Hex(), "1000"
	cfg.PosterKey = hex.EncodeToString(crypto.FromECDSA(poster))
	edit(&cfg)
	svc, err := NewWithBackend(ctx, cfg, conn, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, conn: conn, poster: chain.Address(poster), posterKey: poster, guardian: deployer, contracts: c}, c
}

// scores records each owner's contribution in epoch, as the aggregator's
// device_scores row of one device per owner.
func (e *env) scores(t *testing.T, epoch uint64, s map[string]uint64) {
	for owner, score := range s {
		if err := e.conn.Exec(context.Background(), `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, score)
			VALUES (?, ?, ?, 'RESOURCE_KIND_WEATHER', 1, 1, ?, 0, 1, ?)`, epoch, "d-"+owner, owner, score, score); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *env) nonce(t *testing.T) uint64 {
	client, _ := e.dc.Client(context.Background())
	defer client.Close()
	n, err := client.NonceAt(context.Background(), e.poster, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// closeEpoch records epoch closed and its scores released, as the
// aggregator does (the hold passed).
func (e *env) closeEpoch(t *testing.T, epoch uint64) {
	if err := e.conn.Exec(context.Background(), "INSERT INTO epochs VALUES (?, now64(3), now64(3), now64(3))", epoch); err != nil {
		t.Fatal(err)
	}
	if err := e.conn.Exec(context.Background(), "INSERT INTO scored_epochs VALUES (?, now64(3))", epoch); err != nil {
		t.Fatal(err)
	}
}

// step runs one settler step and returns what it reported.
func (e *env) step(t *testing.T) []Settled {
	t.Helper()
	var got []Settled
	e.svc.OnSettled = func(s Settled) { got = append(got, s) }
	if err := e.svc.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got
}

// settle closes epoch and steps until its root is proposed (or active, with
// no timelock), returning that report.
func (e *env) settle(t *testing.T, epoch uint64) Settled {
	t.Helper()
	e.closeEpoch(t, epoch)
	var got Settled
	testenv.Eventually(t, 30*time.Second, 200*time.Millisecond, func() error {
		for _, s := range e.step(t) {
			if s.Epoch == epoch && (s.State == Proposed || s.State == Active || s.State == Final) {
				got = s
				return nil
			}
		}
		return fmt.Errorf("epoch %d never proposed; state %s", epoch, e.state(t, epoch))
	})
	return got
}

// state returns epoch's settlement state.
func (e *env) state(t *testing.T, epoch uint64) State {
	t.Helper()
	st, ok, err := e.svc.st.settlement(context.Background(), epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return ""
	}
	return st.state
}

// chain reads the distributor's roots.
func (e *env) chain(t *testing.T) onChain {
	t.Helper()
	c, err := readOnChain(context.Background(), e.svc.client, e.svc.d, e.svc.dist)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	alice = "0x00000000000000000000000000000000000000A1"
	bob   = "0x00000000000000000000000000000000000000b0"
)

func TestSettleIsCumulativeAndIdempotent(t *testing.T) {
	e := newEnv(t)
	aliceAddr, bobAddr := common.HexToAddress(alice), common.HexToAddress(bob)
	e.scores(t, 10, map[string]uint64{aliceAddr.Hex(): 3, bobAddr.Hex(): 1})
	first := e.settle(t, 10)
	if first.Tx == (common.Hash{}) || first.Accounts != 2 {
		t.Fatalf("epoch 10: %+v", first)
	}
	// Epoch 11: only bob scores; alice keeps her cumulative 750.
	e.scores(t, 11, map[string]uint64{bobAddr.Hex(): 5})
	second := e.settle(t, 11)
	want, _ := merkle.OfRewards([]merkle.Reward{{Account: aliceAddr, Amount: big.NewInt(750)}, {Account: bobAddr, Amount: big.NewInt(1250)}})
	if second.Root != want.Root() {
		t.Fatalf("epoch 11 root %s, want %s (alice 750, bob 250+1000)", second.Root.Hex(), want.Root().Hex())
	}
	// Stepping again, and closing the epoch again, posts nothing.
	before := e.nonce(t)
	e.closeEpoch(t, 11)
	for i := 0; i < 3; i++ {
		for _, s := range e.step(t) {
			if s.State == Computed || s.State == Proposed {
				t.Errorf("an already posted epoch was settled again: %+v", s)
			}
		}
	}
	if e.nonce(t) != before {
		t.Fatal("a second transaction was sent for a posted epoch")
	}

	api := httptest.NewServer(e.svc.NewAPI().Handler())
	defer api.Close()
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	code, body := get("/v1/rewards/" + alice)
	if code != 200 || body["cumulativeAmount"] != "750" || body["epoch"].(float64) != 11 || body["root"] != want.Root().Hex() {
		t.Fatalf("alice: %d %v", code, body)
	}
	for path, wantCode := range map[string]string{
		"/v1/rewards/0x1234": CodeBadAddress,
		"/v1/rewards/0x00000000000000000000000000000000000000c0": CodeNotFound,
		"/v1/epochs/abc/tree":    CodeBadEpoch,
		"/v1/epochs/99/tree":     CodeNotFound,
		"/v1/epochs/12":          CodeNotFound,
		"/v1/epochs/-1":          CodeBadEpoch,
		"/v1/epochs?limit=0":     CodeBadLimit,
		"/v1/epochs?limit=1001":  CodeBadLimit,
		"/v1/epochs?limit=three": CodeBadLimit,
	} {
		if _, body := get(path); body["code"] != wantCode {
			t.Errorf("%s: %v, want code %s", path, body, wantCode)
		}
	}
	if code, body := get("/v1/epochs/11/tree"); code != 200 || body["format"] != "standard-v1" {
		t.Errorf("tree: %d %v", code, body)
	}
	// Nobody has claimed yet: all of alice's cumulative is claimable.
	if body["claimed"] != "0" || body["claimable"] != "750" {
		t.Errorf("alice before any claim: claimed %v, claimable %v; want 0 and 750", body["claimed"], body["claimable"])
	}
	code, body = get("/v1/epochs/11")
	if code != 200 || body["root"] != want.Root().Hex() || body["total"] != "2000" || body["accounts"].(float64) != 2 || (body["status"] != "active" && body["status"] != "final") {
		t.Errorf("epoch 11: %d %v", code, body)
	}
	if code, body := get("/v1/epochs/10"); code != 200 || body["tx"] != first.Tx.Hex() || body["block"].(float64) != float64(first.Block) {
		t.Errorf("epoch 10: %d %v, want tx %s", code, body, first.Tx.Hex())
	}
	code, body = get("/v1/epochs?limit=1")
	if list, _ := body["epochs"].([]any); code != 200 || len(list) != 1 || list[0].(map[string]any)["epoch"].(float64) != 11 {
		t.Errorf("epochs?limit=1: %d %v", code, body)
	}
	if code, body := get("/v1/epochs"); code != 200 || len(body["epochs"].([]any)) != 2 {
		t.Errorf("epochs: %d %v", code, body)
	}

	// An API whose database does not hold the chain's active root (behind,
	// or another settler's) says so rather than serve a proof that fails.
	empty, _ := testenv.ClickHouseConn(t)
	behind := httptest.NewServer((&API{Conn: empty, Distributor: e.svc.distributor(), ChainID: e.svc.chainID, Client: e.svc.client}).Handler())
	defer behind.Close()
	resp, err := http.Get(behind.URL + "/v1/rewards/" + alice)
	if err != nil {
		t.Fatal(err)
	}
	var refusal map[string]string
	json.NewDecoder(resp.Body).Decode(&refusal)
	resp.Body.Close()
	if resp.StatusCode != 503 || refusal["code"] != CodeRootUnknown {
		t.Errorf("API on a database without the active root: %d %v, want 503 %s", resp.StatusCode, refusal, CodeRootUnknown)
	}
}

func TestConfigValidateNeverEchoesTheKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Distributor = "0x00000000000000000000000000000000000000A1"
	cfg.PosterKey = "0xnot-a-key-but-a-secret-s3cr3t"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("bad key accepted")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error echoes the key: %v", err)
	}
}

// writeKeystore writes key to a Web3 Secret Storage file under password.
func writeKeystore(t *testing.T, key *ecdsa.PrivateKey, password string) string {
	ks := keystore.NewKeyStore(t.TempDir(), keystore.LightScryptN, keystore.LightScryptP)
	acct, err := ks.ImportECDSA(key, password)
	if err != nil {
		t.Fatal(err)
	}
	return acct.URL.Path
}

func TestPosterKeystore(t *testing.T) {
	key, _ := crypto.GenerateKey()
	cfg := DefaultConfig()
	cfg.Distributor = "0x00000000000000000000000000000000000000A1"
	cfg.PosterKeystore, cfg.PosterPassword = writeKeystore(t, key, "right password"), "right password"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Key()
	if err != nil || chain.Address(got) != chain.Address(key) {
		t.Fatalf("keystore key %v (%v), want %s", got, err, chain.Address(key).Hex())
	}
	cfg.PosterPassword = "wrong-s3cr3t"
	_, err = cfg.Key()
	keyHex := hex.EncodeToString(crypto.FromECDSA(key))
	if !errors.Is(err, ErrKeystore) || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), keyHex) {
		t.Fatalf("wrong password: %v, want ErrKeystore saying neither password nor key", err)
	}
	cfg.PosterKey = keyHex
	if err := cfg.Validate(); err == nil || strings.Contains(err.Error(), keyHex) {
		t.Fatalf("posterKey and posterKeystore together: %v", err)
	}
}
