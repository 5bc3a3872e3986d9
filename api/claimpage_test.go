package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// testWallet is an EIP-1193 provider for the claim page in tests: it
// answers eth_requestAccounts with the owner and forwards every other call to
// anvil, which signs eth_sendTransaction with the owner's dev key. The page
// cannot tell it from a browser wallet.
const testWallet = `<script>
window.ethereum = {
  request: async ({ method, params }) => {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [%q];
    const resp = await fetch(%q, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: params || [] }) });
    const body = await resp.json();
    if (body.error) throw new Error(body.error.message);
    return body.result;
  },
};
</script>`

// browse loads url in headless Chromium and returns the DOM once the page
// is idle.
func browse(t *testing.T, ctx context.Context, url string) string {
	return testenv.Chromium(t, ctx, url, "")
}

// TestClaimPageClaimsThroughTheWallet: the page served at /claim shows an
// owner's rewards and claims them through the browser's wallet; the tokens
// arrive on chain.
func TestClaimPageClaimsThroughTheWallet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rpcURL, client := testenv.Anvil(t)
	deployer, _ := crypto.GenerateKey()
	poster, _ := crypto.GenerateKey()
	for _, a := range []common.Address{chain.Address(deployer), chain.Address(poster)} {
		testenv.Fund(t, client, a)
	}
	// The owner is one of anvil's dev accounts: anvil holds its key and signs
	// the wallet's eth_sendTransaction with it.
	var devAccounts []common.Address
	if err := client.Client().CallContext(ctx, &devAccounts, "eth_accounts"); err != nil || len(devAccounts) == 0 {
		t.Fatalf("anvil dev accounts: %v %v", devAccounts, err)
	}
	owner := devAccounts[0]
	e := settlertest.Deploy(t, client, deployer, poster, 0, func(c *settler.Config) { c.RPC = rpcURL })
	e.Scores(t, 10, map[string]uint64{owner.Hex(): 3, settlertest.Bob: 1}) // the owner earns 750 of 1000
	e.Settle(t, 10)

	api := e.API(t)
	api.ClaimPageHead = fmt.Sprintf(testWallet, owner.Hex(), rpcURL)
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	dom := browse(t, ctx, srv.URL+"/claim?address="+owner.Hex())
	if !strings.Contains(dom, `data-state="ready"`) || !strings.Contains(dom, "0.00000000000000075 FMNT") {
		t.Fatalf("before claiming, the page should show 750 base units claimable:\n%s", dom)
	}
	dom = browse(t, ctx, srv.URL+"/claim?autoclaim=1&address="+owner.Hex())
	if !strings.Contains(dom, `data-state="claimed"`) || !strings.Contains(dom, `<dd id="claimable">0 FMNT</dd>`) {
		t.Fatalf("the page did not claim, or does not show 0 left to claim:\n%s", dom)
	}
	if bal, err := chain.TokenBalance(ctx, client, e.Contracts.Token, owner); err != nil || bal.Int64() != 750 {
		t.Fatalf("owner balance %v (%v), want 750", bal, err)
	}
	if dom := browse(t, ctx, srv.URL+"/claim?address=0x12"); !strings.Contains(dom, `data-state="error"`) || !strings.Contains(dom, "BAD_ADDRESS") {
		t.Errorf("a malformed address should show the API's reason:\n%s", dom)
	}
}
