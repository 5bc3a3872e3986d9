package merkle

import (
	"crypto/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestKeccak4MatchesKeccak256: each of the four lanes hashes as
// go-ethereum's Keccak-256 does, at every length keccak4 takes, with one to
// four messages at once and lanes left over from a longer message before.
func TestKeccak4MatchesKeccak256(t *testing.T) {
	k := newKeccak4()
	for _, n := range []int{128, 0, 8, 32, 40, 64, 72, 120} {
		for m := 1; m <= 4; m++ {
			msgs := make([][]byte, m)
			for j := range msgs {
				msgs[j] = make([]byte, n)
				rand.Read(msgs[j])
			}
			out := make([]common.Hash, m)
			k.sums(msgs, out)
			for j := range msgs {
				if want := crypto.Keccak256Hash(msgs[j]); out[j] != want {
					t.Fatalf("%d bytes, message %d of %d: %x, want %x", n, j, m, out[j], want)
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a message of 136 bytes (a whole block) was taken")
		}
	}()
	k.sums([][]byte{make([]byte, 136)}, make([]common.Hash, 1))
}

// TestKeccak4LeavesAndPairs: leaves are LeafHash's double hash, pairs hash
// their children in ascending order, for one to four at once.
func TestKeccak4LeavesAndPairs(t *testing.T) {
	k := newKeccak4()
	h := newHasher()
	for m := 1; m <= 4; m++ {
		var enc [4][64]byte
		for j := range enc {
			rand.Read(enc[j][:])
		}
		out := make([]common.Hash, m)
		k.leaves(&enc, out)
		for j := range out {
			if want := LeafHash(enc[j][:]); out[j] != want {
				t.Fatalf("leaf %d of %d: %x, want %x", j, m, out[j], want)
			}
		}
		children := make([]common.Hash, 2*m)
		for j := range children {
			rand.Read(children[j][:])
		}
		k.pairs(children, out)
		for j := range out {
			if want := h.pair(children[2*j], children[2*j+1]); out[j] != want {
				t.Fatalf("pair %d of %d: %x, want %x", j, m, out[j], want)
			}
		}
	}
}
