package quorum

import (
	"context"
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/chain"
)

// DomainOf is the domain of the distributor at addr on client's chain.
func DomainOf(ctx context.Context, client chain.Backend, addr common.Address) (Domain, error) {
	id, err := client.ChainID(ctx)
	if err != nil {
		return Domain{}, fmt.Errorf("quorum: chain id: %w", err)
	}
	return Domain{ChainID: id, Contract: addr}, nil
}

// SignNow completes v with what the distributor at addr has now (the root it
// builds on, the round), has every key sign it, and returns it with the
// proposeRoot calldata. Tools and tests use it; a settler never takes what
// it signs from anyone but itself and the chain.
func SignNow(ctx context.Context, client chain.Backend, addr common.Address, v Vote, keys ...*ecdsa.PrivateKey) (Vote, []byte, error) {
	r, err := chain.ReadRoots(ctx, client, addr)
	if err != nil {
		return v, nil, err
	}
	d, err := DomainOf(ctx, client, addr)
	if err != nil {
		return v, nil, err
	}
	v.PrevRoot, v.Round = r.Base(), r.Round
	digest := v.Digest(d)
	var sigs []Signature
	for _, k := range keys {
		sig, err := Sign(digest, k)
		if err != nil {
			return v, nil, err
		}
		sigs = append(sigs, Signature{Signer: chain.Address(k), Sig: sig})
	}
	set := make([]common.Address, len(sigs))
	for i, s := range sigs {
		set[i] = s.Signer
	}
	ordered, err := Ordered(digest, set, sigs)
	if err != nil {
		return v, nil, err
	}
	return v, v.Calldata(ordered), nil
}
