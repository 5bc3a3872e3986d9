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
	"errors"
	"fmt"
	"hash"
	"math/big"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/crypto/sha3"
)

// Format is the dump format this package reads and writes.
const Format = "standard-v1"

// ErrEmpty means a tree was requested over no values.
var ErrEmpty = errors.New("merkle: tree needs at least one value")

// Tree is a built tree.
type Tree struct {
	encoding []string
	nodes    []common.Hash
	index    []int             // tree index of each value, in the order given
	raw      func(i int) []any // value i as given, for dumps
	rewards  []Reward          // a reward tree's values (raw boxes them one at a time)
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
	if len(values) == 0 {
		return nil, ErrEmpty
	}
	t, leaves := newTree(len(values), leafEncoding, func(i int) []any { return values[i] })
	for i, v := range values {
		packed, err := args.Pack(v...)
		if err != nil {
			return nil, fmt.Errorf("merkle: value %d: %w", i, err)
		}
		leaves[i] = LeafHash(packed)
	}
	t.build(leaves)
	return t, nil
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
// ABI packer, which is most of the cost for large trees. The tree keeps
// rewards, for its dump: neither the slice nor the amounts may change
// afterwards (a copy of a million rewards was a tenth of building their tree).
func OfRewards(rewards []Reward) (*Tree, error) {
	for i, r := range rewards {
		if r.Amount == nil || r.Amount.Sign() < 0 || r.Amount.BitLen() > 256 {
			return nil, fmt.Errorf("merkle: reward %d: amount must be a uint256", i)
		}
	}
	if len(rewards) == 0 {
		return nil, ErrEmpty
	}
	// Values become []any only when asked for (raw, Dump): two allocations
	// a value otherwise. WriteDump reads t.rewards.
	t, leaves := newTree(len(rewards), RewardEncoding, func(i int) []any { return []any{rewards[i].Account, rewards[i].Amount} })
	t.rewards = rewards
	parallel(len(rewards), func(from, to int) {
		var enc [4][64]byte
		k := newKeccak4()
		for i := from; i < to; i += 4 {
			m := min(4, to-i)
			for j := range m {
				encodeReward(&enc[j], rewards[i+j].Account, rewards[i+j].Amount)
			}
			k.leaves(&enc, leaves[i:i+m])
		}
	})
	t.build(leaves)
	return t, nil
}

// encodeReward writes abi.encode(account, amount) into buf; amount must be
// a uint256.
func encodeReward(buf *[64]byte, account common.Address, amount *big.Int) {
	*buf = [64]byte{}
	copy(buf[12:32], account[:])
	amount.FillBytes(buf[32:])
}

// RewardLeaf is the leaf hash of (account, amount) in a reward tree, as
// RewardsDistributor.claim computes it; amount must be a uint256.
func RewardLeaf(account common.Address, amount *big.Int) common.Hash {
	var buf [64]byte
	encodeReward(&buf, account, amount)
	return LeafHash(buf[:])
}

// LeafHash is the standard leaf hash of ABI-encoded values.
func LeafHash(encoded []byte) common.Hash {
	return crypto.Keccak256Hash(crypto.Keccak256(encoded))
}

// hasher hashes one message at a time, reusing one Keccak state and its
// buffers (crypto.Keccak256Hash makes a new state per call): Verify's walk up
// a proof, where each hash needs the one before. Trees are hashed four at a
// time (keccak4). The state is golang.org/x/crypto's legacy Keccak (the
// standard library's permutation, in assembly): 336 ns a hash of 64 bytes
// here against 408 for go-ethereum's.
type hasher struct {
	st       hash.Hash
	buf, out [64]byte
}

func newHasher() *hasher { return &hasher{st: sha3.NewLegacyKeccak256()} }

func (h *hasher) sum(b []byte) (out common.Hash) {
	h.st.Reset()
	h.st.Write(b)
	return common.Hash(h.st.Sum(h.out[:0]))
}

// pair hashes two nodes in ascending order.
func (h *hasher) pair(a, b common.Hash) common.Hash {
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	copy(h.buf[:32], a[:])
	copy(h.buf[32:], b[:])
	return h.sum(h.buf[:])
}

// newTree allocates a tree of n values and returns beside it where their
// leaves' hashes go, in the order given, for build to place: the space of
// the inner nodes, hashed only once the leaves are placed. One node more
// than the tree is allocated, so that space (all[:n]) and the leaves'
// places (all[n:]) are apart; a tree the size of the CSV's in `fieldmint
// tree` spent more time on the page faults of fresh memory than on sorting.
func newTree(n int, encoding []string, raw func(int) []any) (*Tree, []common.Hash) {
	all := make([]common.Hash, 2*n)
	return &Tree{encoding: encoding, nodes: all[1:], index: make([]int, n), raw: raw}, all[:n]
}

// build places the leaves, given by hash in value order in the space newTree
// returned, in hash order, and hashes the tree above them.
func (t *Tree) build(leaves []common.Hash) {
	n := len(leaves)
	placeLeaves(leaves, t.nodes, t.index)
	// Inner nodes a level at a time, deepest first: a level's nodes depend
	// only on the level below, so each level is hashed on every CPU.
	for first := levelStart(n - 2); ; first = (first - 1) / 2 {
		last := min(2*first, n-2)
		parallel(last-first+1, func(from, to int) {
			k := newKeccak4()
			for i := first + from; i < first+to; i += 4 {
				m := min(4, first+to-i)
				k.pairs(t.nodes[2*i+1:2*i+1+2*m], t.nodes[i:i+m])
			}
		})
		if first == 0 {
			break
		}
	}
}

// levelStart returns the index of the first node of i's level in the flat
// array (2^d - 1 for the level d holding i).
func levelStart(i int) int {
	if i < 0 {
		return 0
	}
	start := 0
	for 2*start+1 <= i {
		start = 2*start + 1
	}
	return start
}

// parallelMin is the smallest share of work worth a goroutine.
const parallelMin = 4096

// workersFor is how many goroutines share n items: one per CPU, each with
// at least parallelMin, and at least one.
func workersFor(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n/parallelMin)) }

// parallel runs f over [0, n) split in contiguous ranges, one per worker
// (workersFor), and returns when all are done.
func parallel(n int, f func(from, to int)) {
	workers := workersFor(n)
	run(workers, func(w int) { f(w*n/workers, (w+1)*n/workers) })
}

// run calls f(0) … f(workers-1) at once and returns when all have; one
// worker runs in the caller.
func run(workers int, f func(w int)) {
	if workers <= 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { f(w) })
	}
	wg.Wait()
}

// Root returns the tree's root.
func (t *Tree) Root() common.Hash { return t.nodes[0] }

// Len returns the number of values.
func (t *Tree) Len() int { return len(t.index) }

// Proof returns the proof of the i-th value (in the order given to Of).
func (t *Tree) Proof(i int) []common.Hash {
	idx := t.index[i]
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
	h, node := newHasher(), leaf
	for _, p := range proof {
		node = h.pair(node, p)
	}
	return node == root
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
	d := Dump{Format: Format, LeafEncoding: t.encoding, Tree: make([]string, len(t.nodes)), Values: make([]DumpValue, len(t.index))}
	for i, n := range t.nodes {
		d.Tree[i] = hexutil.Encode(n[:])
	}
	for i, idx := range t.index {
		raw := t.raw(i)
		out := make([]any, len(raw))
		for j, x := range raw {
			switch x := x.(type) {
			case *big.Int:
				out[j] = x.String()
			case common.Address:
				out[j] = x.Hex()
			default:
				out[j] = x
			}
		}
		d.Values[i] = DumpValue{Value: out, TreeIndex: idx}
	}
	return d
}

// MarshalJSON writes the standard-v1 dump (WriteDump).
func (t *Tree) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	err := t.WriteDump(&b)
	return b.Bytes(), err
}
