package merkle

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// The test vector of @openzeppelin/merkle-tree (see shared/ENVIRONMENT.md).
func TestOpenZeppelinStringVector(t *testing.T) {
	var values [][]any
	for _, s := range []string{"a", "b", "c", "d", "e", "f"} {
		values = append(values, []any{s})
	}
	tree, err := Of(values, []string{"string"})
	if err != nil {
		t.Fatal(err)
	}
	const want = "0x6deb52b5da8fd108f79fab00341f38d2587896634c646ee52e49f845680a70c8"
	if got := tree.Root().Hex(); got != want {
		t.Fatalf("root %s, want %s", got, want)
	}
}

func randomRewards(t testing.TB, n int) []Reward {
	out := make([]Reward, n)
	for i := range out {
		var a common.Address
		rand.Read(a[:])
		bits := []uint{200, 64, 8}[i%3] // beyond 64 bits, within them, and small
		amt, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), bits))
		out[i] = Reward{Account: a, Amount: amt}
	}
	return out
}

func TestRewardTreeMatchesGenericEncoding(t *testing.T) {
	rewards := randomRewards(t, 257)
	fast, err := OfRewards(rewards)
	if err != nil {
		t.Fatal(err)
	}
	var values [][]any
	for _, r := range rewards {
		values = append(values, []any{r.Account, r.Amount})
	}
	slow, err := Of(values, RewardEncoding)
	if err != nil {
		t.Fatal(err)
	}
	if fast.Root() != slow.Root() {
		t.Fatal("direct reward encoding disagrees with the ABI packer")
	}
	for i, r := range rewards {
		var buf [64]byte
		copy(buf[12:32], r.Account[:])
		r.Amount.FillBytes(buf[32:])
		if !Verify(fast.Root(), LeafHash(buf[:]), fast.Proof(i)) {
			t.Fatalf("proof %d does not verify", i)
		}
		if Verify(fast.Root(), LeafHash(buf[:]), fast.Proof((i+1)%len(rewards))) {
			t.Fatalf("proof of another leaf verifies leaf %d", i)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	if _, err := OfRewards(nil); err != ErrEmpty {
		t.Fatalf("empty tree: %v", err)
	}
	if _, err := OfRewards([]Reward{{Amount: big.NewInt(-1)}}); err == nil {
		t.Fatal("negative amount accepted")
	}
	one, err := OfRewards([]Reward{{Account: common.Address{1}, Amount: big.NewInt(5)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Proof(0)) != 0 || one.Root() != one.nodes[0] {
		t.Fatal("single-leaf tree: root must be the leaf and the proof empty")
	}
}

func BenchmarkOfRewards(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		rewards := randomRewards(b, n)
		b.Run(big.NewInt(int64(n)).String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := OfRewards(rewards); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "leaves/s")
		})
	}
}

// TestParallelBuildMatchesSequential: the trees built on every CPU (leaves
// placed and each level hashed in parallel) hold their leaves in order and,
// node for node, what hashing one node after the other from the sorted
// leaves gives, at sizes around the levels' and the workers' edges; every
// value's proof (a sample at the larger sizes) verifies.
func TestParallelBuildMatchesSequential(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 4097, 8193, 50_001} {
		tree, err := OfRewards(randomRewards(t, n))
		if err != nil {
			t.Fatal(err)
		}
		for i := n - 1; i < 2*n-2; i++ {
			if bytes.Compare(tree.nodes[i][:], tree.nodes[i+1][:]) < 0 {
				t.Fatalf("%d leaves: leaf at node %d sorts before the one at %d (sorted leaf s is at 2n-2-s)", n, i, i+1)
			}
		}
		want := make([]common.Hash, len(tree.nodes))
		copy(want[n-1:], tree.nodes[n-1:]) // the sorted leaves
		h := newHasher()
		for i := n - 2; i >= 0; i-- {
			want[i] = h.pair(want[2*i+1], want[2*i+2])
		}
		for i := range want {
			if tree.nodes[i] != want[i] {
				t.Fatalf("%d leaves: node %d differs from the sequential build", n, i)
			}
		}
		for i := 0; i < n; i += max(1, n/50) {
			r := tree.raw(i)
			if !Verify(tree.Root(), RewardLeaf(r[0].(common.Address), r[1].(*big.Int)), tree.Proof(i)) {
				t.Fatalf("%d leaves: proof %d does not verify", n, i)
			}
		}
	}
}

// TestEqualLeavesKeepTheirOrder: a value given twice makes two equal
// leaves; as in OpenZeppelin's library the first given takes the first
// sorted place (the higher node index), on one CPU and on several.
func TestEqualLeavesKeepTheirOrder(t *testing.T) {
	for _, n := range []int{6, 3 * parallelMin} {
		values := make([][]any, n)
		for i := range values {
			values[i] = []any{fmt.Sprint(i % (n / 2))} // each value twice: i and i+n/2
		}
		tree, err := Of(values, []string{"string"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n / 2 {
			if a, b := tree.index[i], tree.index[i+n/2]; a != b+1 {
				t.Fatalf("%d values: value %d at node %d, its repeat %d at %d; want the repeat just after it in sorted order (node %d)", n, i, a, i+n/2, b, a-1)
			}
		}
	}
}

// TestWriteDumpMatchesEncodingJSON: the streamed dump is byte for byte
// encoding/json's rendering of Dump(), for reward trees spanning several
// chunks and for the generic values (strings) that go through json.Marshal.
func TestWriteDumpMatchesEncodingJSON(t *testing.T) {
	strs, err := Of([][]any{{"a"}, {"b\"<&>"}, {"c"}}, []string{"string"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tree := range []*Tree{strs, mustRewards(t, 1), mustRewards(t, 3*dumpChunk+17)} {
		want, err := json.Marshal(tree.Dump())
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := tree.WriteDump(&got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			i := 0
			for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
				i++
			}
			t.Fatalf("%d values: the streamed dump differs at byte %d: %.60q, want %.60q", tree.Len(), i, got.Bytes()[i:], want[i:])
		}
	}
}

func mustRewards(t *testing.T, n int) *Tree {
	tree, err := OfRewards(randomRewards(t, n))
	if err != nil {
		t.Fatal(err)
	}
	return tree
}
