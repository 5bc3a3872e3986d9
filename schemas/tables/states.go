package tables

import (
	"slices"
	"strings"
)

// State is where an epoch's settlement stands (settlement_states.state,
// settlements_latest.status). The settler writes states; the chain's events
// decide every state after computed.
type State string

const (
	// Computed: leaves and tree stored, the root not (or no longer) on chain.
	Computed State = "computed"
	// AwaitingQuorum: this settler signed its vote for the root, and fewer
	// than the distributor's threshold of signers agree with it yet.
	AwaitingQuorum State = "awaiting_quorum"
	// Superseded: never proposed on its own; a later epoch's root, whose
	// cumulative amounts include this epoch's, was proposed instead.
	Superseded State = "superseded"
	// Proposed: RootProposed seen; the root waits its timelock.
	Proposed State = "proposed"
	// Active: RootActivated seen; the root is (or was) claimable.
	Active State = "active"
	// Final: active, and its activation is settle.confirmations blocks deep.
	Final State = "final"
	// Revoked: the guardian revoked the pending root (RootRevoked), or an
	// operator's resume dropped the epoch. Its grants are never built on.
	Revoked State = "revoked"
	// Parked: the contract refuses the root for good, or the chain lost a
	// root it had made final; reason says which. Settlement waits for an
	// operator.
	Parked State = "parked"
	// Outvoted: the signers' quorum put another root on chain for an epoch
	// this settler computed; it holds settlement like parked until an
	// operator resumes it (verify-votes shows where the roots differ).
	Outvoted State = "outvoted"
)

// States are every state, in the order an epoch moves through them.
var States = []State{Computed, AwaitingQuorum, Superseded, Proposed, Active, Final, Revoked, Parked, Outvoted}

// ChainOfRecord reports whether an epoch in state s is part of the chain of
// cumulative totals that later epochs build on.
func (s State) ChainOfRecord() bool { return !s.Holds() }

// Holds reports whether the state stops settlement until an operator resumes.
func (s State) Holds() bool { return Holding.Has(s) }

// StateSet is a set of states, written into SQL as a tuple literal.
type StateSet []State

var (
	// Posted are the states of an epoch whose emission reached the chain
	// (in its own root or a later one's).
	Posted = StateSet{Superseded, Proposed, Active, Final}
	// Holding are the states that stop settlement.
	Holding = StateSet{Revoked, Parked, Outvoted}
	// Votable are the states of an epoch whose root the settler may still
	// sign and propose.
	Votable = StateSet{Computed, AwaitingQuorum}
	// Progress are the states the settler's epoch gauge reports.
	Progress = StateSet{Computed, AwaitingQuorum, Proposed, Active, Final}
)

// SQL returns the set as a tuple for IN: ('a', 'b'). States are constants
// of this package, never input, so they are written literally.
func (ss StateSet) SQL() string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + string(s) + "'"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// Has reports whether s is in the set.
func (ss StateSet) Has(s State) bool { return slices.Contains(ss, s) }
