package settler

// The explorer's owner page: an owner's devices, leaves and claim.

import (
	"context"
	"math/big"
	"net/http"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"
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
	Claim *RewardProof `json:"claim"`
}

// exploreOwner serves GET /v1/explorer/owners/{address}?limit=N (epochs,
// default 24).
func (a *API) exploreOwner(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("address")
	if !common.IsHexAddress(raw) || len(raw) != 42 {
		apiError(w, http.StatusBadRequest, CodeBadAddress, "address must be 0x followed by 40 hex digits")
		return
	}
	limit, ok := limitParam(w, r, 24)
	if !ok {
		return
	}
	owner := common.HexToAddress(raw).Hex()
	out := OwnerAnswer{Owner: owner, Devices: []OwnerDevice{}, Epochs: []OwnerEpoch{}}
	var claimFail *failure
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) { out.Devices, err = a.ownerDevices(ctx, owner); return })
	g.Go(func() (err error) { out.Epochs, err = a.ownerEpochs(ctx, owner, limit); return })
	g.Go(func() error { out.Claim, claimFail = a.rewardProof(ctx, common.HexToAddress(owner)); return nil })
	if err := g.Wait(); err != nil {
		apiError(w, http.StatusInternalServerError, CodeInternal, "query failed")
		return
	}
	if len(out.Devices) > ownerDevicesMax {
		out.Devices, out.DevicesTruncated = out.Devices[:ownerDevicesMax], true
	}
	if claimFail != nil && claimFail.code != CodeNotFound {
		apiError(w, claimFail.status, claimFail.code, claimFail.msg)
		return
	}
	writeJSON(w, out)
}

// ownerDevicesMax bounds an owner's page; DevicesTruncated says it was cut.
const ownerDevicesMax = 1000

// ownerDevices are the devices the registry says owner has now (found
// through the devices table's by_owner projection), the first
// ownerDevicesMax+1 by id.
func (a *API) ownerDevices(ctx context.Context, owner string) ([]OwnerDevice, error) {
	rows, err := a.Conn.Query(ctx, `SELECT device_id, kind, active, denied FROM devices_current
		WHERE device_id IN (SELECT device_id FROM devices WHERE owner = ?) AND owner = ? ORDER BY device_id LIMIT ?`, owner, owner, ownerDevicesMax+1)
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
func (a *API) ownerEpochs(ctx context.Context, owner string, limit uint64) ([]OwnerEpoch, error) {
	rows, err := a.Conn.Query(ctx, `SELECT epoch, score, amount, cumulative FROM reward_leaves FINAL WHERE account = ? ORDER BY epoch DESC LIMIT ?`, owner, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OwnerEpoch{}
	var nums []uint64
	for rows.Next() {
		var e OwnerEpoch
		var amount, cum big.Int
		if err := rows.Scan(&e.Epoch, &e.Score, &amount, &cum); err != nil {
			return nil, err
		}
		e.Reward, e.Cumulative = amount.String(), cum.String()
		out = append(out, e)
		nums = append(nums, e.Epoch)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	states, err := a.settlementStates(ctx, nums)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Settlement = states[out[i].Epoch].status
	}
	return out, nil
}
