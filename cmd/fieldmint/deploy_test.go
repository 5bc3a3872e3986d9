package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// TestDeployContracts runs `fieldmint deploy-contracts` against anvil
// mining a block a second, as a real chain does: the JSON it prints names
// contracts with the settings asked for and the pool in the distributor;
// --env prints what the settler reads; --token pays in an existing ERC-20;
// a missing key or flag is refused with what to fix, the key never shown;
// and code that is not this build's contract fails the check.
func TestDeployContracts(t *testing.T) {
	url, client := testenv.Anvil(t, "--block-time", "1")
	key, _ := crypto.GenerateKey()
	keyHex := hex.EncodeToString(crypto.FromECDSA(key))
	testenv.Fund(t, client, chain.Address(key))
	guardian := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	base := []string{"deploy-contracts", "--rpc", url, "--guardian", guardian.Hex(), "--timelock", "24h", "--emission-per-epoch", "1000", "--first-epoch", "7"}
	deploy := func(extra ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(append(append([]string{}, base...), extra...), &out, &errOut)
		return out.String(), errOut.String(), err
	}

	// No key: refused with what to set.
	if _, _, err := deploy(); err == nil || !strings.Contains(err.Error(), "FIELDMINT_DEPLOY_KEY") {
		t.Fatalf("without a key: %v", err)
	}
	t.Setenv("FIELDMINT_DEPLOY_KEY", keyHex)
	if err := run([]string{"deploy-contracts", "--rpc", url}, new(bytes.Buffer), new(bytes.Buffer)); err == nil ||
		!strings.Contains(err.Error(), "--guardian, --timelock, --emission-per-epoch, --first-epoch required") {
		t.Fatalf("missing flags: %v", err)
	}

	out, _, err := deploy()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(out), &fields); err != nil || len(fields) != 4 {
		t.Fatalf("stdout is not one JSON object of four keys: %q (%v)", out, err)
	}
	var d struct {
		ChainID     uint64 `json:"chainId"`
		Token       string `json:"token"`
		Distributor string `json:"distributor"`
		DeployBlock uint64 `json:"deployBlock"`
	}
	json.Unmarshal([]byte(out), &d)
	if d.ChainID != 31337 || !common.IsHexAddress(d.Token) || !common.IsHexAddress(d.Distributor) || d.DeployBlock == 0 {
		t.Fatalf("deployment %+v", d)
	}
	dist, first := distributor.NewRewardsDistributor(), common.HexToAddress(d.Distributor)
	if p := distGet(t, client, first, dist.PackSigners(), dist.UnpackSigners); len(p) != 1 || p[0] != chain.Address(key) {
		t.Errorf("signers %v, want the deployer alone", p)
	}
	if g := distGet(t, client, first, dist.PackGuardian(), dist.UnpackGuardian); g != guardian {
		t.Errorf("guardian %v", g)
	}
	if tl := distGet(t, client, first, dist.PackTimelock(), dist.UnpackTimelock); tl != 86400 {
		t.Errorf("timelock %v s, want 86400", tl)
	}
	if fe := distGet(t, client, first, dist.PackFirstEpoch(), dist.UnpackFirstEpoch); fe != 7 {
		t.Errorf("first epoch %v", fe)
	}
	bal, err := chain.TokenBalance(t.Context(), client, common.HexToAddress(d.Token), common.HexToAddress(d.Distributor))
	if err != nil || bal.Cmp(big.NewInt(1000*100_000)) != 0 {
		t.Errorf("the distributor holds %v (%v), want 100,000 epochs' emission", bal, err)
	}
	head, _ := client.BlockNumber(t.Context())
	if head < d.DeployBlock+1 {
		t.Errorf("printed at block %d, before the second confirmation of block %d", head, d.DeployBlock)
	}

	// --env, and an existing token, with another poster.
	poster := common.HexToAddress("0x00000000000000000000000000000000000000b2")
	envOut, progress, err := deploy("--env", "--token", d.Token, "--poster", poster.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(envOut+progress, keyHex) || strings.Contains(envOut+progress, keyHex[:16]) {
		t.Fatal("the deployer key was printed")
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(envOut), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "FIELDMINT_") {
			t.Fatalf("--env line %q", line)
		}
		env[k] = v
	}
	second := common.HexToAddress(env["FIELDMINT_SETTLE_DISTRIBUTOR"])
	if second == (common.Address{}) || env["FIELDMINT_SETTLE_RPC"] != url || env["FIELDMINT_SETTLE_EMISSIONPEREPOCH"] != "1000" || env["FIELDMINT_SETTLE_FROMBLOCK"] == "" {
		t.Fatalf("--env printed %v", env)
	}
	if tok := distGet(t, client, second, dist.PackToken(), dist.UnpackToken); tok != common.HexToAddress(d.Token) {
		t.Errorf("the second distributor pays in %v, want the existing token %s", tok, d.Token)
	}
	if p := distGet(t, client, second, dist.PackSigners(), dist.UnpackSigners); len(p) != 1 || p[0] != poster {
		t.Errorf("signers %v, want --poster alone", p)
	}
	if k := distGet(t, client, second, dist.PackThreshold(), dist.UnpackThreshold); k != 1 {
		t.Errorf("threshold %d with --poster, want 1", k)
	}

	checkSignerFlags(t, client, deploy, d.Token)
	// The settler reads those lines as they are.
	for k, v := range env {
		t.Setenv(k, v)
	}
	var cfgOut bytes.Buffer
	if err := run([]string{"api", "--check-config"}, &cfgOut, new(bytes.Buffer)); err != nil {
		t.Fatalf("the proof API with deploy-contracts --env: %v", err)
	}

	// The check: the first distributor is not what these settings deploy.
	c := chain.Contracts{Token: common.HexToAddress(d.Token), Distributor: common.HexToAddress(d.Distributor)}
	s := chain.Settings{Signers: []common.Address{chain.Address(key)}, Guardian: guardian, Timelock: 3600, EmissionPerEpoch: big.NewInt(1000), FirstEpoch: 7}
	if err := chain.CheckDeployed(t.Context(), client, c, s, big.NewInt(1000*100_000)); err == nil || !strings.Contains(err.Error(), "not this build's contract") {
		t.Fatalf("a distributor with another timelock passed the check: %v", err)
	}
	s.Timelock = 86400
	if err := chain.CheckDeployed(t.Context(), client, c, s, big.NewInt(1000*100_000)); err != nil {
		t.Fatalf("the check refuses the right contract: %v", err)
	}

	for k := range env {
		os.Unsetenv(k) // t.Setenv above restores them at the end
	}
	checkDeployOut(t, deploy, client, chain.Address(key))
}

// TestProbe: `fieldmint probe` passes on 2xx and fails on anything else,
// with what the server said.
func TestProbe(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(`{"ready":false,"checks":[{"name":"validate/kafka","result":"connection refused"}]}`))
	}))
	defer srv.Close()
	if err := run([]string{"probe", srv.URL + "/readyz"}, new(bytes.Buffer), new(bytes.Buffer)); err != nil {
		t.Fatalf("200: %v", err)
	}
	status = http.StatusServiceUnavailable
	err := run([]string{"probe", srv.URL + "/readyz"}, new(bytes.Buffer), new(bytes.Buffer))
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "validate/kafka") {
		t.Fatalf("503: %v", err)
	}
	srv.Close()
	if err := run([]string{"probe", srv.URL + "/readyz"}, new(bytes.Buffer), new(bytes.Buffer)); err == nil {
		t.Fatal("a server that is gone passed")
	}
}

// checkDeployOut checks --out: the file the roles read with
// FIELDMINT_ENV_FILE (compose's step); a second run finds it and deploys
// nothing.
func checkDeployOut(t *testing.T, deploy func(...string) (string, string, error), client *ethclient.Client, deployer common.Address) {
	outFile := filepath.Join(t.TempDir(), "contracts.env")
	if stdout, _, err := deploy("--env", "--out", outFile); err != nil || stdout != "" {
		t.Fatalf("--out: %v, stdout %q (want nothing)", err, stdout)
	}
	written, _ := os.ReadFile(outFile)
	t.Setenv("FIELDMINT_ENV_FILE", outFile)
	if err := run([]string{"api", "--check-config"}, new(bytes.Buffer), new(bytes.Buffer)); err != nil {
		t.Fatalf("the proof API with FIELDMINT_ENV_FILE: %v", err)
	}
	nonce, _ := client.NonceAt(t.Context(), deployer, nil)
	_, progress, err := deploy("--env", "--out", outFile)
	again, _ := os.ReadFile(outFile)
	after, _ := client.NonceAt(t.Context(), deployer, nil)
	if err != nil || after != nonce || string(again) != string(written) || !strings.Contains(progress, "nothing deployed") {
		t.Fatalf("second run with --out: %v, %d transactions sent, file changed %v, progress %q", err, after-nonce, string(again) != string(written), progress)
	}
}

// distGet reads one value of the distributor at addr.
func distGet[T any](t *testing.T, client *ethclient.Client, addr common.Address, data []byte, unpack func([]byte) (T, error)) T {
	t.Helper()
	v, err := bind.Call(distributor.NewRewardsDistributor().Instance(client, addr), nil, data, unpack)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkSignerFlags: --signers and --threshold deploy a k-of-n set; sets the
// contract would refuse are refused before anything is sent, saying why.
func checkSignerFlags(t *testing.T, client *ethclient.Client, deploy func(...string) (string, string, error), token string) {
	t.Helper()
	dist := distributor.NewRewardsDistributor()
	// --signers and --threshold: a 2-of-3 set, given in any order, stored ascending.
	set := []string{"0x00000000000000000000000000000000000000c3", "0x00000000000000000000000000000000000000c1", "0x00000000000000000000000000000000000000c2"}
	quorumOut, _, err := deploy("--token", token, "--signers", strings.Join(set, ","), "--threshold", "2")
	if err != nil {
		t.Fatal(err)
	}
	var q struct{ Distributor common.Address }
	json.Unmarshal([]byte(quorumOut), &q)
	if p := distGet(t, client, q.Distributor, dist.PackSigners(), dist.UnpackSigners); len(p) != 3 || p[0] != common.HexToAddress(set[1]) || p[2] != common.HexToAddress(set[0]) {
		t.Errorf("signers %v, want the three ascending", p)
	}
	if k := distGet(t, client, q.Distributor, dist.PackThreshold(), dist.UnpackThreshold); k != 2 {
		t.Errorf("threshold %d, want 2", k)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--signers", strings.Join(set, ","), "--threshold", "1"}, "more than half"},
		{[]string{"--signers", set[0] + "," + set[0]}, "given twice"},
		{[]string{"--signers", set[0], "--poster", set[1]}, "not both"},
		{[]string{"--signers", "0xnope"}, "not an address"},
	} {
		if _, _, err := deploy(append([]string{"--token", token}, bad.args...)...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("deploy-contracts %v: %v, want an error saying %q", bad.args, err, bad.want)
		}
	}
}
