// Package chain holds what the settler, the claim command and the dev stack
// share about Ethereum: keys, transactors and contract deployment.
package chain

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/fieldmint/fieldmint/schemas/bindings/token"
)

// ErrBadKey is returned for an unusable private key. It never contains the key.
var ErrBadKey = errors.New("private key must be 32 bytes of hex (64 hex digits, optional 0x)")

// ParseKey parses a hex private key. Errors never echo the input.
func ParseKey(s string) (*ecdsa.PrivateKey, error) {
	k, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, ErrBadKey
	}
	return k, nil
}

// Address returns the address of a key.
func Address(k *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// Backend is what fieldmint needs of an Ethereum node: a JSON-RPC client
// (*ethclient.Client) or go-ethereum's simulated backend (simulated.Client),
// which tests use to fork the chain.
type Backend interface {
	bind.ContractBackend
	bind.DeployBackend
	ethereum.ChainIDReader
	NonceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (uint64, error)
	BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error)
	TransactionByHash(ctx context.Context, hash common.Hash) (tx *types.Transaction, isPending bool, err error)
}

// Transactor returns signing options for key on the chain client is connected to.
func Transactor(ctx context.Context, client Backend, key *ecdsa.PrivateKey) (*bind.TransactOpts, error) {
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("chain id: %w", err)
	}
	opts := bind.NewKeyedTransactor(key, id)
	opts.Context = ctx
	return opts, nil
}

// Send sends a transaction and waits until it is mined successfully.
func Send(ctx context.Context, client Backend, c *bind.BoundContract, opts *bind.TransactOpts, data []byte) (*types.Receipt, error) {
	tx, err := bind.Transact(c, opts, data)
	if err != nil {
		return nil, err
	}
	receipt, err := bind.WaitMined(ctx, client, tx.Hash())
	if err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", tx.Hash().Hex(), err)
	}
	if receipt.Status != types.ReceiptStatusSuccessful {
		return receipt, fmt.Errorf("transaction %s reverted", tx.Hash().Hex())
	}
	return receipt, nil
}

// Contracts are the addresses of one deployment.
type Contracts struct {
	Token       common.Address `json:"token"`
	Distributor common.Address `json:"distributor"`
	// Block is the distributor's deployment block: its events start there.
	Block uint64 `json:"block"`
}

// Settings are what a distributor is deployed with, fixed for its lifetime.
type Settings struct {
	// Signers propose roots together: Threshold of them sign each one
	// (0: the smallest majority, n/2+1). Order does not matter.
	Signers   []common.Address
	Threshold uint8
	Guardian  common.Address // may revoke a pending root and pause claims
	Timelock  uint64         // seconds a proposed root waits; 0: active at once
	// The emission schedule: EmissionPerEpoch from FirstEpoch on. A root's
	// cumulative total may not exceed what the schedule has emitted.
	EmissionPerEpoch *big.Int
	FirstEpoch       uint64
}

// Deploy deploys the reward token and the distributor, and gives the
// distributor the whole pool.
func Deploy(ctx context.Context, client Backend, deployer *ecdsa.PrivateKey, s Settings, pool *big.Int) (Contracts, error) {
	if err := s.Check(); err != nil {
		return Contracts{}, err
	}
	opts, err := Transactor(ctx, client, deployer)
	if err != nil {
		return Contracts{}, err
	}
	// The distributor's address is known before it exists (deployer's nonce
	// + 1), so the token can mint the pool straight to it.
	nonce, err := client.PendingNonceAt(ctx, opts.From)
	if err != nil {
		return Contracts{}, err
	}
	distAddr := crypto.CreateAddress(opts.From, nonce+1)
	tokAddr, tx, err := bind.DeployContract(opts, common.FromHex(token.RewardTokenMetaData.Bin), client, tokenArgs(distAddr, pool))
	if err != nil {
		return Contracts{}, fmt.Errorf("deploy token: %w", err)
	}
	if _, err := bind.WaitDeployed(ctx, client, tx.Hash()); err != nil {
		return Contracts{}, fmt.Errorf("deploy token: %w", err)
	}
	c, err := DeployDistributor(ctx, client, deployer, tokAddr, s)
	if err != nil {
		return Contracts{}, err
	}
	if c.Distributor != distAddr {
		return Contracts{}, fmt.Errorf("distributor deployed at %s, expected %s: was the deployer used concurrently?", c.Distributor, distAddr)
	}
	return c, nil
}

// TokenBalance returns account's balance of the reward token.
func TokenBalance(ctx context.Context, client Backend, tok, account common.Address) (*big.Int, error) {
	t := token.NewRewardToken()
	return bind.Call(t.Instance(client, tok), &bind.CallOpts{Context: ctx}, t.PackBalanceOf(account), t.UnpackBalanceOf)
}

// Dial connects to an Ethereum JSON-RPC endpoint. Over HTTP it keeps up to
// 64 idle connections to the node: go-ethereum's default client keeps 2,
// so a server making calls for many requests at once (the proof API) dialled
// a new connection for most calls, which was a seventh of its CPU.
func Dial(ctx context.Context, url string) (*ethclient.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 64, 64
	// Every call ends within 30 s: a node that stops answering (frozen,
	// or cut off without a reset) fails the call, and the caller's retry
	// and the outage watch see it, rather than a request hanging for as
	// long as the kernel keeps the connection.
	c, err := rpc.DialOptions(ctx, url, rpc.WithHTTPClient(&http.Client{Transport: t, Timeout: 30 * time.Second}))
	if err != nil {
		return nil, err
	}
	return ethclient.NewClient(c), nil
}
