package settler

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	os.Exit(m.Run())
}

type env struct {
	svc    *Service
	conn   driver.Conn
	poster common.Address
	dc     *devchain.Chain
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
	svc, err := NewWithBackend(ctx, cfg, kafka.Config{Brokers: []string{"127.0.0.1:1"}, Partitions: 1}, conn, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, conn: conn, poster: chain.Address(poster)}, c
}

func (e *env) scores(t *testing.T, epoch uint64, s map[string]uint64) {
	for owner, score := range s {
		if err := e.conn.Exec(context.Background(), `INSERT INTO readings (device_id, epoch, owner, status, score, event_time, received_at, kafka_topic)
			VALUES ('d', ?, ?, 'valid', ?, now64(3), now64(3), 'test')`, epoch, owner, score); err != nil {
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

func (e *env) settle(t *testing.T, epoch uint64) Settled {
	var got Settled
	e.svc.OnSettled = func(s Settled) { got = s }
	if err := e.svc.Settle(context.Background(), &pb.EpochClosed{Epoch: epoch, StartMs: 0, EndMs: 1}); err != nil {
		t.Fatal(err)
	}
	return got
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
	// Settling again posts nothing.
	before := e.nonce(t)
	e.svc.OnSettled = func(Settled) { t.Error("an already posted epoch was settled again") }
	if err := e.svc.Settle(context.Background(), &pb.EpochClosed{Epoch: 11}); err != nil {
		t.Fatal(err)
	}
	if e.nonce(t) != before {
		t.Fatal("a second transaction was sent for a posted epoch")
	}
	// A crash after the root reached the chain but before it was recorded:
	// the settler finds it on chain, checks it, and posts nothing.
	if err := e.conn.Exec(context.Background(), "ALTER TABLE settlements DELETE WHERE epoch = 11 AND status = 'posted' SETTINGS mutations_sync = 2"); err != nil {
		t.Fatal(err)
	}
	rec := e.settle(t, 11)
	if !rec.Recovered || rec.Root != want.Root() || e.nonce(t) != before {
		t.Fatalf("recovery: %+v, nonce %d -> %d", rec, before, e.nonce(t))
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
	if code != 200 || body["root"] != want.Root().Hex() || body["total"] != "2000" || body["accounts"].(float64) != 2 || body["status"] != "posted" {
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

// TestTimelockedRootIsActivatedBySettler: with a timelock, a posted root is
// pending; the next epoch cannot be proposed over it (the settler retries
// such an epoch), and once the timelock passes the settler activates it.
func TestTimelockedRootIsActivatedBySettler(t *testing.T) {
	e := newEnvWithTimelock(t, 5)
	ctx := context.Background()
	e.scores(t, 10, map[string]uint64{alice: 1})
	first := e.settle(t, 10)
	d := distributor.NewRewardsDistributor()
	client, _ := e.dc.Client(ctx)
	defer client.Close()
	inst := d.Instance(client, common.HexToAddress(e.svc.cfg.Distributor))
	active := func() common.Hash {
		r, err := bind.Call(inst, nil, d.PackRoot(), d.UnpackRoot)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if active() != (common.Hash{}) {
		t.Fatal("a timelocked root is active at once")
	}
	e.scores(t, 11, map[string]uint64{bob: 1})
	if err := e.svc.Settle(ctx, &pb.EpochClosed{Epoch: 11, EndMs: 1}); err == nil {
		t.Fatal("epoch 11 was proposed over epoch 10's root in its timelock")
	}
	if n, err := e.svc.ActivateDue(ctx); n != 0 || err != nil {
		t.Fatalf("activated epoch %d (%v) before the timelock passed", n, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := e.svc.ActivateDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the settler never activated the pending root")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if active() != first.Root {
		t.Fatalf("active root %s, want epoch 10's %s", active().Hex(), first.Root.Hex())
	}
	if n, err := e.svc.ActivateDue(ctx); n != 0 || err != nil {
		t.Errorf("nothing should be due after activation: epoch %d, %v", n, err)
	}
	// Now epoch 11 goes through.
	if err := e.svc.Settle(ctx, &pb.EpochClosed{Epoch: 11, EndMs: 1}); err != nil {
		t.Fatalf("epoch 11 after epoch 10 activated: %v", err)
	}
}
