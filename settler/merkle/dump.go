package merkle

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"runtime"
	"strconv"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// dumpChunk is how many values one worker formats at a time.
const dumpChunk = 8192

// WriteDump writes the standard-v1 dump to w: the same bytes as
// json.Marshal(t.Dump()), without building the Dump, whose million values
// cost several allocations each and a 2 GB peak. Values (checksummed
// addresses need a Keccak each) are formatted on every CPU in chunks and
// written in order.
func (t *Tree) WriteDump(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc, err := json.Marshal(t.encoding)
	if err != nil {
		return err
	}
	bw.WriteString(`{"format":"` + Format + `","leafEncoding":`)
	bw.Write(enc)
	bw.WriteString(`,"tree":[`)
	var node [2 + 2 + 2*common.HashLength + 1]byte // "0x…",
	for i, n := range t.nodes {
		b := append(node[:0], '"', '0', 'x')
		b = b[:3+hex.EncodedLen(len(n))]
		hex.Encode(b[3:], n[:])
		b = append(b, '"')
		if i < len(t.nodes)-1 {
			b = append(b, ',')
		}
		bw.Write(b)
	}
	bw.WriteString(`],"values":[`)

	n := len(t.index)
	chunks := (n + dumpChunk - 1) / dumpChunk
	type formatted struct {
		b   []byte
		err error
	}
	out := make([]chan formatted, chunks)
	next := make(chan int, chunks)
	for c := range chunks {
		out[c] = make(chan formatted, 1)
		next <- c
	}
	close(next)
	var wg sync.WaitGroup
	defer wg.Wait()
	for range min(runtime.GOMAXPROCS(0), chunks) {
		wg.Go(func() {
			for c := range next {
				b, err := t.formatValues(c*dumpChunk, min((c+1)*dumpChunk, n))
				out[c] <- formatted{b, err}
			}
		})
	}
	for c := range chunks {
		f := <-out[c]
		if f.err != nil {
			return f.err
		}
		bw.Write(f.b)
	}
	bw.WriteString(`]}`)
	return bw.Flush()
}

// formatValues formats values [from, to) of the dump, each followed by a
// comma but the tree's last.
func (t *Tree) formatValues(from, to int) ([]byte, error) {
	b := make([]byte, 0, (to-from)*96)
	h := newHasher() // for the checksummed addresses (Address.Hex makes a Keccak state and four allocations each)
	for i := from; i < to; i++ {
		b = append(b, `{"value":[`...)
		for j, x := range t.raw(i) {
			if j > 0 {
				b = append(b, ',')
			}
			switch x := x.(type) {
			case *big.Int:
				b = append(b, '"')
				b = x.Append(b, 10)
				b = append(b, '"')
			case common.Address:
				b = append(b, '"')
				b = appendChecksummed(b, x, h)
				b = append(b, '"')
			default:
				raw, err := json.Marshal(x)
				if err != nil {
					return nil, err
				}
				b = append(b, raw...)
			}
		}
		b = append(b, `],"treeIndex":`...)
		b = strconv.AppendInt(b, int64(t.index[i]), 10)
		b = append(b, '}')
		if i < len(t.index)-1 {
			b = append(b, ',')
		}
	}
	return b, nil
}

// appendChecksummed appends a's EIP-55 form (common.Address.Hex): the hex
// digits, a letter upper-cased where the Keccak of the lower-case digits
// has a nibble above 7.
func appendChecksummed(b []byte, a common.Address, h *hasher) []byte {
	var digits [2 * common.AddressLength]byte
	hex.Encode(digits[:], a[:])
	sum := h.sum(digits[:])
	for i, c := range digits {
		nibble := sum[i/2] >> 4
		if i%2 == 1 {
			nibble = sum[i/2] & 0xf
		}
		if c > '9' && nibble > 7 {
			digits[i] = c - 32
		}
	}
	b = append(b, '0', 'x')
	return append(b, digits[:]...)
}
