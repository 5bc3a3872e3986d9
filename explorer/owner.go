package explorer

// The explorer's owner page: an owner's devices, leaves and claim.

import (
	"context"
	"net/http"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// OwnerDevice is a device of an owner's page.
type OwnerDevice struct {
	DeviceID string `json:"deviceId"`
	Kind     string `json:"kind"`
	State    string `json:"state"`
}

// OwnerEpoch is an epoch of an owner's page: its leaf.
type OwnerEpoch struct {
	Epoch      uint64 `json:"epoch"`
	Settlement string `json:"settlement"`
	Score      uint64 `json:"score"`
	Reward     string `json:"reward"`     // this epoch, base units
	Cumulative string `json:"cumulative"` // up to and including this epoch
}

// OwnerAnswer is the body of GET /v1/explorer/owners/{address}.
type OwnerAnswer struct {
	Owner   string        `json:"owner"`
	Devices []OwnerDevice `json:"devices"` // by id, at most 1,000
	// DevicesTruncated: the owner has more than 1,000 devices.
	DevicesTruncated bool         `json:"devicesTruncated"`
	Epochs           []OwnerEpoch `json:"epochs"` // newest first
	// Claim is GET /v1/rewards/{address}'s answer (claimed, claimable now,
	// pending with when it activates, and the proof); null when neither the
	// active nor the pending root grants the owner anything.
	Claim *wire.RewardProof `json:"claim"`
}

// exploreOwner serves GET /v1/explorer/owners/{address}?limit=N (epochs,
// default 24).
func (x *Explorer) exploreOwner(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("address")
	if !common.IsHexAddress(raw) || len(raw) != 42 {
		wire.WriteError(w, http.StatusBadRequest, wire.CodeBadAddress, "address must be 0x followed by 40 hex digits")
		return
	}
	limit, ok := wire.Limit(w, r, 24)
	if !ok {
		return
	}
	owner := common.HexToAddress(raw).Hex()
	out := OwnerAnswer{Owner: owner, Devices: []OwnerDevice{}, Epochs: []OwnerEpoch{}}
	var claimFail *wire.Failure
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) { out.Devices, err = x.ownerDevices(ctx, owner); return })
	g.Go(func() (err error) { out.Epochs, err = x.ownerEpochs(ctx, owner, limit); return })
	g.Go(func() error { out.Claim, claimFail = x.API.RewardProof(ctx, common.HexToAddress(owner)); return nil })
	if err := g.Wait(); err != nil {
		wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
		return
	}
	if len(out.Devices) > ownerDevicesMax {
		out.Devices, out.DevicesTruncated = out.Devices[:ownerDevicesMax], true
	}
	if claimFail != nil && claimFail.Code != wire.CodeNotFound {
		wire.WriteError(w, claimFail.Status, claimFail.Code, claimFail.Message)
		return
	}
	wire.WriteJSON(w, out)
}

// ownerDevicesMax bounds an owner's page; DevicesTruncated says it was cut.
const ownerDevicesMax = 1000

// ownerDevices are the devices the registry says owner has now (found
// through the devices table's by_owner projection), the first
// ownerDevicesMax+1 by id.
func (x *Explorer) ownerDevices(ctx context.Context, owner string) ([]OwnerDevice, error) {
	rows, err := x.Conn.Query(ctx, sqlOwnerDevices, owner, owner, ownerDevicesMax+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OwnerDevice{}
	for rows.Next() {
		var d OwnerDevice
		var active, denied bool
		if err := rows.Scan(&d.DeviceID, &d.Kind, &active, &denied); err != nil {
			return nil, err
		}
		d.State = deviceState(active, denied)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ownerEpochs are owner's newest limit leaves, with their epochs' states.
func (x *Explorer) ownerEpochs(ctx context.Context, owner string, limit uint64) ([]OwnerEpoch, error) {
	leaves, err := tables.Leaves(ctx, x.Conn, "WHERE account = ? ORDER BY epoch DESC LIMIT ?", owner, limit)
	if err != nil {
		return nil, err
	}
	out := make([]OwnerEpoch, len(leaves))
	nums := make([]uint64, len(leaves))
	for i, l := range leaves {
		out[i] = OwnerEpoch{Epoch: l.Epoch, Score: l.Score, Reward: l.Amount.String(), Cumulative: l.Cumulative.String()}
		nums[i] = l.Epoch
	}
	states, err := x.settlementStates(ctx, nums)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Settlement = string(states[out[i].Epoch].State)
	}
	return out, nil
}
