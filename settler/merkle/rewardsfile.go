package merkle

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	"os"
	"runtime"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// ReadRewards parses "address,amount" lines. A first line that is not an
// address is taken as a header; blank lines and lines starting with '#' are
// skipped; a field may be in double quotes. An address listed twice is an
// error, not summed: the caller should know its input has duplicates. Of
// several errors, the one on the earliest line is reported.
//
// Hand-written rather than encoding/csv, and on every CPU: a million lines
// took 3.5 s with encoding/csv (a record slice and strings per line), about
// 0.5 s here. The input is read whole (64 MB for a million lines; the tree
// and its dump take more), cut at line ends into one part per CPU, the parts
// parsed at once, then checked for duplicates, each CPU taking the
// addresses of one residue of their first byte.
func ReadRewards(r io.Reader) ([]Reward, error) {
	var data []byte
	var err error
	if size, ok := regularFileSize(r); ok {
		// Sized by the file: io.ReadAll's growing and clearing took 0.6 s.
		data = make([]byte, size)
		_, err = io.ReadFull(r, data)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return nil, err
	}
	workers := runtime.GOMAXPROCS(0)
	if len(data) < 1<<20 {
		workers = 1
	}
	// Cut after a newline near each 1/workers of the input; count the lines
	// before each part for the line numbers.
	starts := []int{0}
	for w := 1; w < workers; w++ {
		at := max(len(data)*w/workers, starts[len(starts)-1])
		nl := bytes.IndexByte(data[at:], '\n')
		if nl < 0 {
			break
		}
		starts = append(starts, at+nl+1)
	}
	parts := make([]parsedPart, len(starts))
	var wg sync.WaitGroup
	for i, start := range starts {
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		wg.Go(func() { parts[i] = parsePart(data[start:end], i == 0) })
	}
	wg.Wait()
	var out []Reward
	var lines []int
	firstLine := 1
	errLine, errMsg := 0, ""
	for i := range parts {
		p := &parts[i]
		if p.err != "" && errLine == 0 {
			errLine, errMsg = firstLine+p.errLine-1, p.err
		}
		out = append(out, p.rewards...)
		for _, l := range p.lines {
			lines = append(lines, firstLine+l-1)
		}
		firstLine += p.lineCount
	}
	// Duplicates: the earliest second listing, checked in parallel by the
	// address's first byte.
	dupAt := make([]int, workers) // index in out of each worker's earliest repeat, or -1
	firstOf := make([]int, workers)
	for w := range workers {
		wg.Go(func() {
			dupAt[w] = -1
			seen := newAddressSet(out, len(out)/workers+1)
			for i, rw := range out {
				if errLine != 0 && lines[i] >= errLine {
					break // an earlier line already failed
				}
				if int(rw.Account[0])%workers != w {
					continue
				}
				if first, dup := seen.add(i); dup {
					dupAt[w], firstOf[w] = i, first
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range workers {
		if i := dupAt[w]; i >= 0 && (errLine == 0 || lines[i] < errLine) {
			errLine, errMsg = lines[i], fmt.Sprintf("%s already listed on line %d", out[i].Account.Hex(), lines[firstOf[w]])
		}
	}
	if errLine != 0 {
		return nil, fmt.Errorf("line %d: %s", errLine, errMsg)
	}
	if len(out) == 0 {
		return nil, errors.New("no address,amount lines in the input")
	}
	return out, nil
}

// regularFileSize returns r's size when r is a regular file.
func regularFileSize(r io.Reader) (int64, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0, false
	}
	return st.Size(), true
}

// parsedPart is one part of the input, parsed: its rewards and their lines
// (counted from the part's first, 1), its first error, its line count.
type parsedPart struct {
	rewards   []Reward
	lines     []int
	lineCount int
	errLine   int
	err       string
}

// parsePart parses the lines of one part; a header may lead only the first.
func parsePart(data []byte, first bool) parsedPart {
	var p parsedPart
	p.lineCount = bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		p.lineCount++
	}
	p.rewards = make([]Reward, 0, len(data)/56)
	p.lines = make([]int, 0, len(data)/56)
	var slab []big.Int // amounts, allocated a few thousand at a time
	for line := 1; len(data) > 0; line++ {
		raw := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			raw, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		text := bytes.TrimSpace(raw)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		fail := func(format string, args ...any) parsedPart {
			p.errLine, p.err = line, fmt.Sprintf(format, args...)
			return p
		}
		addr, amt, ok := bytes.Cut(text, []byte{','})
		if !ok || bytes.IndexByte(amt, ',') >= 0 {
			return fail("want \"address,amount\", got %d fields", bytes.Count(text, []byte{','})+1)
		}
		addr, amt = unquote(addr), unquote(amt)
		if first && len(p.rewards) == 0 && bytes.EqualFold(addr, []byte("address")) {
			continue // header
		}
		var account common.Address
		hexAddr := addr
		if len(hexAddr) >= 2 && hexAddr[0] == '0' && (hexAddr[1] == 'x' || hexAddr[1] == 'X') {
			hexAddr = hexAddr[2:]
		}
		if len(hexAddr) != 2*common.AddressLength {
			return fail("%q is not an address (0x and 40 hex digits)", addr)
		}
		if _, err := hex.Decode(account[:], hexAddr); err != nil {
			return fail("%q is not an address (0x and 40 hex digits)", addr)
		}
		if len(slab) == 0 {
			slab = make([]big.Int, 4096)
		}
		v := &slab[0]
		slab = slab[1:]
		if !parseAmount(v, amt) {
			return fail("amount %q must be a non-negative integer in base units (no decimals)", amt)
		}
		p.rewards = append(p.rewards, Reward{Account: account, Amount: v})
		p.lines = append(p.lines, line)
	}
	return p
}

// parseAmount sets v to the decimal amount s, a uint256, and reports
// whether s is one. Up to 38 digits (every realistic amount: 10^20 tokens of
// 18 decimals) are read into 128 bits directly; big.Int's SetString, which
// takes longer ones, was a third of reading a million lines.
func parseAmount(v *big.Int, s []byte) bool {
	if len(s) == 0 || len(s) > 38 || bits.UintSize != 64 {
		_, ok := v.SetString(string(s), 10)
		return ok && len(s) > 0 && s[0] != '+' && s[0] != '-' && v.BitLen() <= 256
	}
	var hi, lo uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i]) - '0'
		if d > 9 {
			return false
		}
		carry, low := bits.Mul64(lo, 10)
		low, c := bits.Add64(low, d, 0)
		lo, hi = low, hi*10+carry+c
	}
	if hi == 0 {
		v.SetUint64(lo)
	} else {
		v.SetBits([]big.Word{big.Word(lo), big.Word(hi)})
	}
	return true
}

// unquote trims a field's spaces and one pair of double quotes around it.
func unquote(field []byte) []byte {
	field = bytes.TrimSpace(field)
	if len(field) >= 2 && field[0] == '"' && field[len(field)-1] == '"' {
		field = field[1 : len(field)-1]
	}
	return field
}

// addressSet is a set of the rewards' accounts, by index into rewards: open
// addressing with linear probing over a power-of-two table of indices.
// Hand-written because a map keyed by 20-byte addresses was a fifth of
// reading a million lines (hashing and probing its groups); addresses are
// already uniform, so their first eight bytes, mixed once, spread the table.
type addressSet struct {
	rewards []Reward
	slots   []int32 // index+1 of the reward in each slot, 0 when empty
	mask    uint64
}

func newAddressSet(rewards []Reward, capacity int) *addressSet {
	size := 1
	for size < 2*capacity {
		size <<= 1
	}
	return &addressSet{rewards: rewards, slots: make([]int32, size), mask: uint64(size - 1)}
}

// add inserts rewards[i]'s account and reports the index it was first seen
// at when it was already there.
func (s *addressSet) add(i int) (int, bool) {
	a := s.rewards[i].Account
	h := binary.LittleEndian.Uint64(a[:8]) ^ uint64(binary.LittleEndian.Uint32(a[16:]))<<7
	h *= 0x9e3779b97f4a7c15 // Fibonacci hashing: a chosen address prefix does not pile up
	for slot := h >> 32 & s.mask; ; slot = (slot + 1) & s.mask {
		j := s.slots[slot]
		if j == 0 {
			s.slots[slot] = int32(i + 1)
			return 0, false
		}
		if s.rewards[j-1].Account == a {
			return int(j - 1), true
		}
	}
}
