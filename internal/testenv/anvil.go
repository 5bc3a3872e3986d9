package testenv

import (
	"context"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// FoundryBin returns the path of Foundry's anvil or cast, which make deps
// installs with npm (@foundry-rs/<name>-linux-amd64 in schemas/contracts).
func FoundryBin(t testing.TB, name string) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(here), "..", "..", "schemas", "contracts", "node_modules", "@foundry-rs", name+"-linux-amd64", "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not installed: run `make deps` (npm install in schemas/contracts)", name)
	}
	return p
}

// Anvil starts Foundry's dev node on a free loopback port, with extra
// command-line arguments (e.g. --no-mining), stopped by t.Cleanup, and
// returns its JSON-RPC URL and a client.
func Anvil(t testing.TB, args ...string) (string, *ethclient.Client) {
	t.Helper()
	url, client, _ := AnvilProcess(t, args...)
	return url, client
}

// AnvilProcess is Anvil, and also returns anvil's process (a test freezes
// it to take the chain's RPC away).
func AnvilProcess(t testing.TB, args ...string) (string, *ethclient.Client, *os.Process) {
	t.Helper()
	addr := freeport.Addr()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(FoundryBin(t, "anvil"), append([]string{"--host", "127.0.0.1", "--port", port, "--silent"}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	ctx := context.Background()
	for i := 0; ; i++ {
		c, err := ethclient.DialContext(ctx, url)
		if err == nil {
			if _, err = c.ChainID(ctx); err == nil {
				t.Cleanup(c.Close)
				return url, c, cmd.Process
			}
			c.Close()
		}
		if i == 100 {
			t.Fatalf("anvil did not answer on %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Fund gives account 1000 ether on anvil.
func Fund(t testing.TB, client *ethclient.Client, account common.Address) {
	t.Helper()
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil)
	if err := client.Client().CallContext(context.Background(), nil, "anvil_setBalance", account, hexutil.EncodeBig(eth)); err != nil {
		t.Fatal(err)
	}
}
