// Package merkle builds OpenZeppelin-compatible StandardMerkleTrees
// (@openzeppelin/merkle-tree, format "standard-v1") and their proofs.
//
// A leaf is keccak256(keccak256(abi.encode(values...))); an inner node is
// keccak256 of its two children in ascending order; leaves are sorted by hash
// and laid out in a flat array of 2n-1 nodes, sorted leaf i at index 2n-2-i,
// node i = hash(node 2i+1, node 2i+2). The same values therefore give the same
// root here, in OpenZeppelin's library and in MerkleProof.sol.
package merkle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Format is the dump format this package reads and writes.
const Format = "standard-v1"

// ErrEmpty means a tree was requested over no values.
var ErrEmpty = errors.New("merkle: tree needs at least one value")

// Tree is a built tree.
type Tree struct {
	encoding []string
	nodes    []common.Hash
	values   []value
}

type value struct {
	raw       []any // as given; encoded with the tree's leaf encoding
	treeIndex int
}

// Of builds a tree over values, each encoded with leafEncoding (Solidity ABI
// type names such as "address", "uint256", "string"). Supported Go types are
// those go-ethereum's ABI packer takes for the type (common.Address,
// *big.Int, string, ...).
func Of(values [][]any, leafEncoding []string) (*Tree, error) {
	args := make(abi.Arguments, len(leafEncoding))
	for i, enc := range leafEncoding {
		typ, err := abi.NewType(enc, "", nil)
		if err != nil {
			return nil, fmt.Errorf("merkle: leaf encoding %q: %w", enc, err)
		}
		args[i] = abi.Argument{Type: typ}
	}
	leaves := make([]common.Hash, len(values))
	for i, v := range values {
		packed, err := args.Pack(v...)
		if err != nil {
			return nil, fmt.Errorf("merkle: value %d: %w", i, err)
		}
		leaves[i] = LeafHash(packed)
	}
	return build(values, leaves, leafEncoding)
}

// Reward is one (account, cumulativeAmount) leaf, the RewardsDistributor's format.
type Reward struct {
	Account common.Address
	Amount  *big.Int
}

// RewardEncoding is the leaf encoding of reward trees.
var RewardEncoding = []string{"address", "uint256"}

// OfRewards builds a reward tree. It encodes leaves directly (abi.encode of an
// address and a uint256 is two 32-byte words) rather than through the generic
// ABI packer, which is most of the cost for large trees.
func OfRewards(rewards []Reward) (*Tree, error) {
	values := make([][]any, len(rewards))
	leaves := make([]common.Hash, len(rewards))
	var buf [64]byte
	for i, r := range rewards {
		if r.Amount == nil || r.Amount.Sign() < 0 || r.Amount.BitLen() > 256 {
			return nil, fmt.Errorf("merkle: reward %d: amount must be a uint256", i)
		}
		buf = [64]byte{}
		copy(buf[12:32], r.Account[:])
		r.Amount.FillBytes(buf[32:])
		leaves[i] = LeafHash(buf[:])
		values[i] = []any{r.Account, r.Amount}
	}
	return build(values, leaves, RewardEncoding)
}

// LeafHash is the standard leaf hash of ABI-encoded values.
func LeafHash(encoded []byte) common.Hash {
	return crypto.Keccak256Hash(crypto.Keccak256(encoded))
}

func hashPair(a, b common.Hash) common.Hash {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	return crypto.Keccak256Hash(a[:], b[:])
}

func build(raw [][]any, leaves []common.Hash, encoding []string) (*Tree, error) {
	n := len(leaves)
	if n == 0 {
		return nil, ErrEmpty
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return bytes.Compare(leaves[order[a]][:], leaves[order[b]][:]) < 0
	})
	t := &Tree{encoding: encoding, nodes: make([]common.Hash, 2*n-1), values: make([]value, n)}
	for i := range raw {
		t.values[i].raw = raw[i]
	}
	for sorted, orig := range order {
		idx := 2*n - 2 - sorted
		t.nodes[idx] = leaves[orig]
		t.values[orig].treeIndex = idx
	}
	for i := n - 2; i >= 0; i-- {
		t.nodes[i] = hashPair(t.nodes[2*i+1], t.nodes[2*i+2])
	}
	return t, nil
}

// Root returns the tree's root.
func (t *Tree) Root() common.Hash { return t.nodes[0] }

// Len returns the number of values.
func (t *Tree) Len() int { return len(t.values) }

// Proof returns the proof of the i-th value (in the order given to Of).
func (t *Tree) Proof(i int) []common.Hash {
	idx := t.values[i].treeIndex
	var proof []common.Hash
	for idx > 0 {
		sibling := idx + 1
		if idx%2 == 0 {
			sibling = idx - 1
		}
		proof = append(proof, t.nodes[sibling])
		idx = (idx - 1) / 2
	}
	return proof
}

// Verify checks a proof of a leaf against a root, as MerkleProof.sol does.
func Verify(root, leaf common.Hash, proof []common.Hash) bool {
	h := leaf
	for _, p := range proof {
		h = hashPair(h, p)
	}
	return h == root
}

// Dump is the JSON form of a tree, as @openzeppelin/merkle-tree's dump().
type Dump struct {
	Format       string      `json:"format"`
	LeafEncoding []string    `json:"leafEncoding"`
	Tree         []string    `json:"tree"`
	Values       []DumpValue `json:"values"`
}

// DumpValue is one value of a dump: addresses as 0x-hex, integers as decimal strings.
type DumpValue struct {
	Value     []any `json:"value"`
	TreeIndex int   `json:"treeIndex"`
}

// Dump returns the tree in standard-v1 form.
func (t *Tree) Dump() Dump {
	d := Dump{Format: Format, LeafEncoding: t.encoding, Tree: make([]string, len(t.nodes)), Values: make([]DumpValue, len(t.values))}
	for i, n := range t.nodes {
		d.Tree[i] = hexutil.Encode(n[:])
	}
	for i, v := range t.values {
		out := make([]any, len(v.raw))
		for j, x := range v.raw {
			switch x := x.(type) {
			case *big.Int:
				out[j] = x.String()
			case common.Address:
				out[j] = x.Hex()
			default:
				out[j] = x
			}
		}
		d.Values[i] = DumpValue{Value: out, TreeIndex: v.treeIndex}
	}
	return d
}

// MarshalJSON writes the standard-v1 dump.
func (t *Tree) MarshalJSON() ([]byte, error) { return json.Marshal(t.Dump()) }
