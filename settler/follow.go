package settler

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"go.opentelemetry.io/otel/metric"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// heldGauge is 1 while a revoked or parked epoch stops settlement.
var heldGauge, _ = telemetry.Meter().Int64Gauge("fieldmint.settler.held",
	metric.WithDescription("1 while a revoked or parked epoch stops settlement until an operator resumes it, else 0"))

// chainState derives the state of (epoch, root) from the epoch's root events
// in chain order: the last event for that root decides. other is set when
// another root of the same epoch is proposed or active on chain.
func chainState(evs []rootEvent, root common.Hash, head, confirmations uint64) (state tables.State, tx common.Hash, block uint64, other *common.Hash) {
	otherState := map[common.Hash]string{}
	for _, e := range evs {
		if e.root != root {
			otherState[e.root] = e.event
			continue
		}
		switch e.event {
		case EventRootProposed:
			state, tx, block = tables.Proposed, e.tx, e.block
		case EventRootActivated:
			state, tx, block = tables.Active, e.tx, e.block
			if head >= e.block && head-e.block+1 >= confirmations {
				state = tables.Final
			}
		case EventRootRevoked:
			state, tx, block = tables.Revoked, e.tx, e.block
		}
	}
	for r, last := range otherState {
		if last != EventRootRevoked {
			return state, tx, block, &r
		}
	}
	return state, tx, block, nil
}

// reconcile brings every open settlement's state in line with the indexed
// events; it is the one place that writes a state after computed.
func (s *Service) reconcile(ctx context.Context, head uint64) error {
	newest, err := tables.NewestIn(ctx, s.conn, tables.StateSet{tables.Final})
	if err != nil {
		return fmt.Errorf("settle: read final epochs: %w", err)
	}
	lastFinal := newest[tables.Final]
	sets, err := s.st.settlements(ctx, lastFinal)
	if err != nil {
		return err
	}
	events, err := s.idx.rootEvents(ctx, lastFinal)
	if err != nil {
		return err
	}
	resumeEpoch, resumeBlock, err := s.st.lastResume(ctx)
	if err != nil {
		return err
	}
	byEpoch := map[uint64][]rootEvent{}
	for _, e := range events {
		if e.epoch >= resumeEpoch && e.block <= resumeBlock && resumeBlock > 0 {
			continue // history of an epoch the operator recomputed after it
		}
		byEpoch[e.epoch] = append(byEpoch[e.epoch], e)
	}
	// Each settlement's state by the chain, and the newest epoch whose root
	// is on chain: computed epochs below it were included in it.
	type onChainState struct {
		state tables.State
		tx    common.Hash
		block uint64
		other *common.Hash
	}
	derived := make([]onChainState, len(sets))
	var onChainAbove uint64
	for i, st := range sets {
		d := &derived[i]
		d.state, d.tx, d.block, d.other = chainState(byEpoch[st.Epoch], st.Root, head, s.cfg.Confirmations)
		if d.state == tables.Proposed || d.state == tables.Active || d.state == tables.Final {
			onChainAbove = max(onChainAbove, st.Epoch)
		}
	}
	for i, st := range sets {
		if st.State.Holds() {
			continue // until an operator resumes
		}
		state, tx, block, other := derived[i].state, derived[i].tx, derived[i].block, derived[i].other
		reason := ""
		switch {
		case other != nil && s.v.threshold > 1:
			state, tx, block = tables.Outvoted, common.Hash{}, 0
			reason = fmt.Sprintf("outvoted: the signers' quorum put root %s on chain for epoch %d, and this settler computed %s (fieldmint verify-votes %d shows where they differ)", other.Hex(), st.Epoch, st.Root.Hex(), st.Epoch)
		case other != nil:
			state, tx, block = tables.Parked, common.Hash{}, 0
			reason = fmt.Sprintf("the chain has root %s for epoch %d, which this settler did not compute (it computed %s): is the poster key used elsewhere?", other.Hex(), st.Epoch, st.Root.Hex())
		case state == tables.Revoked:
			reason = "the guardian revoked the pending root"
		case state != "":
		case st.State == tables.Proposed || st.State == tables.Active:
			state, reason = tables.Computed, "its proposal was undone by a reorg; it will be proposed again"
		case st.State == tables.Final:
			state = tables.Parked
			reason = fmt.Sprintf("epoch %d's root was final but the chain no longer has it: was the chain reset or replaced?", st.Epoch)
		case tables.Votable.Has(st.State) && st.Epoch < onChainAbove:
			state = tables.Superseded
			reason = fmt.Sprintf("included in epoch %d's root", onChainAbove)
		default:
			state = st.State
		}
		if state == st.State && tx == st.Tx {
			continue
		}
		if err := s.st.setState(ctx, st, state, reason, tx, block); err != nil {
			return err
		}
		log := s.log.Info
		if state.Holds() || reason != "" && state == tables.Computed {
			log = s.log.Error
		}
		log("settle: epoch "+string(state), "epoch", st.Epoch, "root", st.Root.Hex(), "tx", tx.Hex(), "block", block, "reason", reason)
		s.emit(st, state, reason, tx, block)
	}
	return nil
}

// computeClosed computes, in order, every scored epoch (closed, and its
// scores released after the hold) after the newest one settled (or resumed
// from) that the schedule pays.
func (s *Service) computeClosed(ctx context.Context) error {
	var resumed uint64
	last, err := tables.NewestSettled(ctx, s.conn)
	if err != nil {
		return fmt.Errorf("settle: read settled epochs: %w", err)
	}
	if err := s.conn.QueryRow(ctx, sqlNewestResume).Scan(&resumed); err != nil {
		return fmt.Errorf("settle: read resumes: %w", err)
	}
	from := max(last+1, resumed, s.firstEpoch)
	rows, err := s.conn.Query(ctx, sqlScoredFrom, from)
	if err != nil {
		return fmt.Errorf("settle: read closed epochs: %w", err)
	}
	type closed struct {
		epoch      uint64
		start, end time.Time
	}
	var todo []closed
	for rows.Next() {
		var c closed
		if err := rows.Scan(&c.epoch, &c.start, &c.end); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("settle: read closed epochs: %w", err)
	}
	for _, e := range todo {
		c, err := computeEpoch(ctx, s.conn, s.emission, e.epoch, s.log)
		if err != nil {
			return fmt.Errorf("settle: compute epoch %d: %w", e.epoch, err)
		}
		if c == nil {
			s.log.Info("settle: epoch has no scores, nothing to pay", "epoch", e.epoch)
			continue
		}
		if err := storeComputed(ctx, s.st, c, s.emission, 0); err != nil {
			return err
		}
		out := Settled{Epoch: e.epoch, State: tables.Computed, Emission: s.emission, Accounts: len(c.leaves), Root: c.tree.Root()}
		if out.Accepted, out.Rejected, err = s.counts(ctx, e.epoch, e.start, e.end); err != nil {
			return err
		}
		if out.Stopped, err = s.stopped(ctx, e.epoch); err != nil {
			return err
		}
		s.log.Info("settle: epoch computed", "epoch", e.epoch, "root", out.Root.Hex(), "accounts", out.Accounts)
		if s.OnSettled != nil {
			s.OnSettled(out)
		}
	}
	return nil
}

// post proposes the newest computed root the distributor does not have yet
// (which activates a due pending root in the same transaction), or, with
// nothing to propose, activates a due pending root. Epochs computed while a
// root waited are not proposed one by one: the newest root carries their
// amounts, so a timelock longer than an epoch never builds a backlog.
func (s *Service) post(ctx context.Context) (sent bool, err error) {
	c, err := chain.ReadRoots(ctx, s.client, s.distributor())
	if err != nil {
		return false, fmt.Errorf("settle: read the distributor: %w", err)
	}
	pending := c.PendingRoot != (common.Hash{})
	if pending && c.HeadTime < c.ActivatesAt {
		return false, nil // the pending root blocks proposals until its timelock passes
	}
	s.v.split = false // until propose reads the ballots of the epoch it votes on
	through, err := s.cutReadyThrough(ctx)
	if err != nil {
		return false, err
	}
	target, found, err := tables.NewestComputed(ctx, s.conn, max(c.Epoch, c.PendingEpoch), through)
	if err != nil {
		return false, err
	}
	switch {
	case found:
		return s.propose(ctx, c, target)
	case pending:
		if c.HeadTime < c.ActivatesAt+s.activationTurn(c) {
			return false, nil // another signer's turn to activate it first
		}
		receipt, err := chain.SendReplacing(ctx, s.client, s.key, s.distributor(), s.d.PackActivateRoot(), s.sendOptions())
		if err != nil {
			if reason, _ := s.revertReason(err); reason == "NoPendingRoot" {
				return false, nil // someone else activated it
			}
			if now, rerr := chain.ReadRoots(ctx, s.client, s.distributor()); rerr == nil && now.PendingRoot != c.PendingRoot {
				return false, nil // another settler's activation landed first: success
			}
			return false, fmt.Errorf("settle: activate the root of epoch %d: %w", c.PendingEpoch, err)
		}
		s.log.Info("settle: pending root activated", "epoch", c.PendingEpoch, "tx", receipt.TxHash.Hex())
		return true, nil
	}
	return false, nil
}

// permanentReverts are the distributor's errors that no retry of the same
// proposal can overcome.
var permanentReverts = map[string]bool{"NotSigner": true, "TooFewSignatures": true, "ZeroRoot": true, "EpochBeforeSchedule": true, "OverEmissionCap": true, "BelowClaimed": true}

// revertReason names the distributor error err carries, with its fields.
func (s *Service) revertReason(err error) (name string, detail string) {
	data, ok := chain.RevertData(err)
	if !ok {
		return "", ""
	}
	e, uerr := s.d.UnpackError(data)
	if uerr != nil {
		return "", fmt.Sprintf("reverted with data %x", data)
	}
	v := reflect.Indirect(reflect.ValueOf(e))
	name = strings.TrimPrefix(v.Type().Name(), "RewardsDistributor")
	var fields []string
	for i := 0; i < v.NumField(); i++ {
		fields = append(fields, fmt.Sprintf("%s %v", v.Type().Field(i).Name, v.Field(i).Interface()))
	}
	return name, fmt.Sprintf("%s(%s)", name, strings.Join(fields, ", "))
}

// sendFailed parks the epoch when the contract refuses it for good, and
// returns the error otherwise (the next step retries).
func (s *Service) sendFailed(ctx context.Context, st settlement, what string, err error) error {
	name, detail := s.revertReason(err)
	if !permanentReverts[name] {
		if errors.Is(err, chain.ErrFeeCeiling) {
			s.log.Warn("settle: fees are above settle.maxFeePerGas; waiting for them to fall", "epoch", st.Epoch, "err", err)
			return nil
		}
		return fmt.Errorf("settle: %s root of epoch %d: %w", what, st.Epoch, err)
	}
	reason := fmt.Sprintf("the distributor refuses the root for good: %s", detail)
	if err := s.st.setState(ctx, st, tables.Parked, reason, common.Hash{}, 0); err != nil {
		return err
	}
	s.log.Error("settle: epoch parked", "epoch", st.Epoch, "reason", reason)
	s.emit(st, tables.Parked, reason, common.Hash{}, 0)
	return nil
}
