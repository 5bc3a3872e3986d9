package api

import (
	"net/http"
	"strconv"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// votes serves GET /v1/votes?epoch=N: the signers' votes for the epoch's
// root that this operator's settler read from the votes topic, by round and
// signer, each with its EIP-712 signature, so that anyone can check them
// against the distributor (voteDigest) or submit a quorum themselves.
func (a *Server) votes(w http.ResponseWriter, r *http.Request) {
	epoch, err := strconv.ParseUint(r.URL.Query().Get("epoch"), 10, 64)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, wire.CodeBadEpoch, "epoch must be given as ?epoch=N, a non-negative integer")
		return
	}
	rows, err := tables.VotesOf(r.Context(), a.Conn, epoch)
	if err != nil {
		wire.QueryFailed.Write(w)
		return
	}
	out := make([]wire.Vote, len(rows))
	for i, v := range rows {
		out[i] = wire.Vote{Epoch: v.Epoch, Round: v.Round, Signer: v.Signer, Root: v.Root, Total: v.Total.String(), PrevRoot: v.PrevRoot,
			Inputs: v.Inputs, Rules: v.Rules, Signature: v.Signature, TreeHash: v.TreeHash}
	}
	wire.WriteJSON(w, map[string]any{"epoch": epoch, "votes": out})
}

// scores serves GET /v1/epochs/{epoch}/scores: the epoch's device scores as
// this operator computed them, by device, so that two operators' can be
// compared device by device (fieldmint verify-votes).
func (a *Server) scores(w http.ResponseWriter, r *http.Request) {
	epoch, err := strconv.ParseUint(r.PathValue("epoch"), 10, 64)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, wire.CodeBadEpoch, "epoch must be a non-negative integer")
		return
	}
	rows, err := tables.DeviceScores(r.Context(), a.Conn, "WHERE epoch = ? ORDER BY device_id", epoch)
	if err != nil {
		wire.QueryFailed.Write(w)
		return
	}
	out := make([]wire.DeviceScore, len(rows))
	for i, d := range rows {
		out[i] = wire.DeviceScore{DeviceID: d.DeviceID, Owner: d.Owner, Kind: d.Kind, Readings: d.Readings, Uptime: d.Uptime, Quality: d.Quality,
			Trust: d.Trust, Weight: d.Weight, Sharing: d.Sharing, Crowding: d.Crowding, Frauds: d.Frauds, Evidence: d.Evidence, Score: d.Score}
	}
	wire.WriteJSON(w, map[string]any{"epoch": epoch, "scores": out})
}
