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
	votes, err := tables.VotesOf(r.Context(), a.Conn, epoch)
	if err != nil {
		wire.QueryFailed.Write(w)
		return
	}
	if votes == nil {
		votes = []tables.Vote{}
	}
	wire.WriteJSON(w, map[string]any{"epoch": epoch, "votes": votes})
}
