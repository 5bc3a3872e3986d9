package settler_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/merkle"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

func TestMain(m *testing.M) {
	testenv.Main(m) // no goroutine of a stage outlives its test
}

const (
	alice = settlertest.Alice
	bob   = settlertest.Bob
)

func TestSettleIsCumulativeAndIdempotent(t *testing.T) {
	e := settlertest.New(t, 0)
	aliceAddr, bobAddr := common.HexToAddress(alice), common.HexToAddress(bob)
	e.Scores(t, 10, map[string]uint64{aliceAddr.Hex(): 3, bobAddr.Hex(): 1})
	first := e.Settle(t, 10)
	if first.Tx == (common.Hash{}) || first.Accounts != 2 {
		t.Fatalf("epoch 10: %+v", first)
	}
	// Epoch 11: only bob scores; alice keeps her cumulative 750.
	e.Scores(t, 11, map[string]uint64{bobAddr.Hex(): 5})
	second := e.Settle(t, 11)
	want, _ := merkle.OfRewards([]merkle.Reward{{Account: aliceAddr, Amount: big.NewInt(750)}, {Account: bobAddr, Amount: big.NewInt(1250)}})
	if second.Root != want.Root() {
		t.Fatalf("epoch 11 root %s, want %s (alice 750, bob 250+1000)", second.Root.Hex(), want.Root().Hex())
	}
	// Stepping again, and closing the epoch again, posts nothing.
	before := e.Nonce(t)
	e.CloseEpoch(t, 11)
	for i := 0; i < 3; i++ {
		for _, s := range e.Step(t) {
			if s.State == tables.Computed || s.State == tables.Proposed {
				t.Errorf("an already posted epoch was settled again: %+v", s)
			}
		}
	}
	if e.Nonce(t) != before {
		t.Fatal("a second transaction was sent for a posted epoch")
	}

	api := httptest.NewServer(e.API(t).Handler())
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
		"/v1/rewards/0x1234": wire.CodeBadAddress,
		"/v1/rewards/0x00000000000000000000000000000000000000c0": wire.CodeNotFound,
		"/v1/epochs/abc/tree":    wire.CodeBadEpoch,
		"/v1/epochs/99/tree":     wire.CodeNotFound,
		"/v1/epochs/12":          wire.CodeNotFound,
		"/v1/epochs/-1":          wire.CodeBadEpoch,
		"/v1/epochs?limit=0":     wire.CodeBadLimit,
		"/v1/epochs?limit=1001":  wire.CodeBadLimit,
		"/v1/epochs?limit=three": wire.CodeBadLimit,
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
	behind := httptest.NewServer((&settlertest.Env{Conn: empty, Client: e.Client, Contracts: e.Contracts}).API(t).Handler())
	defer behind.Close()
	resp, err := http.Get(behind.URL + "/v1/rewards/" + alice)
	if err != nil {
		t.Fatal(err)
	}
	var refusal map[string]string
	json.NewDecoder(resp.Body).Decode(&refusal)
	resp.Body.Close()
	if resp.StatusCode != 503 || refusal["code"] != wire.CodeRootUnknown {
		t.Errorf("API on a database without the active root: %d %v, want 503 %s", resp.StatusCode, refusal, wire.CodeRootUnknown)
	}
}

func TestConfigValidateNeverEchoesTheKey(t *testing.T) {
	cfg := settler.DefaultConfig()
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

func TestPosterKeystore(t *testing.T) {
	key, _ := crypto.GenerateKey()
	cfg := settler.DefaultConfig()
	cfg.Distributor = "0x00000000000000000000000000000000000000A1"
	cfg.PosterKeystore, cfg.PosterPassword = settlertest.WriteKeystore(t, key, "right password"), "right password"
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
	if !errors.Is(err, settler.ErrKeystore) || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), keyHex) {
		t.Fatalf("wrong password: %v, want settler.ErrKeystore saying neither password nor key", err)
	}
	cfg.PosterKey = keyHex
	if err := cfg.Validate(); err == nil || strings.Contains(err.Error(), keyHex) {
		t.Fatalf("posterKey and posterKeystore together: %v", err)
	}
}
