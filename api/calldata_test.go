package api

import (
	"bytes"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// TestClaimCalldata: the hand-written encoding is the binding's, byte for
// byte, for proofs of every length up to 20 and amounts up to 2^256-1.
func TestClaimCalldata(t *testing.T) {
	d := distributor.NewRewardsDistributor()
	rng := rand.New(rand.NewPCG(1, 2))
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	for n := range 21 {
		var account common.Address
		for i := range account {
			account[i] = byte(rng.Uint32())
		}
		raw := make([]byte, 1+n)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		cum := new(big.Int).SetBytes(raw) // from 8 bits to 168
		if n == 20 {
			cum = max256
		}
		proof := make([]common.Hash, n)
		hashes := make([][32]byte, n)
		for i := range proof {
			for j := range proof[i] {
				proof[i][j] = byte(rng.Uint32())
			}
			hashes[i] = proof[i]
		}
		if got, want := claimCalldata(account, cum, proof), d.PackClaim(account, cum, hashes); !bytes.Equal(got, want) {
			t.Fatalf("proof of %d: %x, the binding packs %x", n, got, want)
		}
	}
}
