package quorum_test

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"

	"github.com/fieldmint/fieldmint/settler/quorum"
)

var domain = quorum.Domain{ChainID: big.NewInt(31337), Contract: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}

func typed(primary string, message apitypes.TypedDataMessage, fields []apitypes.Type) apitypes.TypedData {
	return apitypes.TypedData{
		Types: apitypes.Types{
			"EIP712Domain": {{Name: "name", Type: "string"}, {Name: "version", Type: "string"}, {Name: "chainId", Type: "uint256"}, {Name: "verifyingContract", Type: "address"}},
			primary:        fields,
		},
		PrimaryType: primary,
		Domain: apitypes.TypedDataDomain{Name: quorum.DomainName, Version: quorum.DomainVersion,
			ChainId: (*math.HexOrDecimal256)(domain.ChainID), VerifyingContract: domain.Contract.Hex()},
		Message: message,
	}
}

// TestDigestsMatchGoEthereum: the hand-written EIP-712 digests equal
// go-ethereum's generic typed-data encoder (the signer clef uses); the
// contract's own digests are checked on chain in internal/chain.
func TestDigestsMatchGoEthereum(t *testing.T) {
	v := quorum.Vote{Epoch: 42, Root: common.Hash{1, 2}, Total: new(big.Int).Lsh(big.NewInt(1), 200), PrevRoot: common.Hash{3},
		Inputs: common.Hash{4}, Rules: 7, Round: 9}
	td := typed("Vote", apitypes.TypedDataMessage{
		"epoch": "42", "root": v.Root.Hex(), "total": v.Total.String(), "prevRoot": v.PrevRoot.Hex(),
		"inputs": v.Inputs.Hex(), "rules": "7", "round": "9",
	}, []apitypes.Type{{Name: "epoch", Type: "uint64"}, {Name: "root", Type: "bytes32"}, {Name: "total", Type: "uint256"},
		{Name: "prevRoot", Type: "bytes32"}, {Name: "inputs", Type: "bytes32"}, {Name: "rules", Type: "uint32"}, {Name: "round", Type: "uint64"}})
	want, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Digest(domain); got != common.BytesToHash(want) {
		t.Fatalf("vote digest %s, go-ethereum's %x", got.Hex(), want)
	}
	signers := []common.Address{common.HexToAddress("0xa1"), common.HexToAddress("0xb2")}
	td = typed("SignerSet", apitypes.TypedDataMessage{
		"signers": []any{signers[0].Hex(), signers[1].Hex()}, "threshold": "2", "round": "3",
	}, []apitypes.Type{{Name: "signers", Type: "address[]"}, {Name: "threshold", Type: "uint8"}, {Name: "round", Type: "uint64"}})
	if want, _, err = apitypes.TypedDataAndHash(td); err != nil {
		t.Fatal(err)
	}
	if got := quorum.SignerSetDigest(domain, signers, 2, 3); got != common.BytesToHash(want) {
		t.Fatalf("signer set digest %s, go-ethereum's %x", got.Hex(), want)
	}
}

// TestOrdered: signatures come back ascending by signer, one per signer;
// one that does not recover to the signer it names, or names a signer
// outside the set, is refused.
func TestOrdered(t *testing.T) {
	keys := make([]*ecdsa.PrivateKey, 3)
	var set []common.Address
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
		set = append(set, crypto.PubkeyToAddress(keys[i].PublicKey))
	}
	digest := common.Hash{5}
	var sigs []quorum.Signature
	for _, k := range append(keys, keys[0]) {
		s, err := quorum.Sign(digest, k)
		if err != nil {
			t.Fatal(err)
		}
		if who, err := quorum.Recover(digest, s); err != nil || who != crypto.PubkeyToAddress(k.PublicKey) {
			t.Fatalf("recovered %s (%v)", who.Hex(), err)
		}
		sigs = append(sigs, quorum.Signature{Signer: crypto.PubkeyToAddress(k.PublicKey), Sig: s})
	}
	out, err := quorum.Ordered(digest, set, sigs)
	if err != nil || len(out) != 3 {
		t.Fatalf("%d signatures (%v), want 3", len(out), err)
	}
	var last common.Address
	for _, s := range out {
		who, _ := quorum.Recover(digest, s)
		if who.Cmp(last) <= 0 {
			t.Fatal("not ascending")
		}
		last = who
	}
	lie := sigs[0]
	lie.Signer = set[1]
	if _, err := quorum.Ordered(digest, set, []quorum.Signature{lie}); err == nil {
		t.Fatal("a signature naming another signer was taken")
	}
	if _, err := quorum.Ordered(digest, set[1:], sigs[:1]); err == nil {
		t.Fatal("a signer outside the set was taken")
	}
	high := append([]byte{}, sigs[0].Sig...)
	n := crypto.S256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(high[32:64]))
	copy(high[32:64], common.LeftPadBytes(s.Bytes(), 32))
	high[64] ^= 1 // the malleable twin: same signer, high s
	if _, err := quorum.Recover(digest, high); err == nil {
		t.Fatal("a high-s signature was taken (the contract refuses it)")
	}
}
