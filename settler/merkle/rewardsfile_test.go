package merkle

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func TestReadRewards(t *testing.T) {
	good := "address,amount\n# comment\n0x1111111111111111111111111111111111111111, 5\n\n\"0x2222222222222222222222222222222222222222\",\"7\"\r\n0x3333333333333333333333333333333333333333,123456789012345678901234567890"
	rs, err := ReadRewards(strings.NewReader(good))
	if err != nil || len(rs) != 3 || rs[0].Amount.Int64() != 5 || rs[1].Amount.Int64() != 7 || rs[2].Amount.String() != "123456789012345678901234567890" {
		t.Fatalf("%v %v", rs, err)
	}
	bad := []struct{ in, want string }{
		{"0x12,5\n", "line 1: \"0x12\" is not an address"},
		{"0x1111111111111111111111111111111111111111,1.5\n", "line 1: amount \"1.5\""},
		{"0x1111111111111111111111111111111111111111,-1\n", "amount \"-1\""},
		{"0x1111111111111111111111111111111111111111\n", "want \"address,amount\""},
		{"0x1111111111111111111111111111111111111111,1\n0x1111111111111111111111111111111111111111,2\n", "line 2: 0x1111111111111111111111111111111111111111 already listed on line 1"},
		{"address,amount\n", "no address,amount lines"},
		{"0x1111111111111111111111111111111111111111,1,2\n", "want \"address,amount\", got 3 fields"},
		// Two addresses sharing their first 8 bytes are two accounts; the
		// second listed again is a duplicate.
		{"0x1111111111111111aaaaaaaaaaaaaaaaaaaaaaaa,1\n0x1111111111111111bbbbbbbbbbbbbbbbbbbbbbbb,2\n0x1111111111111111bbbbbbbbbbbbbbbbbbbbbbbb,3\n", "already listed on line 2"},
	}
	for _, b := range bad {
		if _, err := ReadRewards(strings.NewReader(b.in)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want it to contain %q", b.in, err, b.want)
		}
	}
}

// TestParseAmount: the 128-bit fast path and big.Int's parser agree on
// every width, and anything that is not a uint256 in decimal is refused.
func TestParseAmount(t *testing.T) {
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	good := []string{"0", "5", "007", "18446744073709551615", "18446744073709551616", strings.Repeat("9", 38), strings.Repeat("9", 39), max256.String()}
	for _, s := range good {
		var v big.Int
		want, _ := new(big.Int).SetString(s, 10)
		if !parseAmount(&v, []byte(s)) || v.Cmp(want) != 0 {
			t.Errorf("%s: got %s", s, &v)
		}
	}
	for _, s := range []string{"", "1.5", "-1", "+1", "1e3", "0x10", " 1", new(big.Int).Add(max256, big.NewInt(1)).String(), "12a"} {
		if parseAmount(new(big.Int), []byte(s)) {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestReadRewardsFindsDuplicatesAtScale: on an input big enough to be read
// on every CPU (addresses spread over the set's table, many sharing their
// first bytes), every account listed twice is found, the earliest second
// listing reported with its first line.
func TestReadRewardsFindsDuplicatesAtScale(t *testing.T) {
	const n = 60_000
	var b strings.Builder
	line := func(i int) { fmt.Fprintf(&b, "0x%08x%024x%08x,%d\n", i%7, i, i*2654435761%4294967296, i) }
	for i := range n {
		line(i)
	}
	if rs, err := ReadRewards(strings.NewReader(b.String())); err != nil || len(rs) != n {
		t.Fatalf("%d distinct accounts: %d read, %v", n, len(rs), err)
	}
	line(41_234) // listed again on line n+1, then another
	line(7)
	_, err := ReadRewards(strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d: ", n+1)) || !strings.Contains(err.Error(), "already listed on line 41235") {
		t.Fatalf("error %v, want line %d already listed on line 41235", err, n+1)
	}
}
