// Package claim fetches an owner's proof from the proof API and sends the
// claim transaction to the RewardsDistributor.
package claim

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// Options of a claim.
type Options struct {
	API     string            // proof API base URL
	RPC     string            // JSON-RPC endpoint
	Key     *ecdsa.PrivateKey // pays the gas
	Account common.Address    // whose rewards; zero: the key's address
}

// Result of a claim.
type Result struct {
	Account    common.Address
	Epoch      uint64
	Cumulative *big.Int
	Paid       *big.Int // cumulative minus what was claimed before
	Tx         common.Hash
	Block      uint64
	Balance    *big.Int // token balance afterwards
	Token      common.Address
}

// ErrNothingToClaim means everything the active root grants has been
// claimed already (a pending root may grant more later: see the error).
var ErrNothingToClaim = fmt.Errorf("nothing to claim: everything the active root grants is already claimed")

// FetchProof gets the latest proof of account from the API.
func FetchProof(ctx context.Context, api string, account common.Address) (*wire.RewardProof, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/rewards/"+account.Hex(), nil)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("proof API %s: %w", api, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Code, Message string }
		json.Unmarshal(body, &e)
		return nil, fmt.Errorf("proof API: %d %s: %s", resp.StatusCode, e.Code, e.Message)
	}
	var p wire.RewardProof
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("proof API: bad response: %w", err)
	}
	return &p, nil
}

// ErrRootMoved means the chain's root kept differing from the API's.
var ErrRootMoved = fmt.Errorf("the proof API and the chain disagree on the current root; is the API behind the chain?")

// Run claims. The API serves the proof against the root active on chain;
// when a pending root was activated between the API's answer and the
// chain's, Run asks again (a few times) before sending anything.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Account == (common.Address{}) {
		o.Account = chain.Address(o.Key)
	}
	client, err := ethclient.DialContext(ctx, o.RPC)
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", o.RPC, err)
	}
	defer client.Close()
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", o.RPC, err)
	}
	d := distributor.NewRewardsDistributor()
	call := &bind.CallOpts{Context: ctx}
	var p *wire.RewardProof
	var inst *bind.BoundContract
	for attempt := 0; ; attempt++ {
		if p, err = FetchProof(ctx, o.API, o.Account); err != nil {
			return nil, err
		}
		if !common.IsHexAddress(p.Distributor) {
			return nil, fmt.Errorf("proof API: malformed distributor %q", p.Distributor)
		}
		if p.ChainID != "" && id.String() != p.ChainID {
			return nil, fmt.Errorf("the proof is for chain %s but %s is chain %s", p.ChainID, o.RPC, id)
		}
		inst = d.Instance(client, common.HexToAddress(p.Distributor))
		root, err := bind.Call(inst, call, d.PackRoot(), d.UnpackRoot)
		if err != nil {
			return nil, fmt.Errorf("reading the distributor's root: %w", err)
		}
		if common.Hash(root) == common.HexToHash(p.Root) {
			break
		}
		if attempt == 4 {
			return nil, fmt.Errorf("%w (API %s, chain %x)", ErrRootMoved, p.Root, root)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	cum, ok := new(big.Int).SetString(p.CumulativeAmount, 10)
	if !ok {
		return nil, fmt.Errorf("proof API: malformed cumulative amount %q", p.CumulativeAmount)
	}
	proof := make([][32]byte, len(p.Proof))
	for i, h := range p.Proof {
		proof[i] = common.HexToHash(h)
	}
	claimed, err := bind.Call(inst, call, d.PackClaimed(o.Account), d.UnpackClaimed)
	if err != nil {
		return nil, fmt.Errorf("reading claimed amount: %w", err)
	}
	if cum.Cmp(claimed) <= 0 {
		if p.Pending != nil && p.Pending.Claimable != "0" {
			return nil, fmt.Errorf("%w; %s base units more from %s, when epoch %d's root activates", ErrNothingToClaim, p.Pending.More, p.Pending.ActivatesAt, p.Pending.Epoch)
		}
		return nil, ErrNothingToClaim
	}
	opts, err := chain.Transactor(ctx, client, o.Key)
	if err != nil {
		return nil, err
	}
	receipt, err := chain.Send(ctx, client, inst, opts, d.PackClaim(o.Account, cum, proof))
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	tok, err := bind.Call(inst, call, d.PackToken(), d.UnpackToken)
	if err != nil {
		return nil, err
	}
	bal, err := chain.TokenBalance(ctx, client, tok, o.Account)
	if err != nil {
		return nil, err
	}
	return &Result{Account: o.Account, Epoch: p.Epoch, Cumulative: cum, Paid: new(big.Int).Sub(cum, claimed),
		Tx: receipt.TxHash, Block: receipt.BlockNumber.Uint64(), Balance: bal, Token: tok}, nil
}
