package chain

import (
	"context"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// Roots is a distributor's root state at one block: what the settler posts
// against and what the proof API serves proofs for.
type Roots struct {
	Epoch        uint64      // the active root's epoch (0: none yet)
	Root         common.Hash // the active root
	PendingEpoch uint64
	PendingRoot  common.Hash // zero: none
	ActivatesAt  uint64      // the pending root's, unix seconds
	Paused       bool
	Round        uint64 // the signer set's round, which votes must name
	Block        uint64 // the block read
	HeadTime     uint64 // and its time, unix seconds
}

// ReadRoots reads the roots of the distributor at addr at the latest block,
// every value at the same block.
func ReadRoots(ctx context.Context, client Backend, addr common.Address) (Roots, error) {
	d := distributor.NewRewardsDistributor()
	inst := d.Instance(client, addr)
	var c Roots
	head, err := client.HeaderByNumber(ctx, nil)
	if err != nil {
		return c, err
	}
	c.Block, c.HeadTime = head.Number.Uint64(), head.Time
	call := &bind.CallOpts{Context: ctx, BlockNumber: head.Number}
	var root, pending [32]byte
	if root, err = bind.Call(inst, call, d.PackRoot(), d.UnpackRoot); err != nil {
		return c, err
	}
	if c.Epoch, err = bind.Call(inst, call, d.PackEpoch(), d.UnpackEpoch); err != nil {
		return c, err
	}
	if pending, err = bind.Call(inst, call, d.PackPendingRoot(), d.UnpackPendingRoot); err != nil {
		return c, err
	}
	if c.PendingEpoch, err = bind.Call(inst, call, d.PackPendingEpoch(), d.UnpackPendingEpoch); err != nil {
		return c, err
	}
	if c.ActivatesAt, err = bind.Call(inst, call, d.PackPendingActivatesAt(), d.UnpackPendingActivatesAt); err != nil {
		return c, err
	}
	if c.Paused, err = bind.Call(inst, call, d.PackPaused(), d.UnpackPaused); err != nil {
		return c, err
	}
	if c.Round, err = bind.Call(inst, call, d.PackRound(), d.UnpackRound); err != nil {
		return c, err
	}
	c.Root, c.PendingRoot = common.Hash(root), common.Hash(pending)
	return c, nil
}

// Base is the root a proposal made now builds on: the pending root, which
// the proposal activates first, or else the active one.
func (r Roots) Base() common.Hash {
	if r.PendingRoot != (common.Hash{}) {
		return r.PendingRoot
	}
	return r.Root
}
