// Package wire is the proof API's wire format: the JSON bodies of
// /v1/rewards and /v1/epochs, the error body and its codes. Claimers'
// clients (settler/claim) import it alone: it links no ClickHouse driver,
// no chain client and no web assets.
package wire

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error codes, in the error body's "code". docs/api.md lists them; a test
// holds the two together.
const (
	CodeBadAddress = "BAD_ADDRESS"
	CodeBadEpoch   = "BAD_EPOCH"
	CodeNotFound   = "NOT_FOUND"
	CodeInternal   = "INTERNAL"
	CodeBadLimit   = "BAD_LIMIT"
	// CodeChainUnavailable: the chain could not be read (502; retry).
	CodeChainUnavailable = "CHAIN_UNAVAILABLE"
	// CodeRootUnknown: the chain's active root is not one this API's
	// ClickHouse holds a tree of (503: its database is behind, or another
	// settler posted it).
	CodeRootUnknown = "ROOT_UNKNOWN"
	// The explorer's (docs/explorer.md).
	CodeBadCell       = "BAD_CELL"
	CodeBadResolution = "BAD_RESOLUTION"
	CodeBadBBox       = "BAD_BBOX"
	CodeBadDevice     = "BAD_DEVICE"
)

// Error is the body of every error answer.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RewardProof is the body of GET /v1/rewards/{address}: the proof against
// the root the distributor checks claims against right now.
type RewardProof struct {
	Account          string   `json:"account"`
	Epoch            uint64   `json:"epoch"` // the active root's epoch
	Root             string   `json:"root"`  // the active root
	CumulativeAmount string   `json:"cumulativeAmount"`
	Proof            []string `json:"proof"`
	Distributor      string   `json:"distributor"`
	ChainID          string   `json:"chainId"`
	// Claimed is what the distributor has paid the account so far, and
	// Claimable what a claim with this proof pays now (base units).
	Claimed   string `json:"claimed"`
	Claimable string `json:"claimable"`
	// ClaimCalldata is claim(account, cumulativeAmount, proof) encoded for
	// the distributor: what a wallet sends. Empty when nothing is granted.
	ClaimCalldata string `json:"claimCalldata"`
	// Block is the block whose state this answer reflects.
	Block uint64 `json:"block"`
	// Paused: the guardian has paused claims.
	Paused bool `json:"paused,omitempty"`
	// Pending is the proposed root still in its timelock, if it grants the
	// account anything.
	Pending *PendingGrant `json:"pending,omitempty"`
}

// PendingGrant is what the pending root will make claimable.
type PendingGrant struct {
	Epoch            uint64 `json:"epoch"`
	Root             string `json:"root"`
	CumulativeAmount string `json:"cumulativeAmount"`
	// Claimable is what a claim will pay once the root is active (its
	// cumulative amount minus what was claimed), and More how much more
	// that is than what is claimable now.
	Claimable string `json:"claimable"`
	More      string `json:"more"`
	// ActivatesAt is when the timelock ends (RFC 3339, UTC, and Unix
	// seconds); the root may then be activated by anyone.
	ActivatesAt     string `json:"activatesAt"`
	ActivatesAtUnix uint64 `json:"activatesAtUnix"`
}

// EpochSummary is an element of GET /v1/epochs and the body of
// GET /v1/epochs/{epoch}.
type EpochSummary struct {
	Epoch     uint64 `json:"epoch"`
	Root      string `json:"root"`
	Total     string `json:"total"`    // cumulative total of the tree, base units
	Emission  string `json:"emission"` // paid out by this epoch, base units
	Accounts  uint32 `json:"accounts"`
	Status    string `json:"status"`           // computed, awaiting_quorum, superseded, proposed, active, final, revoked, parked, outvoted
	Reason    string `json:"reason,omitempty"` // why, for revoked, parked and superseded
	Tx        string `json:"tx,omitempty"`
	Block     uint64 `json:"block,omitempty"`
	UpdatedAt string `json:"updatedAt"`
}

// DeviceScore is an element of GET /v1/epochs/{epoch}/scores: a device's
// score in the epoch and the factors that made it (docs/scoring.md).
type DeviceScore struct {
	DeviceID string `json:"deviceId"`
	Owner    string `json:"owner"`
	Kind     string `json:"kind"`
	Readings uint64 `json:"readings"`
	Uptime   uint64 `json:"uptime"`
	Quality  uint64 `json:"quality"`
	Trust    uint64 `json:"trust"`
	Weight   uint64 `json:"weight"`
	Sharing  uint64 `json:"sharing"`
	Crowding uint64 `json:"crowding"`
	Frauds   uint64 `json:"frauds"`
	Evidence string `json:"evidence,omitempty"`
	Score    uint64 `json:"score"`
}

// Vote is an element of GET /v1/votes: one signer's EIP-712 vote for an
// epoch's root, as the operator's settler read it from the votes topic.
type Vote struct {
	Epoch     uint64 `json:"epoch"`
	Round     uint64 `json:"round"`
	Signer    string `json:"signer"`
	Root      string `json:"root"`
	Total     string `json:"total"`
	PrevRoot  string `json:"prevRoot"`
	Inputs    string `json:"inputs"`
	Rules     uint32 `json:"rules"`
	Signature string `json:"signature"`
	TreeHash  string `json:"treeHash"` // keccak256 of the signer's tree dump (GET /v1/epochs/{epoch}/tree)
}

// Failure is an error to answer with.
type Failure struct {
	Status        int
	Code, Message string
}

// Write answers f.
func (f *Failure) Write(w http.ResponseWriter) { WriteError(w, f.Status, f.Code, f.Message) }

// QueryFailed is the answer to a database error (its text is logged, never
// sent).
var QueryFailed = &Failure{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "query failed"}

// WriteError answers status with an Error body.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Error{Code: code, Message: msg})
}

// WriteJSON answers 200 with v.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Limit reads ?limit= (1 to 1000, def when absent); on a bad one it answers
// 400 BAD_LIMIT and returns false.
func Limit(w http.ResponseWriter, r *http.Request, def uint64) (uint64, bool) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, true
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || n == 0 || n > 1000 {
		WriteError(w, http.StatusBadRequest, CodeBadLimit, "limit must be an integer from 1 to 1000")
		return 0, false
	}
	return n, true
}
