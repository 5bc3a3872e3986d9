package api

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// claimSelector is claim(address,uint256,bytes32[])'s selector, from the
// binding.
var claimSelector = distributor.NewRewardsDistributor().PackClaim(common.Address{}, new(big.Int), nil)[:4]

// claimCalldata is claim(account, cumulative, proof) ABI-encoded, as the
// binding's PackClaim encodes it (TestClaimCalldata holds them together).
// Written out by hand: the binding packs by reflection, a tenth of the API's
// CPU per proof.
func claimCalldata(account common.Address, cumulative *big.Int, proof []common.Hash) []byte {
	out := make([]byte, 4+32*4+32*len(proof))
	copy(out, claimSelector)
	w := out[4:]
	copy(w[12:32], account[:])
	cumulative.FillBytes(w[32:64])
	w[95] = 0x60 // the array's offset: after the three head words
	new(big.Int).SetInt64(int64(len(proof))).FillBytes(w[96:128])
	for i, h := range proof {
		copy(w[128+32*i:], h[:])
	}
	return out
}
