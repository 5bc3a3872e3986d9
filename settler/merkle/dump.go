package merkle

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"runtime"
	"strconv"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// dumpChunk is how many nodes or values one worker formats at a time.
const dumpChunk = 8192

// WriteDump writes the standard-v1 dump to w: the same bytes as
// json.Marshal(t.Dump()), without building the Dump, whose million values
// cost several allocations each and a 2 GB peak. The nodes and then the
// values (checksummed addresses need a Keccak each) are formatted on every
// CPU in chunks and written to w in order, a chunk a Write, a few chunks'
// buffers reused: every megabyte the process touches anew costs it a
// millisecond in page faults.
func (t *Tree) WriteDump(w io.Writer) error {
	enc, err := json.Marshal(t.encoding)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, `{"format":"`+Format+`","leafEncoding":`+string(enc)+`,"tree":[`); err != nil {
		return err
	}
	chunksOf := func(n int) int { return (n + dumpChunk - 1) / dumpChunk }
	nodeChunks := chunksOf(len(t.nodes))
	chunks := nodeChunks + chunksOf(len(t.index))
	format := func(b []byte, c int) ([]byte, error) {
		if b == nil {
			b = make([]byte, 0, 128*dumpChunk) // a value takes at most about 150 bytes, a node 69
		}
		if c < nodeChunks {
			b = t.formatNodes(b, c*dumpChunk, min((c+1)*dumpChunk, len(t.nodes)))
			if c == nodeChunks-1 {
				b = append(b, `],"values":[`...)
			}
			return b, nil
		}
		c -= nodeChunks
		b, err := t.formatValues(b, c*dumpChunk, min((c+1)*dumpChunk, len(t.index)))
		if c == chunks-nodeChunks-1 {
			b = append(b, `]}`...)
		}
		return b, err
	}
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
	workers := min(runtime.GOMAXPROCS(0), chunks)
	// A worker takes a buffer before a chunk, so the chunk the writer waits
	// for always has one; workers run at most 2 chunks each ahead of it.
	free := make(chan []byte, 2*workers)
	for range cap(free) {
		free <- nil
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done) // before the wait: workers stop taking buffers
	for range workers {
		wg.Go(func() {
			for {
				var b []byte
				select {
				case b = <-free:
				case <-done:
					return
				}
				c, ok := <-next
				if !ok {
					return
				}
				b, err := format(b[:0], c)
				out[c] <- formatted{b, err}
			}
		})
	}
	for c := range chunks {
		f := <-out[c]
		if f.err != nil {
			return f.err
		}
		if _, err := w.Write(f.b); err != nil {
			return err
		}
		free <- f.b
	}
	return nil
}

// formatNodes appends nodes [from, to) of the dump to b, "0x…" each, each
// followed by a comma but the last.
func (t *Tree) formatNodes(b []byte, from, to int) []byte {
	for i := from; i < to; i++ {
		b = append(b, '"', '0', 'x')
		b = hex.AppendEncode(b, t.nodes[i][:])
		b = append(b, '"')
		if i < len(t.nodes)-1 {
			b = append(b, ',')
		}
	}
	return b
}

// formatValues appends values [from, to) of the dump to b, each followed by
// a comma but the tree's last. Addresses are written in lower case and
// checksummed in place four at a time (keccak4), once four are pending.
// A reward tree's values are read from its rewards, not boxed by raw.
func (t *Tree) formatValues(b []byte, from, to int) ([]byte, error) {
	k := newKeccak4()
	var pending []int // where in b the digits of addresses not yet checksummed start
	address := func(a common.Address) {
		b = append(b, '"', '0', 'x')
		pending = append(pending, len(b))
		b = hex.AppendEncode(b, a[:])
		b = append(b, '"')
		if len(pending) == 4 {
			checksum(b, pending, k)
			pending = pending[:0]
		}
	}
	for i := from; i < to; i++ {
		b = append(b, `{"value":[`...)
		if t.rewards != nil {
			address(t.rewards[i].Account)
			b = append(b, ',')
			b = appendAmount(b, t.rewards[i].Amount)
		} else {
			for j, x := range t.raw(i) {
				if j > 0 {
					b = append(b, ',')
				}
				switch x := x.(type) {
				case *big.Int:
					b = appendAmount(b, x)
				case common.Address:
					address(x)
				default:
					raw, err := json.Marshal(x)
					if err != nil {
						return nil, err
					}
					b = append(b, raw...)
				}
			}
		}
		b = append(b, `],"treeIndex":`...)
		b = strconv.AppendInt(b, int64(t.index[i]), 10)
		b = append(b, '}')
		if i < len(t.index)-1 {
			b = append(b, ',')
		}
	}
	checksum(b, pending, k)
	return b, nil
}

// appendAmount appends x in decimal, quoted; big.Int's Append allocates its
// digits each time, so amounts that fit 64 bits (the usual) go through
// strconv.
func appendAmount(b []byte, x *big.Int) []byte {
	b = append(b, '"')
	if x.IsUint64() {
		b = strconv.AppendUint(b, x.Uint64(), 10)
	} else {
		b = x.Append(b, 10)
	}
	return append(b, '"')
}

// checksum turns up to four addresses' lower-case hex digits in b, starting
// at each of at, into their EIP-55 form (common.Address.Hex): a letter is
// upper-cased where the Keccak of the lower-case digits has a nibble above 7.
func checksum(b []byte, at []int, k *keccak4) {
	if len(at) == 0 {
		return
	}
	var msgs [4][]byte
	var sums [4]common.Hash
	for j, a := range at {
		msgs[j] = b[a : a+2*common.AddressLength]
	}
	k.sums(msgs[:len(at)], sums[:len(at)])
	for j, digits := range msgs[:len(at)] {
		// Without branches (half of them went the other way): a letter
		// has bit 0x40 and loses 0x20 to be upper case; the nibble's top
		// bit, made a mask, says whether it does.
		for i, s := range sums[j][:common.AddressLength] {
			d := digits[2*i : 2*i+2 : 2*i+2] // the digits of byte i: nibbles s>>4 and s&0xf
			d[0] ^= d[0] >> 1 & 0x20 & -(s >> 7)
			d[1] ^= d[1] >> 1 & 0x20 & -(s >> 3 & 1)
		}
	}
}
