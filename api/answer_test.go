package api

import (
	"bytes"
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/chain"
)

// TestAnswerJSON: the hand-written JSON of a proof answer is, byte for byte,
// what encoding/json makes of its wire.RewardProof, granted or not by the
// active root, with or without a pending grant, paused or not, claimed
// below, at or above the grant.
func TestAnswerJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hash := func() (h common.Hash) {
		for i := range h {
			h[i] = byte(rng.IntN(256))
		}
		return h
	}
	amount := func() *big.Int {
		return new(big.Int).Rsh(new(big.Int).SetBytes(hash().Bytes()), uint(rng.IntN(256)))
	}
	distributor, chainID := common.BytesToAddress(hash().Bytes()), big.NewInt(31337)
	n := 0
	for _, active := range []bool{true, false} {
		for _, pending := range []bool{true, false} {
			if !active && !pending {
				continue // answered 404
			}
			for _, paused := range []bool{false, true} {
				for _, claimed := range []int{-1, 0, 1} { // below, at, above the active grant
					p := &proofAnswer{account: common.BytesToAddress(hash().Bytes()),
						roots:   chain.Roots{Epoch: rng.Uint64(), Root: hash(), PendingEpoch: rng.Uint64(), PendingRoot: hash(), ActivatesAt: uint64(rng.Int64N(1 << 34)), Paused: paused, Block: rng.Uint64()},
						claimed: amount()}
					if active {
						p.cumulative = amount()
						for range rng.IntN(20) {
							p.proof = append(p.proof, hash())
						}
						p.claimed = new(big.Int).Add(p.cumulative, big.NewInt(int64(claimed)))
						if p.claimed.Sign() < 0 {
							p.claimed.SetInt64(0)
						}
					}
					if pending {
						p.pending = amount()
					}
					var want bytes.Buffer
					if err := json.NewEncoder(&want).Encode(p.wire(distributor, chainID)); err != nil {
						t.Fatal(err)
					}
					if got := p.appendJSON(nil, distributor.Hex(), chainID); !bytes.Equal(got, want.Bytes()) {
						t.Fatalf("answer %+v\nhand-written %s\nencoding/json %s", p, got, want.Bytes())
					}
					n++
				}
			}
		}
	}
	if n != 18 {
		t.Fatalf("%d answers compared, want 18", n)
	}
}
