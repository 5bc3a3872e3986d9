package chain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"slices"
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
	if err := s.Check(); err != nil {
		return Contracts{}, err
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
	signers := slices.Clone(s.Signers)
	slices.SortFunc(signers, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	return distributor.NewRewardsDistributor().PackConstructor(tok, signers, s.threshold(), s.Guardian, s.Timelock, s.EmissionPerEpoch, s.FirstEpoch)
}

// Check refuses settings the distributor's constructor would refuse, saying
// which.
func (s Settings) Check() error {
	if s.EmissionPerEpoch == nil || s.EmissionPerEpoch.Sign() <= 0 {
		return errors.New("deploy: the emission per epoch must be positive")
	}
	n, k := len(s.Signers), int(s.threshold())
	if n == 0 || n > 32 {
		return fmt.Errorf("deploy: %d signers: give 1 to 32", n)
	}
	if k > n || 2*k <= n {
		return fmt.Errorf("deploy: a threshold of %d of %d signers: it must be more than half of them and at most all (%d to %d)", k, n, n/2+1, n)
	}
	seen := map[common.Address]bool{}
	for _, a := range s.Signers {
		if a == (common.Address{}) || seen[a] {
			return fmt.Errorf("deploy: signer %s is zero or given twice", a.Hex())
		}
		seen[a] = true
	}
	return nil
}

// threshold is the configured threshold, or the smallest majority.
func (s Settings) threshold() uint8 {
	if s.Threshold > 0 {
		return s.Threshold
	}
	return uint8(len(s.Signers)/2 + 1)
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
	// The signer set is storage, not code: compared by reading it.
	d := distributor.NewRewardsDistributor()
	inst, call := d.Instance(client, c.Distributor), &bind.CallOpts{Context: ctx}
	signers, err := bind.Call(inst, call, d.PackSigners(), d.UnpackSigners)
	if err != nil {
		return fmt.Errorf("distributor: reading its signers: %w", err)
	}
	k, err := bind.Call(inst, call, d.PackThreshold(), d.UnpackThreshold)
	if err != nil {
		return fmt.Errorf("distributor: reading its threshold: %w", err)
	}
	want := slices.Clone(s.Signers)
	slices.SortFunc(want, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(signers, want) || k != s.threshold() {
		return fmt.Errorf("distributor at %s: %d of %d signers %v, not the %d of %d configured", c.Distributor.Hex(), k, len(signers), signers, s.threshold(), len(want))
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
