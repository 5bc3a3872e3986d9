package explorer

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/api/wire"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// The explorer's device and owner answers (explorer.go has the rest). They
// span epochs and the chain's state, so they are not cached; each reads by
// the tables' keys (device_scores, epoch_rejections and reward_leaves by
// epoch then device or account, readings by kind then device).

// DeviceInfo is the registry's record of a device, as devices_current has it.
type DeviceInfo struct {
	DeviceID string `json:"deviceId"`
	Kind     string `json:"kind"`
	Owner    string `json:"owner"`
	// Asserted location, 1e-7 degrees.
	LatE7 int32 `json:"latE7"`
	LonE7 int32 `json:"lonE7"`
	// State: active, deactivated (by its owner) or denylisted (by an admin:
	// DeniedReason and DeniedBy, the admin whose signature the registry checked).
	State        string `json:"state"`
	DeniedReason string `json:"deniedReason,omitempty"`
	DeniedBy     string `json:"deniedBy,omitempty"`
	MakerID      string `json:"makerId"`
	RegisteredAt string `json:"registeredAt"`
	LastChange   string `json:"lastChange"`
}

// ScoreParts is a device's device_scores row: every part of the formula in
// docs/scoring.md (multipliers in basis points).
type ScoreParts struct {
	Uptime    uint64 `json:"uptime"`
	Weight    uint64 `json:"weight"`
	Complete  uint64 `json:"complete"`
	Moving    uint64 `json:"moving"`
	Quality   uint64 `json:"quality"`
	DriftM    uint64 `json:"driftM"`
	Trust     uint64 `json:"trust"`
	Witnessed uint64 `json:"witnessed"`
	Delivered uint64 `json:"delivered"`
	Cell      string `json:"cell"`
	Sharing   uint64 `json:"sharing"`
	Area      string `json:"area"`
	Occupied  uint64 `json:"occupied"`
	Crowding  uint64 `json:"crowding"`
	Frauds    uint64 `json:"frauds"`
	// Evidence is the information check that stopped the device's pay in
	// the epoch (its finding is in the epoch's Findings), or "".
	Evidence string `json:"evidence"`
	Score    uint64 `json:"score"`
}

// partsOf is d as the explorer shows it: cells in hex, as the map has them.
func partsOf(d tables.DeviceScore) ScoreParts {
	return ScoreParts{Uptime: d.Uptime, Weight: d.Weight, Complete: d.Complete, Moving: d.Moving, Quality: d.Quality, DriftM: d.DriftM,
		Trust: d.Trust, Witnessed: d.Witnessed, Delivered: d.Delivered, Cell: strconv.FormatUint(d.Cell, 16), Sharing: d.Sharing,
		Area: strconv.FormatUint(d.Area, 16), Occupied: d.Occupied, Crowding: d.Crowding, Frauds: d.Frauds, Evidence: d.Evidence, Score: d.Score}
}

// DeviceEpoch is one epoch of a device's page.
type DeviceEpoch struct {
	Epoch    uint64            `json:"epoch"`
	Owner    string            `json:"owner"` // who the epoch's score counts for
	Valid    uint64            `json:"valid"`
	Rejected map[string]uint64 `json:"rejected"` // rejected readings by reason
	// TrustedBy counts the valid readings that carried no signature of the
	// device, by the LoRaWAN network server that vouched for them (the rest
	// of Valid the device signed).
	TrustedBy map[string]uint64 `json:"trustedBy"`
	// Parts is nil while the epoch is not scored (or the device had no
	// valid reading in it).
	Parts *ScoreParts `json:"parts"`
	// Settlement is the epoch's settlement state ("" before it is computed);
	// Reward the device's part of its owner's reward for the epoch:
	// ownerReward * score / ownerScore, rounded down (base units).
	// Findings: the information checks' evidence about the device in the
	// epoch, flagged or not.
	Findings    []Finding `json:"findings"`
	Settlement  string    `json:"settlement"`
	Reward      string    `json:"reward"`
	OwnerReward string    `json:"ownerReward"`
	OwnerScore  uint64    `json:"ownerScore"`
}

// DeviceAnswer is the body of GET /v1/explorer/devices/{id}.
type DeviceAnswer struct {
	Device  DeviceInfo    `json:"device"`
	Formula string        `json:"formula"` // where the formula is written
	Epochs  []DeviceEpoch `json:"epochs"`  // newest first
	// The newest rejected readings, with their evidence.
	Rejections []RejectedReading `json:"rejections"`
}

func badDevice(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !pb.ValidID(id) {
		wire.WriteError(w, http.StatusBadRequest, wire.CodeBadDevice, "device id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
		return "", true
	}
	return id, false
}

// exploreDevice serves GET /v1/explorer/devices/{id}?limit=N: the device and
// its newest N epochs (default 24, at most 1000).
func (x *Explorer) exploreDevice(w http.ResponseWriter, r *http.Request) {
	id, bad := badDevice(w, r)
	if bad {
		return
	}
	limit, ok := wire.Limit(w, r, 24)
	if !ok {
		return
	}
	// The registry's record and the device's epochs are read at once, then
	// the rewards and the evidence (which need the owners and the kind).
	var info DeviceInfo
	var found bool
	var epochs []DeviceEpoch
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) { info, found, err = x.deviceInfo(ctx, id); return })
	g.Go(func() (err error) { epochs, err = x.deviceEpochs(ctx, id, limit); return })
	if err := g.Wait(); err != nil {
		wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
		return
	}
	if !found {
		wire.WriteError(w, http.StatusNotFound, wire.CodeNotFound, "device "+strconv.Quote(id)+" is not registered")
		return
	}
	out := DeviceAnswer{Device: info, Formula: "docs/scoring.md", Epochs: epochs}
	g, ctx = errgroup.WithContext(r.Context())
	g.Go(func() error { return x.deviceRewards(ctx, out.Epochs) })
	g.Go(func() error { return x.trustedReadings(ctx, info.Kind, id, out.Epochs) })
	g.Go(func() (err error) { out.Rejections, err = x.rejectedReadings(ctx, info.Kind, id, nil, "", 20); return })
	if err := g.Wait(); err != nil {
		wire.WriteError(w, http.StatusInternalServerError, wire.CodeInternal, "query failed")
		return
	}
	wire.WriteJSON(w, out)
}

func (x *Explorer) deviceInfo(ctx context.Context, id string) (DeviceInfo, bool, error) {
	d := DeviceInfo{DeviceID: id}
	var active, denied bool
	var registered, changed time.Time
	err := x.Conn.QueryRow(ctx, sqlDeviceInfo, id).Scan(&d.Kind, &d.Owner, &d.LatE7, &d.LonE7, &active, &denied, &d.DeniedReason, &d.DeniedBy, &d.MakerID, &registered, &changed)
	if isNoRows(err) {
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	d.State = deviceState(active, denied)
	d.RegisteredAt, d.LastChange = registered.UTC().Format(time.RFC3339Nano), changed.UTC().Format(time.RFC3339Nano)
	return d, true, nil
}

// deviceState names a device's state as the pages show it.
func deviceState(active, denied bool) string {
	switch {
	case denied:
		return "denylisted"
	case active:
		return "active"
	default:
		return "deactivated"
	}
}

// deviceEpochs reads the device's newest limit epochs: those it was scored
// in or had readings rejected in.
func (x *Explorer) deviceEpochs(ctx context.Context, id string, limit uint64) ([]DeviceEpoch, error) {
	byEpoch := map[uint64]*DeviceEpoch{}
	get := func(e uint64) *DeviceEpoch {
		if byEpoch[e] == nil {
			byEpoch[e] = &DeviceEpoch{Epoch: e, Rejected: map[string]uint64{}}
		}
		return byEpoch[e]
	}
	type scored struct {
		epoch, valid uint64
		owner        string
		parts        ScoreParts
	}
	type rejected struct {
		epoch, n      uint64
		reason, owner string
	}
	var scores []scored
	var rejections []rejected
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		rows, err := tables.DeviceScores(gctx, x.Conn, "WHERE device_id = ? ORDER BY epoch DESC LIMIT ?", id, limit)
		for _, d := range rows {
			scores = append(scores, scored{epoch: d.Epoch, valid: d.Readings, owner: d.Owner, parts: partsOf(d)})
		}
		return err
	})
	g.Go(func() error {
		rows, err := x.Conn.Query(gctx, sqlDeviceRejections, id, id, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x rejected
			if err := rows.Scan(&x.epoch, &x.reason, &x.n, &x.owner); err != nil {
				return err
			}
			rejections = append(rejections, x)
		}
		return rows.Err()
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, x := range scores {
		e := get(x.epoch)
		e.Owner, e.Valid, e.Parts = checksummed(x.owner), x.valid, &x.parts
	}
	for _, x := range rejections {
		e := get(x.epoch)
		e.Rejected[x.reason] = x.n
		if e.Owner == "" {
			e.Owner = checksummed(x.owner)
		}
	}
	epochs := slices.Sorted(func(yield func(uint64) bool) {
		for e := range byEpoch {
			if !yield(e) {
				return
			}
		}
	})
	slices.Reverse(epochs)
	if uint64(len(epochs)) > limit {
		epochs = epochs[:limit]
	}
	findings, err := x.findings(ctx, id, epochs)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceEpoch, len(epochs))
	for i, e := range epochs {
		out[i] = *byEpoch[e]
		out[i].Findings = findings[e]
		if out[i].Findings == nil {
			out[i].Findings = []Finding{}
		}
	}
	return out, nil
}

// trustedReadings fills in each epoch's readings that a network server
// vouched for.
func (x *Explorer) trustedReadings(ctx context.Context, kind, id string, epochs []DeviceEpoch) error {
	nums := make([]uint64, len(epochs))
	at := map[uint64]*DeviceEpoch{}
	for i := range epochs {
		nums[i], epochs[i].TrustedBy = epochs[i].Epoch, map[string]uint64{}
		at[epochs[i].Epoch] = &epochs[i]
	}
	if len(nums) == 0 {
		return nil
	}
	rows, err := x.Conn.Query(ctx, sqlTrustedReadings, kind, id, nums)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var epoch, n uint64
		var ns string
		if err := rows.Scan(&epoch, &ns, &n); err != nil {
			return err
		}
		if e := at[epoch]; e != nil {
			e.TrustedBy[ns] = n
		}
	}
	return rows.Err()
}

// deviceRewards fills in each epoch's settlement and the device's part of
// its owner's reward, from the owners' leaves.
func (x *Explorer) deviceRewards(ctx context.Context, epochs []DeviceEpoch) error {
	if len(epochs) == 0 {
		return nil
	}
	nums := make([]uint64, len(epochs))
	var owners []string
	for i, e := range epochs {
		nums[i] = e.Epoch
		if !slices.Contains(owners, e.Owner) {
			owners = append(owners, e.Owner)
		}
	}
	states, err := x.settlementStates(ctx, nums)
	if err != nil {
		return err
	}
	type key struct {
		epoch uint64
		owner string
	}
	leaves := map[key]tables.RewardLeaf{}
	// By the table's key (epoch, account): the pairs wanted are among these.
	read, err := tables.Leaves(ctx, x.Conn, "WHERE epoch IN ? AND account IN ?", nums, owners)
	if err != nil {
		return err
	}
	for _, l := range read {
		leaves[key{l.Epoch, l.Account.Hex()}] = l
	}
	for i := range epochs {
		e := &epochs[i]
		e.Settlement = string(states[e.Epoch].State)
		if e.Settlement == "" || e.Parts == nil {
			continue
		}
		e.Reward, e.OwnerReward = "0", "0"
		if l, ok := leaves[key{e.Epoch, e.Owner}]; ok {
			e.OwnerReward, e.OwnerScore = l.Amount.String(), l.Score
			if r := share(l.Amount, e.Parts.Score, l.Score); r != "" {
				e.Reward = r
			}
		}
	}
	return nil
}

// checksummed writes an owner address as the settler's leaves have it
// (EIP-55); an owner that is no address is left as it is (it is never paid).
func checksummed(owner string) string {
	if common.IsHexAddress(owner) {
		return common.HexToAddress(owner).Hex()
	}
	return owner
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
