package merkle

import (
	"bytes"
	"encoding/binary"

	"github.com/cloudflare/circl/simd/keccakf1600"
	"github.com/ethereum/go-ethereum/common"
)

// keccak4 computes four Keccak-256 hashes at once with Cloudflare CIRCL's
// four-way Keccak-f[1600] (AVX2; a portable permutation elsewhere): 115 ns
// a permutation here against 336 ns for one hash through x/crypto's state.
// A tree hashes two messages a leaf, one an inner node and one a checksummed
// address, each shorter than Keccak's 136-byte block, so each hash is one
// permutation and four messages fill the four lanes.
//
// Only messages of whole 64-bit words are taken (32, 40 and 64 bytes here),
// which lets a message be loaded a lane at a time.
type keccak4 struct {
	st keccakf1600.StateX4
	a  []uint64 // the four states, interleaved: lane i of state j at a[4*i+j]
}

func newKeccak4() *keccak4 {
	k := new(keccak4)
	k.a = k.st.Initialize(false)
	return k
}

// rateLanes is Keccak-256's block: 136 bytes, 17 lanes.
const rateLanes = 17

// load sets state j to msg, padded (Keccak's 0x01 … 0x80, not SHA-3's
// 0x06), ready to permute; len(msg) must be a multiple of 8 below 136.
func (k *keccak4) load(j int, msg []byte) {
	words := len(msg) / 8
	if len(msg)%8 != 0 || words >= rateLanes {
		panic("merkle: keccak4 takes whole words below a block")
	}
	for i := range words {
		k.a[4*i+j] = binary.LittleEndian.Uint64(msg[8*i:])
	}
	k.pad(j, words)
}

// reload makes state j's digest, its first 4 lanes, the next message (a
// leaf's second hash).
func (k *keccak4) reload(j int) { k.pad(j, 4) }

// pad clears state j past a message of the given lanes and pads it.
func (k *keccak4) pad(j, words int) {
	for i := words; i < 25; i++ {
		k.a[4*i+j] = 0
	}
	k.a[4*words+j] = 0x01
	k.a[4*(rateLanes-1)+j] ^= 0x80 << 56
}

// digest returns state j's first 32 bytes, the hash once permuted.
func (k *keccak4) digest(j int) (h common.Hash) {
	for i := range 4 {
		binary.LittleEndian.PutUint64(h[8*i:], k.a[4*i+j])
	}
	return h
}

// leaves sets out[j] to LeafHash(enc[j]) for the first len(out) (at most
// four) encoded values.
func (k *keccak4) leaves(enc *[4][64]byte, out []common.Hash) {
	for j := range out {
		k.load(j, enc[j][:])
	}
	k.st.Permute()
	for j := range out {
		k.reload(j)
	}
	k.st.Permute()
	for j := range out {
		out[j] = k.digest(j)
	}
}

// pairs sets out[j] to the hash of children[2j] and children[2j+1] in
// ascending order, for up to four nodes.
func (k *keccak4) pairs(children, out []common.Hash) {
	var buf [64]byte
	for j := range out {
		a, b := children[2*j], children[2*j+1]
		if bytes.Compare(a[:], b[:]) > 0 {
			a, b = b, a
		}
		copy(buf[:32], a[:])
		copy(buf[32:], b[:])
		k.load(j, buf[:])
	}
	k.st.Permute()
	for j := range out {
		out[j] = k.digest(j)
	}
}

// sums sets out[j] to the Keccak-256 of msgs[j], for up to four messages.
func (k *keccak4) sums(msgs [][]byte, out []common.Hash) {
	for j, m := range msgs {
		k.load(j, m)
	}
	k.st.Permute()
	for j := range msgs {
		out[j] = k.digest(j)
	}
}
