package api

import (
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
)

// proofAnswer is an account's answer from GET /v1/rewards/{address}, before
// it is written: wire turns it into wire.RewardProof (the explorer embeds
// that), appendJSON writes that struct's JSON straight from the hashes and
// amounts. Written by hand: encoding the struct by reflection, and the hex
// strings made for it, were a third of the API's CPU per proof after the
// node calls were gone (docs/performance.md); TestAnswerJSON holds the two
// to the same bytes.
type proofAnswer struct {
	account    common.Address
	accountHex []byte // account's checksummed address (from the index)
	roots      chain.Roots
	claimed    *big.Int
	cumulative *big.Int      // the active root's grant; nil when none
	proof      []common.Hash // its proof
	pending    *big.Int      // the pending root's grant; nil when none
}

// claimable is what a claim pays with a grant of cum, given what was claimed.
func (p *proofAnswer) claimable(cum *big.Int) *big.Int {
	return positive(new(big.Int).Sub(cum, p.claimed))
}

func (p *proofAnswer) wire(distributor common.Address, chainID *big.Int) *wire.RewardProof {
	st := p.roots
	out := &wire.RewardProof{Account: p.account.Hex(), Epoch: st.Epoch, Root: st.Root.Hex(), CumulativeAmount: "0", Proof: []string{},
		Distributor: distributor.Hex(), ChainID: chainID.String(), Claimed: p.claimed.String(), Claimable: "0", Block: st.Block, Paused: st.Paused}
	cum := new(big.Int)
	if p.cumulative != nil {
		cum = p.cumulative
		out.CumulativeAmount, out.Proof = cum.String(), make([]string, len(p.proof))
		for i, h := range p.proof {
			out.Proof[i] = h.Hex()
		}
		out.Claimable = p.claimable(cum).String()
		out.ClaimCalldata = hexutil.Encode(claimCalldata(p.account, cum, p.proof))
	}
	if p.pending != nil {
		out.Pending = &wire.PendingGrant{Epoch: st.PendingEpoch, Root: st.PendingRoot.Hex(), CumulativeAmount: p.pending.String(),
			Claimable: p.claimable(p.pending).String(), More: positive(new(big.Int).Sub(p.pending, bigMax(cum, p.claimed))).String(),
			ActivatesAt: time.Unix(int64(st.ActivatesAt), 0).UTC().Format(time.RFC3339), ActivatesAtUnix: st.ActivatesAt}
	}
	return out
}

// answerBuffers are the JSON answers' buffers, reused.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// appendJSON appends the JSON encoding/json makes of wire(distributor,
// chainID), and its newline (distributor as distributor.Hex() writes it).
// Every string in it is hex, a decimal number or an RFC 3339 time: nothing
// to escape.
func (p *proofAnswer) appendJSON(b []byte, distributor string, chainID *big.Int) []byte {
	st := p.roots
	cum := p.cumulative
	if cum == nil {
		cum = new(big.Int)
	}
	b = append(b, `{"account":"`...)
	if p.accountHex != nil {
		b = append(b, p.accountHex...)
	} else {
		b = append(b, p.account.Hex()...)
	}
	b = append(b, `","epoch":`...)
	b = strconv.AppendUint(b, st.Epoch, 10)
	b = appendHex(append(b, `,"root":"`...), st.Root[:])
	b = cum.Append(append(b, `","cumulativeAmount":"`...), 10)
	b = append(b, `","proof":[`...)
	for i, h := range p.proof {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendHex(append(b, '"'), h[:]), '"')
	}
	b = append(b, `],"distributor":"`...)
	b = append(b, distributor...)
	b = chainID.Append(append(b, `","chainId":"`...), 10)
	b = p.claimed.Append(append(b, `","claimed":"`...), 10)
	b = append(b, `","claimable":"`...)
	if p.cumulative != nil {
		b = p.claimable(cum).Append(b, 10)
		b = appendCalldataHex(append(b, `","claimCalldata":"`...), p.account, cum, p.proof)
	} else {
		b = append(b, `0","claimCalldata":"`...)
	}
	b = strconv.AppendUint(append(b, `","block":`...), st.Block, 10)
	if st.Paused {
		b = append(b, `,"paused":true`...)
	}
	if p.pending != nil {
		b = strconv.AppendUint(append(b, `,"pending":{"epoch":`...), st.PendingEpoch, 10)
		b = appendHex(append(b, `,"root":"`...), st.PendingRoot[:])
		b = p.pending.Append(append(b, `","cumulativeAmount":"`...), 10)
		b = p.claimable(p.pending).Append(append(b, `","claimable":"`...), 10)
		b = positive(new(big.Int).Sub(p.pending, bigMax(cum, p.claimed))).Append(append(b, `","more":"`...), 10)
		b = time.Unix(int64(st.ActivatesAt), 0).UTC().AppendFormat(append(b, `","activatesAt":"`...), time.RFC3339)
		b = strconv.AppendUint(append(b, `","activatesAtUnix":`...), st.ActivatesAt, 10)
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

// appendCalldataHex appends claimCalldata(account, cumulative, proof) as
// hexutil.Encode writes it, word by word, without making the calldata.
func appendCalldataHex(b []byte, account common.Address, cumulative *big.Int, proof []common.Hash) []byte {
	var word [32]byte
	b = hex.AppendEncode(append(b, "0x"...), claimSelector)
	clear(word[:12])
	copy(word[12:], account[:])
	b = hex.AppendEncode(b, word[:])
	cumulative.FillBytes(word[:])
	b = hex.AppendEncode(b, word[:])
	clear(word[:])
	word[31] = 0x60 // the array's offset: after the three head words
	b = hex.AppendEncode(b, word[:])
	binary.BigEndian.PutUint64(word[24:], uint64(len(proof)))
	b = hex.AppendEncode(b, word[:])
	for _, h := range proof {
		b = hex.AppendEncode(b, h[:])
	}
	return b
}

// appendHex appends 0x and v in lowercase hex.
func appendHex(b, v []byte) []byte {
	return hex.AppendEncode(append(b, "0x"...), v)
}
