// Package quorum is what settlers sign and how a k-of-n signature set is
// checked: the distributor's EIP-712 Vote (a root, what it builds on, the
// inputs it was computed from) and SignerSet (a rotation), their digests,
// signatures and recovery. The contract checks the same digests on chain
// (voteDigest, signerSetDigest); TestDigestsMatchTheContract holds the two
// together.
package quorum

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// The EIP-712 domain's name and version; chain id and contract complete it.
const (
	DomainName    = "fieldmint RewardsDistributor"
	DomainVersion = "1"
)

// Type strings, as the contract's VOTE_TYPEHASH and SIGNER_SET_TYPEHASH.
const (
	voteType      = "Vote(uint64 epoch,bytes32 root,uint256 total,bytes32 prevRoot,bytes32 inputs,uint32 rules,uint64 round)"
	signerSetType = "SignerSet(address[] signers,uint8 threshold,uint64 round)"
	domainType    = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)

var (
	voteTypeHash      = crypto.Keccak256Hash([]byte(voteType))
	signerSetTypeHash = crypto.Keccak256Hash([]byte(signerSetType))
	domainTypeHash    = crypto.Keccak256Hash([]byte(domainType))
)

// Domain names the one distributor a signature is good for.
type Domain struct {
	ChainID  *big.Int
	Contract common.Address
}

// Separator is the EIP-712 domain separator.
func (d Domain) Separator() common.Hash {
	return crypto.Keccak256Hash(
		domainTypeHash[:],
		crypto.Keccak256([]byte(DomainName)),
		crypto.Keccak256([]byte(DomainVersion)),
		word(d.ChainID),
		common.LeftPadBytes(d.Contract[:], 32),
	)
}

func (d Domain) digest(structHash common.Hash) common.Hash {
	sep := d.Separator()
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, sep[:], structHash[:])
}

// Vote is a signer's statement that root settles epoch: its cumulative
// total, the root on chain it builds on (zero before the first), the hash of
// the input cut it was computed from, the version of the rules that turned
// those inputs into rewards, and the signer-set round it is signed in.
type Vote struct {
	Epoch    uint64      `json:"epoch"`
	Root     common.Hash `json:"root"`
	Total    *big.Int    `json:"total"`
	PrevRoot common.Hash `json:"prevRoot"`
	Inputs   common.Hash `json:"inputs"`
	Rules    uint32      `json:"rules"`
	Round    uint64      `json:"round"`
}

// Binding is v as the distributor's binding takes it.
func (v Vote) Binding() distributor.RewardsDistributorVote {
	return distributor.RewardsDistributorVote{Epoch: v.Epoch, Root: v.Root, Total: v.Total, PrevRoot: v.PrevRoot,
		Inputs: v.Inputs, Rules: v.Rules, Round: v.Round}
}

// Digest is what a signer signs for v in domain d.
func (v Vote) Digest(d Domain) common.Hash {
	return d.digest(crypto.Keccak256Hash(
		voteTypeHash[:],
		word(new(big.Int).SetUint64(v.Epoch)),
		v.Root[:],
		word(v.Total),
		v.PrevRoot[:],
		v.Inputs[:],
		word(new(big.Int).SetUint64(uint64(v.Rules))),
		word(new(big.Int).SetUint64(v.Round)),
	))
}

// SignerSetDigest is what a signer signs to replace the signer set with
// signers and threshold in round.
func SignerSetDigest(d Domain, signers []common.Address, threshold uint8, round uint64) common.Hash {
	var packed []byte
	for _, s := range signers {
		packed = append(packed, common.LeftPadBytes(s[:], 32)...)
	}
	return d.digest(crypto.Keccak256Hash(
		signerSetTypeHash[:],
		crypto.Keccak256(packed),
		word(big.NewInt(int64(threshold))),
		word(new(big.Int).SetUint64(round)),
	))
}

func word(x *big.Int) []byte {
	if x == nil {
		x = new(big.Int)
	}
	return math.U256Bytes(new(big.Int).Set(x))
}

// Sign signs digest with key: 65 bytes r || s || v, v being 27 or 28 as
// the contract (OpenZeppelin's ECDSA) expects.
func Sign(digest common.Hash, key *ecdsa.PrivateKey) ([]byte, error) {
	sig, err := crypto.Sign(digest[:], key)
	if err != nil {
		return nil, err
	}
	sig[64] += 27
	return sig, nil
}

// ErrSignature means a signature does not recover to a signer.
var ErrSignature = errors.New("quorum: not a valid signature")

// Recover returns the address that signed digest, refusing what the
// contract refuses: a length other than 65, v other than 27 or 28, a high s.
func Recover(digest common.Hash, sig []byte) (common.Address, error) {
	if len(sig) != 65 || (sig[64] != 27 && sig[64] != 28) {
		return common.Address{}, ErrSignature
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(sig[64]-27, r, s, true) {
		return common.Address{}, ErrSignature
	}
	plain := slices.Clone(sig)
	plain[64] -= 27
	pub, err := crypto.SigToPub(digest[:], plain)
	if err != nil {
		return common.Address{}, ErrSignature
	}
	return crypto.PubkeyToAddress(*pub), nil
}

// Signature is one signer's signature.
type Signature struct {
	Signer common.Address `json:"signer"`
	Sig    []byte         `json:"signature"`
}

// Ordered returns the signatures of distinct signers in set, ascending by
// signer, as the contract takes them; a signature that does not recover to
// its claimed signer, or whose signer is not in set, is an error.
func Ordered(digest common.Hash, set []common.Address, sigs []Signature) ([][]byte, error) {
	seen := map[common.Address]bool{}
	var kept []Signature
	for _, s := range sigs {
		who, err := Recover(digest, s.Sig)
		if err != nil || who != s.Signer {
			return nil, fmt.Errorf("quorum: the signature claimed for %s does not recover to it", s.Signer.Hex())
		}
		if !slices.Contains(set, who) {
			return nil, fmt.Errorf("quorum: %s is not in the signer set", who.Hex())
		}
		if !seen[who] {
			seen[who] = true
			kept = append(kept, s)
		}
	}
	slices.SortFunc(kept, func(a, b Signature) int { return bytes.Compare(a.Signer[:], b.Signer[:]) })
	out := make([][]byte, len(kept))
	for i, s := range kept {
		out[i] = s.Sig
	}
	return out, nil
}

// Sorted returns the addresses ascending, as the contract stores a set.
func Sorted(addrs []common.Address) []common.Address {
	out := slices.Clone(addrs)
	slices.SortFunc(out, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	return out
}

// Majority is the smallest threshold the contract allows for n signers.
func Majority(n int) uint8 { return uint8(n/2 + 1) }

// Calldata is proposeRoot(v, sigs), sigs ordered as Ordered returns them.
func (v Vote) Calldata(sigs [][]byte) []byte {
	return distributor.NewRewardsDistributor().PackProposeRoot(v.Binding(), sigs)
}
