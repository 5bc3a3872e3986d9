package settler

import (
	"bytes"
	"errors"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

// Score is an account's contribution in one epoch.
type Score struct {
	Account common.Address
	Score   uint64
}

// Share is an account's part of one epoch's emission.
type Share struct {
	Account common.Address
	Score   uint64
	Amount  *big.Int
}

// Split divides emission among scores in proportion, with integers only, so
// that the amounts sum to emission exactly. Each account first gets
// floor(emission*score/total); the few units left over go one each to the
// largest remainders, ties broken by ascending address. The result is sorted
// by address and depends only on its inputs.
func Split(emission *big.Int, scores []Score) ([]Share, error) {
	if emission.Sign() < 0 {
		return nil, errors.New("settle: negative emission")
	}
	merged := map[common.Address]uint64{}
	for _, s := range scores {
		merged[s.Account] += s.Score
	}
	shares := make([]Share, 0, len(merged))
	total := new(big.Int)
	for a, s := range merged {
		if s == 0 {
			continue
		}
		shares = append(shares, Share{Account: a, Score: s})
		total.Add(total, new(big.Int).SetUint64(s))
	}
	sort.Slice(shares, func(i, j int) bool { return bytes.Compare(shares[i].Account[:], shares[j].Account[:]) < 0 })
	if total.Sign() == 0 {
		return nil, nil
	}
	rems := make([]*big.Int, len(shares))
	left := new(big.Int).Set(emission)
	for i := range shares {
		num := new(big.Int).Mul(emission, new(big.Int).SetUint64(shares[i].Score))
		q, r := new(big.Int).QuoRem(num, total, new(big.Int))
		shares[i].Amount, rems[i] = q, r
		left.Sub(left, q)
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].Cmp(rems[order[b]]) > 0 })
	for k := 0; left.Sign() > 0; k++ { // left < len(shares): each remainder is < total
		shares[order[k]].Amount.Add(shares[order[k]].Amount, big.NewInt(1))
		left.Sub(left, big.NewInt(1))
	}
	return shares, nil
}
