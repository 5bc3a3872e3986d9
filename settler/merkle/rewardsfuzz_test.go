package merkle

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// plainRewards is ReadRewards' documented behaviour written the plain way,
// one line after the other, for FuzzReadRewards to hold the parallel reader
// to: the rewards, or the line of the earliest error.
func plainRewards(data []byte) ([]Reward, int) {
	maxAmount := new(big.Int).Lsh(big.NewInt(1), 256)
	seen := map[common.Address]bool{}
	var out []Reward
	headerDone := false
	for i, raw := range bytes.Split(data, []byte{'\n'}) {
		line := i + 1
		text := bytes.TrimSpace(raw)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		fields := bytes.Split(text, []byte{','})
		if len(fields) != 2 {
			return nil, line
		}
		addr, amt := unquote(fields[0]), unquote(fields[1])
		if !headerDone {
			headerDone = true
			if strings.EqualFold(string(addr), "address") {
				continue
			}
		}
		a := string(addr)
		if strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X") {
			a = a[2:]
		}
		var account common.Address
		if len(a) != 40 {
			return nil, line
		}
		if _, err := hex.Decode(account[:], []byte(a)); err != nil {
			return nil, line
		}
		v, ok := new(big.Int).SetString(string(amt), 10)
		if !ok || len(amt) == 0 || amt[0] < '0' || amt[0] > '9' || v.Cmp(maxAmount) >= 0 {
			return nil, line
		}
		if seen[account] {
			return nil, line
		}
		seen[account] = true
		out = append(out, Reward{account, v})
	}
	return out, 0
}

var errLineRE = regexp.MustCompile(`^line (\d+): `)

// FuzzReadRewards: the reader (parts on every CPU, here cut at 64 bytes so
// that small inputs are read in parts too) finds what a plain reading line
// by line finds: the same rewards, or an error on the same line.
func FuzzReadRewards(f *testing.F) {
	for _, s := range []string{
		"address,amount\n0x1111111111111111111111111111111111111111,5\n",
		"# c\n\n\"Address\",\"amount\"\n0x1111111111111111111111111111111111111111, 5\r\n1111111111111111111111111111111111111112,7",
		"0x1111111111111111111111111111111111111111,5\n#\n0x1111111111111111111111111111111111111111,6\n",
		"address,amount\naddress,amount\n",
		"0x1111111111111111111111111111111111111111,1.5\n0x12,3\n",
		"\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\naddress,amount\n0x2222222222222222222222222222222222222222,99999999999999999999999999999999999999999\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer func(m int) { partMin = m }(partMin)
		partMin = 64
		want, wantLine := plainRewards(data)
		got, err := ReadRewards(bytes.NewReader(data))
		if wantLine == 0 && len(want) == 0 {
			wantLine = -1 // no rewards: an error without a line
		}
		switch {
		case wantLine > 0:
			m := errLineRE.FindStringSubmatch(fmt.Sprint(err))
			if m == nil || m[1] != fmt.Sprint(wantLine) {
				t.Fatalf("error %v, want one on line %d", err, wantLine)
			}
		case wantLine < 0:
			if err == nil || errLineRE.MatchString(err.Error()) {
				t.Fatalf("no rewards: error %v, want one without a line", err)
			}
		case err != nil:
			t.Fatalf("error %v, want %d rewards", err, len(want))
		case len(got) != len(want):
			t.Fatalf("%d rewards, want %d", len(got), len(want))
		default:
			for i := range want {
				if got[i].Account != want[i].Account || got[i].Amount.Cmp(want[i].Amount) != 0 {
					t.Fatalf("reward %d: %x %s, want %x %s", i, got[i].Account, got[i].Amount, want[i].Account, want[i].Amount)
				}
			}
		}
	})
}
