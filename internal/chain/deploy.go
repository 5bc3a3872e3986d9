package chain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/bindings/token"
)

// DeployDistributor deploys a distributor paying in an existing ERC-20,
// tok; the distributor holds nothing until someone transfers the pool to it.
func DeployDistributor(ctx context.Context, client Backend, deployer *ecdsa.PrivateKey, tok common.Address, s Settings) (Contracts, error) {
	if s.EmissionPerEpoch == nil || s.EmissionPerEpoch.Sign() <= 0 {
		return Contracts{}, errors.New("deploy: the emission per epoch must be positive")
	}
	opts, err := Transactor(ctx, client, deployer)
	if err != nil {
		return Contracts{}, err
	}
	addr, tx, err := bind.DeployContract(opts, common.FromHex(distributor.RewardsDistributorMetaData.Bin), client, distributorArgs(tok, s))
	if err != nil {
		return Contracts{}, fmt.Errorf("deploy distributor: %w", err)
	}
	receipt, err := bind.WaitMined(ctx, client, tx.Hash())
	if err != nil {
		return Contracts{}, fmt.Errorf("deploy distributor: %w", err)
	}
	if _, err := bind.WaitDeployed(ctx, client, tx.Hash()); err != nil {
		return Contracts{}, fmt.Errorf("deploy distributor: %w", err)
	}
	return Contracts{Token: tok, Distributor: addr, Block: receipt.BlockNumber.Uint64()}, nil
}

// tokenArgs are the fieldmint token's constructor arguments: the pool
// minted to the distributor at dist.
func tokenArgs(dist common.Address, pool *big.Int) []byte {
	return token.NewRewardToken().PackConstructor("fieldmint Reward", "FMNT", dist, pool)
}

func distributorArgs(tok common.Address, s Settings) []byte {
	return distributor.NewRewardsDistributor().PackConstructor(tok, s.Poster, s.Guardian, s.Timelock, s.EmissionPerEpoch, s.FirstEpoch)
}

// WaitConfirmed waits until block has n confirmations (itself included).
func WaitConfirmed(ctx context.Context, client Backend, block, n uint64) error {
	for {
		head, err := client.HeaderByNumber(ctx, nil)
		if err != nil {
			return err
		}
		if head.Number.Uint64()+1 >= block+n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d confirmations of block %d (head %d): %w", n, block, head.Number, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// CheckDeployed checks that the code at c's addresses is exactly what this
// build's contracts deploy with these settings: the runtime code a creation
// transaction with the same constructor arguments returns (eth_call), so
// immutables are compared too. With pool nil the token is someone else's
// ERC-20, checked only to answer totalSupply.
func CheckDeployed(ctx context.Context, client Backend, c Contracts, s Settings, pool *big.Int) error {
	check := func(what string, addr common.Address, creation []byte) error {
		want, err := client.CallContract(ctx, ethereum.CallMsg{Data: creation}, nil)
		if err != nil {
			return fmt.Errorf("%s: computing the expected code: %w", what, err)
		}
		got, err := client.CodeAt(ctx, addr, nil)
		if err != nil {
			return fmt.Errorf("%s: reading its code: %w", what, err)
		}
		if len(got) == 0 || !bytes.Equal(got, want) {
			return fmt.Errorf("%s at %s: its code (%d bytes) is not this build's contract (%d bytes)", what, addr.Hex(), len(got), len(want))
		}
		return nil
	}
	if err := check("distributor", c.Distributor, append(common.FromHex(distributor.RewardsDistributorMetaData.Bin), distributorArgs(c.Token, s)...)); err != nil {
		return err
	}
	if pool != nil {
		return check("token", c.Token, append(common.FromHex(token.RewardTokenMetaData.Bin), tokenArgs(c.Distributor, pool)...))
	}
	t := token.NewRewardToken()
	if _, err := bind.Call(t.Instance(client, c.Token), &bind.CallOpts{Context: ctx}, t.PackTotalSupply(), t.UnpackTotalSupply); err != nil {
		return fmt.Errorf("token %s does not answer totalSupply(): not an ERC-20? %w", c.Token.Hex(), err)
	}
	return nil
}
