package merkle

import (
	"crypto/rand"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
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
		amt, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 200))
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

// TestCompatibleWithOpenZeppelinJS loads a 1,000-leaf dump in
// @openzeppelin/merkle-tree (node), which re-hashes every leaf, and checks
// that it finds the same root and accepts every proof.
func TestCompatibleWithOpenZeppelinJS(t *testing.T) {
	modules, _ := filepath.Abs("../../schemas/contracts/node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@openzeppelin", "merkle-tree")); err != nil {
		t.Fatal("@openzeppelin/merkle-tree is not installed: run `make deps`")
	}
	rewards := randomRewards(t, 1000)
	tree, err := OfRewards(rewards)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dump, _ := json.Marshal(tree)
	os.WriteFile(filepath.Join(dir, "dump.json"), dump, 0o644)
	proofs := make([][]string, len(rewards))
	for i := range rewards {
		for _, p := range tree.Proof(i) {
			proofs[i] = append(proofs[i], p.Hex())
		}
	}
	pj, _ := json.Marshal(proofs)
	os.WriteFile(filepath.Join(dir, "proofs.json"), pj, 0o644)
	script := `
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const fs = require("fs");
const tree = StandardMerkleTree.load(JSON.parse(fs.readFileSync(process.argv[1] + "/dump.json")));
tree.validate();
const proofs = JSON.parse(fs.readFileSync(process.argv[1] + "/proofs.json"));
let i = 0, bad = 0;
for (const [, v] of tree.entries()) {
  if (!StandardMerkleTree.verify(tree.root, ["address", "uint256"], v, proofs[i])) bad++;
  i++;
}
console.log(JSON.stringify({ root: tree.root, n: i, bad }));
`
	cmd := exec.Command("node", "-e", script, dir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		Root   string
		N, Bad int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
	if res.Root != tree.Root().Hex() || res.N != 1000 || res.Bad != 0 {
		t.Fatalf("OpenZeppelin JS: %+v, want root %s, 1000 leaves, 0 bad proofs", res, tree.Root().Hex())
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
