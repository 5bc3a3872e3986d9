package settler_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/settler"
)

func addr(b byte) common.Address { return common.Address{19: b} }

func TestSplitExamples(t *testing.T) {
	cases := []struct {
		name     string
		emission int64
		scores   []settler.Score
		want     map[byte]int64
	}{
		{"proportional", 100, []settler.Score{{addr(1), 1}, {addr(2), 3}}, map[byte]int64{1: 25, 2: 75}},
		// 10/3 each: 3,3,3 and one unit left, to the lowest address (all remainders equal).
		{"remainder by address", 10, []settler.Score{{addr(3), 1}, {addr(1), 1}, {addr(2), 1}}, map[byte]int64{1: 4, 2: 3, 3: 3}},
		// 7 * 1/6 = 1.166, 7 * 5/6 = 5.833: the larger remainder gets the unit.
		{"largest remainder", 7, []settler.Score{{addr(1), 1}, {addr(2), 5}}, map[byte]int64{1: 1, 2: 6}},
		{"same account twice", 9, []settler.Score{{addr(1), 1}, {addr(1), 2}}, map[byte]int64{1: 9}},
		{"zero scores earn nothing", 9, []settler.Score{{addr(1), 0}, {addr(2), 2}}, map[byte]int64{2: 9}},
	}
	for _, c := range cases {
		got, err := settler.Split(big.NewInt(c.emission), c.scores)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d shares, want %d", c.name, len(got), len(c.want))
		}
		for _, s := range got {
			if w := c.want[s.Account[19]]; s.Amount.Int64() != w {
				t.Errorf("%s: account %d got %s, want %d", c.name, s.Account[19], s.Amount, w)
			}
		}
	}
	if got, _ := settler.Split(big.NewInt(5), nil); got != nil {
		t.Fatal("no scores must give no shares")
	}
}

// The parts always sum to the emission, and the same input in any order gives the same split.
func TestSplitSumsExactlyAndIsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	emission, _ := new(big.Int).SetString("1000000000000000000000", 10)
	for round := 0; round < 200; round++ {
		n := 1 + r.IntN(300)
		scores := make([]settler.Score, n)
		for i := range scores {
			scores[i] = settler.Score{Account: addr(byte(r.IntN(256))), Score: r.Uint64N(1 << 40)}
		}
		e := new(big.Int).Add(emission, big.NewInt(r.Int64N(1000)))
		a, _ := settler.Split(e, scores)
		r.Shuffle(len(scores), func(i, j int) { scores[i], scores[j] = scores[j], scores[i] })
		b, _ := settler.Split(e, scores)
		sum := new(big.Int)
		for i := range a {
			sum.Add(sum, a[i].Amount)
			if a[i].Account != b[i].Account || a[i].Amount.Cmp(b[i].Amount) != 0 {
				t.Fatalf("round %d: order of input changed the split", round)
			}
		}
		if sum.Cmp(e) != 0 {
			t.Fatalf("round %d: parts sum to %s, emission %s", round, sum, e)
		}
	}
}
