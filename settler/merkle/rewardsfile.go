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
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

// ReadRewards parses "address,amount" lines. Blank lines and lines starting
// with '#' are skipped; the first other line is a header when its first
// field is "address"; a field may be in double quotes. An address listed
// twice is an error, not summed: the caller should know its input has
// duplicates. Of several errors, the one on the earliest line is reported.
//
// Hand-written rather than encoding/csv, and on every CPU: a million lines
// took 3.5 s with encoding/csv (a record slice and strings per line), about
// 0.4 s here. The input is read whole (mapped when it is a file), cut at
// line ends into one part per CPU, the parts parsed at once, then checked
// for duplicates, each CPU taking the addresses of one residue of their
// first byte. FuzzReadRewards holds it to a plain reading, line by line.
func ReadRewards(r io.Reader) ([]Reward, error) {
	data, release, err := readInput(r)
	if err != nil {
		return nil, err
	}
	defer release()
	workers := runtime.GOMAXPROCS(0)
	if len(data) < partMin {
		workers = 1
	}
	header := headerAt(data)
	// Cut after a newline near each 1/workers of the input: part i is
	// data[bounds[i]:bounds[i+1]].
	bounds := []int{0}
	for w := 1; w < workers; w++ {
		at := max(len(data)*w/workers, bounds[len(bounds)-1])
		nl := bytes.IndexByte(data[at:], '\n')
		if nl < 0 {
			break
		}
		bounds = append(bounds, at+nl+1)
	}
	bounds = append(bounds, len(data))
	// Each part parses into its own region of one slice, room for as many
	// rewards as it has bytes for (a reward's line is at least 42 bytes and
	// a newline), then the regions close up; concatenating the parts' own
	// slices allocated and copied every reward again.
	parts := make([]parsedPart, len(bounds)-1)
	regions := make([]int, len(parts)+1) // where each part's region starts
	for i := range parts {
		regions[i+1] = regions[i] + (bounds[i+1]-bounds[i])/42 + 1
	}
	all := make([]Reward, regions[len(parts)])
	run(len(parts), func(i int) {
		dst := all[regions[i]:regions[i]:regions[i+1]]
		parts[i] = parsePart(data[bounds[i]:bounds[i+1]], header-bounds[i], dst)
	})
	// Close up the regions, up to the first part that failed: nothing after
	// its error is needed. firsts[i] is where part i's rewards begin in out.
	n := 0
	errLine, errMsg := 0, ""
	firsts := make([]int, 0, len(parts))
	firstLine := 1
	for i := range parts {
		p := &parts[i]
		firsts = append(firsts, n)
		if n != regions[i] {
			copy(all[n:], p.rewards)
		}
		n += len(p.rewards)
		p.firstLine = firstLine
		if p.err != "" {
			errLine, errMsg = firstLine+p.errLine-1, p.err
			break
		}
		firstLine += p.lineCount
	}
	out := all[:n:n]
	lineOf := func(i int) int {
		k := sort.SearchInts(firsts, i+1) - 1 // the part holding reward i
		return parts[k].lineOf(i - firsts[k])
	}
	// Duplicates: the earliest second listing, checked in parallel by the
	// address's first byte.
	dupAt := make([]int, workers) // index in out of each worker's earliest repeat, or -1
	firstOf := make([]int, workers)
	run(workers, func(w int) {
		dupAt[w] = -1
		seen := newAddressSet(out, len(out)/workers+1)
		for i := range out {
			if int(out[i].Account[0])%workers != w {
				continue
			}
			if first, dup := seen.add(i); dup {
				dupAt[w], firstOf[w] = i, first
				return
			}
		}
	})
	for w := range workers {
		if i := dupAt[w]; i >= 0 && (errLine == 0 || lineOf(i) < errLine) {
			errLine, errMsg = lineOf(i), fmt.Sprintf("%s already listed on line %d", out[i].Account.Hex(), lineOf(firstOf[w]))
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

// readInput returns r's bytes: a regular file mapped (mapFile) or read into
// a buffer of its size, anything else read to its end. release gives the
// bytes back once they are parsed.
func readInput(r io.Reader) (data []byte, release func(), err error) {
	if f, size, ok := regularFile(r); ok {
		if data, release, ok := mapFile(f, size); ok {
			return data, release, nil
		}
		// Sized by the file: io.ReadAll's growing and clearing took 0.6 s.
		data = make([]byte, size)
		_, err = io.ReadFull(f, data)
		return data, func() {}, err
	}
	data, err = io.ReadAll(r)
	return data, func() {}, err
}

// regularFile returns r as a regular file and its size, when it is one and
// is read from its start (standard input may be a file read from partway).
func regularFile(r io.Reader) (*os.File, int64, bool) {
	f, ok := r.(*os.File)
	if !ok {
		return nil, 0, false
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, 0, false
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return nil, 0, false
	}
	return f, st.Size(), true
}

// parsedPart is one part of the input, parsed: its rewards, the lines
// skipped among them, its line count (when it parsed to its end), its first
// error and that error's line (counted from the part's first, 1).
type parsedPart struct {
	rewards   []Reward
	skips     []int // for each line skipped (blank, comment, header), how many rewards came before it
	firstLine int   // the input's line number of the part's first line
	lineCount int
	errLine   int
	err       string
}

// lineOf returns the input's line number of the part's reward k.
func (p *parsedPart) lineOf(k int) int {
	return p.firstLine + k + sort.SearchInts(p.skips, k+1)
}

// partMin is the smallest input read in parts, one per CPU.
var partMin = 1 << 20

// headerAt returns where the header is in data, or -1: the first line that
// is neither blank nor a comment, when its first of two fields is
// "address" (in any case, quoted or not).
func headerAt(data []byte) int {
	for at := 0; at < len(data); {
		raw, _, _ := bytes.Cut(data[at:], []byte{'\n'})
		text := bytes.TrimSpace(raw)
		if len(text) > 0 && text[0] != '#' {
			addr, amt, ok := bytes.Cut(text, []byte{','})
			if ok && bytes.IndexByte(amt, ',') < 0 && bytes.EqualFold(unquote(addr), []byte("address")) {
				return at
			}
			return -1
		}
		at += len(raw) + 1
	}
	return -1
}

// parsePart parses the lines of one part into dst (from its length, within
// its capacity where the caller made room), skipping the header if it starts
// at offset header of the part.
func parsePart(data []byte, header int, dst []Reward) parsedPart {
	p := parsedPart{rewards: dst}
	var slab []big.Int   // amounts, allocated a few thousand at a time
	var words []big.Word // and their 128 bits
	for line, at := 1, 0; at < len(data); line++ {
		p.lineCount = line
		raw, _, _ := bytes.Cut(data[at:], []byte{'\n'})
		start := at
		at += len(raw) + 1
		text := bytes.TrimSpace(raw)
		if len(text) == 0 || text[0] == '#' || start == header {
			p.skips = append(p.skips, len(p.rewards))
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
			slab, words = make([]big.Int, 4096), make([]big.Word, 2*4096)
		}
		v, w := &slab[0], words[:2:2]
		slab, words = slab[1:], words[2:]
		if !parseAmount(v, w, amt) {
			return fail("amount %q must be a non-negative integer in base units (no decimals)", amt)
		}
		p.rewards = append(p.rewards, Reward{Account: account, Amount: v})
	}
	return p
}

// parseAmount sets v to the decimal amount s, a uint256, and reports
// whether s is one. Up to 38 digits (every realistic amount: 10^20 tokens of
// 18 decimals) are read into 128 bits directly, held in w (two words, which
// v keeps); big.Int's SetString, which takes longer ones, was a third of
// reading a million lines, and a word slice of each amount's own a tenth of
// the memory `fieldmint tree` touched.
func parseAmount(v *big.Int, w []big.Word, s []byte) bool {
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
	w[0], w[1] = big.Word(lo), big.Word(hi)
	v.SetBits(w[:2]) // normalised: a high word of 0 is dropped
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
// addressing with linear probing over a power-of-two table. Hand-written
// because a map keyed by 20-byte addresses was a fifth of reading a million
// lines (hashing and probing its groups); addresses are already uniform, so
// their first eight bytes, mixed once, spread the table. A slot holds 32 bits
// of the hash beside the index, so a probe compares accounts only when those
// match: comparing each probed slot's account read the rewards at random, a
// cache miss a probe.
type addressSet struct {
	rewards []Reward
	slots   []uint64 // hash bits << 32 | index+1 of the reward in each slot; 0 when empty
	shift   uint     // 64 - log2(len(slots)): a hash's top bits choose its slot
}

func newAddressSet(rewards []Reward, capacity int) *addressSet {
	bits := uint(1)
	for 1<<bits < 2*capacity {
		bits++
	}
	return &addressSet{rewards: rewards, slots: make([]uint64, 1<<bits), shift: 64 - bits}
}

// add inserts rewards[i]'s account and reports the index it was first seen
// at when it was already there.
func (s *addressSet) add(i int) (int, bool) {
	a := s.rewards[i].Account
	h := binary.LittleEndian.Uint64(a[:8]) ^ uint64(binary.LittleEndian.Uint32(a[16:]))<<7
	h *= 0x9e3779b97f4a7c15 // Fibonacci hashing: a chosen address prefix does not pile up
	tag := h << 32
	mask := uint64(len(s.slots) - 1)
	for slot := h >> s.shift; ; slot = (slot + 1) & mask {
		e := s.slots[slot]
		if e == 0 {
			s.slots[slot] = tag | uint64(i+1)
			return 0, false
		}
		if e&^(1<<32-1) == tag {
			if j := int(uint32(e)) - 1; s.rewards[j].Account == a {
				return j, true
			}
		}
	}
}
