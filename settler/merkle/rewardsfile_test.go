package merkle

import (
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
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
		// These two differ only where the set's hash does not look (bytes
		// 8 to 15): the same slot and tag, still two accounts.
		{"0x1111111111111111aaaaaaaaaaaaaaaa22222222,1\n0x1111111111111111bbbbbbbbbbbbbbbb22222222,2\n0x1111111111111111bbbbbbbbbbbbbbbb22222222,3\n", "line 3: 0x1111111111111111BBbbBBbBbbbbBBbb22222222 already listed on line 2"},
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
		if !parseAmount(&v, make([]big.Word, 2), []byte(s)) || v.Cmp(want) != 0 {
			t.Errorf("%s: got %s", s, &v)
		}
	}
	for _, s := range []string{"", "1.5", "-1", "+1", "1e3", "0x10", " 1", new(big.Int).Add(max256, big.NewInt(1)).String(), "12a"} {
		if parseAmount(new(big.Int), make([]big.Word, 2), []byte(s)) {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestReadRewardsFindsDuplicatesAtScale: on an input big enough to be read
// on every CPU (addresses spread over the set's table, many sharing their
// first bytes; comments and blank lines in every part), every account listed
// twice is found, the earliest second listing reported with its first line;
// and a malformed line before it is reported instead.
func TestReadRewardsFindsDuplicatesAtScale(t *testing.T) {
	const n = 60_000
	var b strings.Builder
	lines := 0
	lineOf := map[int]int{} // reward i's line
	line := func(i int) {
		fmt.Fprintf(&b, "0x%08x%024x%08x,%d\n", i%7, i, i*2654435761%4294967296, i)
		lines++
		if _, ok := lineOf[i]; !ok {
			lineOf[i] = lines
		}
	}
	b.WriteString("address,amount\n")
	lines++
	for i := range n {
		line(i)
		switch {
		case i%997 == 0:
			b.WriteString("# a comment\n")
			lines++
		case i%1499 == 0:
			b.WriteString("\n")
			lines++
		}
	}
	if runtime.GOMAXPROCS(0) > 1 && b.Len() < 1<<20 {
		t.Fatalf("the input is %d bytes: too small to be read in parts", b.Len())
	}
	if rs, err := ReadRewards(strings.NewReader(b.String())); err != nil || len(rs) != n {
		t.Fatalf("%d distinct accounts: %d read, %v", n, len(rs), err)
	}
	body, bodyLines := b.String(), lines
	if 41_874%997 != 0 {
		t.Fatal("reward 41,875 should follow a comment")
	}
	line(41_875) // first listed right after a comment; again on line bodyLines+1, then 7 again
	line(7)
	_, err := ReadRewards(strings.NewReader(b.String()))
	want := fmt.Sprintf("line %d: 0x%08x%024x%08x already listed on line %d", bodyLines+1, 41_875%7, 41_875, 41_875*2654435761%4294967296, lineOf[41_875])
	if err == nil || !strings.EqualFold(err.Error(), want) {
		t.Fatalf("error %v, want %s", err, want)
	}
	// The earliest of a malformed line and a repeat is reported.
	for _, malformedFirst := range []bool{true, false} {
		b.Reset()
		b.WriteString(body)
		lines = bodyLines
		if !malformedFirst {
			line(3)
		}
		b.WriteString("0x33,1\n")
		lines++
		if malformedFirst {
			line(3)
		}
		want := fmt.Sprintf("line %d: \"0x33\" is not an address", bodyLines+1)
		if !malformedFirst {
			want = fmt.Sprintf("line %d: 0x%08x%024x%08x already listed on line %d", bodyLines+1, 3, 3, 3*2654435761%4294967296, lineOf[3])
		}
		if _, err := ReadRewards(strings.NewReader(b.String())); err == nil || !strings.HasPrefix(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Fatalf("error %v, want %s", err, want)
		}
	}
}

// TestReadRewardsFromFiles: a regular file (mapped on Linux), one read from
// partway, an empty one and one that does not end its last line are read as
// the same bytes from a plain reader are.
func TestReadRewardsFromFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("address,amount\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "0x%040x,%d\n", i+1, i*7919)
	}
	csv := strings.TrimSuffix(b.String(), "\n")
	dir := t.TempDir()
	read := func(name, content string, skip int) ([]Reward, error) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Seek(int64(skip), io.SeekStart); err != nil {
			t.Fatal(err)
		}
		return ReadRewards(f)
	}
	want, err := ReadRewards(strings.NewReader(csv))
	if err != nil || len(want) != 3000 {
		t.Fatalf("from a reader: %d rewards, %v", len(want), err)
	}
	same := func(what string, got []Reward, err error, want []Reward) {
		t.Helper()
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: %d rewards, %v; want %d", what, len(got), err, len(want))
		}
		for i := range want {
			if got[i].Account != want[i].Account || got[i].Amount.Cmp(want[i].Amount) != 0 {
				t.Fatalf("%s: reward %d is %x %s, want %x %s", what, i, got[i].Account, got[i].Amount, want[i].Account, want[i].Amount)
			}
		}
	}
	got, err := read("whole.csv", csv, 0)
	same("a file", got, err, want)
	header := len("address,amount\n")
	got, err = read("partway.csv", csv, header+len(strings.SplitAfter(csv, "\n")[1]))
	same("a file read from its third line", got, err, want[1:])
	if _, err := read("empty.csv", "", 0); err == nil || !strings.Contains(err.Error(), "no address,amount lines") {
		t.Fatalf("an empty file: %v", err)
	}
}
