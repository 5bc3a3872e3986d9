package settler

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// Rules is the version of the rules that turn readings into rewards (the
// validators' checks, scoring, the split): every vote names it, so settlers
// on different rules never make a quorum. Bump it with any change to them.
const Rules uint32 = 1

// voting is what the settler keeps to reach a quorum with the other signers.
type voting struct {
	x         *quorum.Exchange // nil: no votes topic (a 1-of-1 set posts alone)
	lateness  time.Duration    // the aggregator's allowed lateness: the cut is taken at an epoch's end plus it
	signers   []common.Address // the distributor's set and threshold, read each proposal
	threshold uint8
	published map[common.Hash]bool      // digests of the ballots this settler sent
	quorumAt  map[common.Hash]time.Time // when a digest was first seen with a quorum
	split     bool                      // the signers' ballots for the epoch voted on differ
	// last is the newest ballot signed: while it awaits its quorum, each
	// step reuses it instead of listing offsets and hashing the tree dump
	// (hundreds of megabytes at a million leaves) again.
	last quorum.Ballot
}

// UseExchange makes the settler exchange votes on x, taking each epoch's cut
// of the raw topic at its end plus lateness (aggregate.allowedLateness).
// Without one, only a 1-of-1 signer set can post, and votes name no cut.
func (s *Service) UseExchange(x *quorum.Exchange, lateness time.Duration) {
	s.v.x, s.v.lateness = x, lateness
}

// Domain is the distributor's EIP-712 domain, which votes are signed in.
func (s *Service) Domain() quorum.Domain { return s.domain }

// readSigners reads the distributor's signer set and threshold.
func (s *Service) readSigners(ctx context.Context) error {
	call := &bind.CallOpts{Context: ctx}
	signers, err := bind.Call(s.dist, call, s.d.PackSigners(), s.d.UnpackSigners)
	if err != nil {
		return fmt.Errorf("settle: read signers: %w", err)
	}
	k, err := bind.Call(s.dist, call, s.d.PackThreshold(), s.d.UnpackThreshold)
	if err != nil {
		return fmt.Errorf("settle: read threshold: %w", err)
	}
	s.v.signers, s.v.threshold = signers, k
	return nil
}

// ballot is this settler's signed vote for target: in the distributor's
// current round, building on the root the chain has now, which must be the
// one this settler computed for that epoch, over the cut of the raw log.
func (s *Service) ballot(ctx context.Context, c chain.Roots, target tables.Settlement) (quorum.Ballot, bool, error) {
	base, baseEpoch := c.Base(), c.Epoch
	if c.PendingRoot != (common.Hash{}) {
		baseEpoch = c.PendingEpoch
	}
	if base != (common.Hash{}) {
		mine, ok, err := tables.SettlementOf(ctx, s.conn, baseEpoch)
		if err != nil {
			return quorum.Ballot{}, false, err
		}
		if !ok || mine.Root != base {
			return quorum.Ballot{}, false, fmt.Errorf("settle: epoch %d builds on the chain's root %s of epoch %d, which this settler did not compute (%s): not signing", target.Epoch, base.Hex(), baseEpoch, mine.Root.Hex())
		}
	}
	b := quorum.Ballot{Vote: quorum.Vote{Epoch: target.Epoch, Root: target.Root, Total: target.Total, PrevRoot: base, Rules: Rules, Round: c.Round},
		Signer: chain.Address(s.key)}
	if l := s.v.last.Vote; l.Epoch == target.Epoch && l.Root == target.Root && l.PrevRoot == base && l.Round == c.Round && l.Total != nil && l.Total.Cmp(target.Total) == 0 {
		return s.v.last, true, nil
	}
	if s.v.x != nil {
		var end time.Time
		if err := s.conn.QueryRow(ctx, sqlEpochEnd, target.Epoch).Scan(&end); err != nil {
			return b, false, fmt.Errorf("settle: read epoch %d's end: %w", target.Epoch, err)
		}
		at := end.Add(s.v.lateness)
		if time.Until(at.Add(s.cfg.CutMargin)) > 0 {
			return b, false, nil // records stamped before the cut may still arrive
		}
		cut, err := s.v.x.CutAt(ctx, at)
		if err != nil {
			return b, false, err
		}
		b.Cut, b.Vote.Inputs = cut, cut.Hash()
	}
	tree, _, err := tables.TreeOf(ctx, s.conn, target.Epoch)
	if err != nil {
		return b, false, err
	}
	b.Tree = crypto.Keccak256Hash([]byte(tree))
	if b.Signature, err = quorum.Sign(b.Vote.Digest(s.domain), s.key); err != nil {
		return b, false, err
	}
	s.v.last = b
	return b, true, nil
}

// cutReadyThrough is the newest closed epoch whose cut of the raw log is
// final (its end plus lateness plus settle.cutMargin has passed): the
// newest a vote may be for. Aiming at a newer one, whose cut is not final,
// would move the target every epoch and never vote (epochs shorter than the
// margin). Without an exchange there is no cut: every epoch.
func (s *Service) cutReadyThrough(ctx context.Context) (uint64, error) {
	if s.v.x == nil {
		return math.MaxUint64, nil
	}
	var through uint64
	cutoff := time.Now().Add(-s.v.lateness - s.cfg.CutMargin)
	if err := s.conn.QueryRow(ctx, sqlCutReady, cutoff).Scan(&through); err != nil {
		return 0, fmt.Errorf("settle: read closed epochs: %w", err)
	}
	return through, nil
}

// propose signs target's vote and, once the threshold of signers agree with
// it, submits their signatures: at once with a 1-of-1 set, else in the turn
// order of the agreeing signers, each TurnDelay after the one before.
func (s *Service) propose(ctx context.Context, c chain.Roots, target tables.Settlement) (bool, error) {
	if err := s.readSigners(ctx); err != nil {
		return false, err
	}
	mine, ok, err := s.ballot(ctx, c, target)
	if err != nil || !ok {
		return false, err
	}
	digest := mine.Vote.Digest(s.domain)
	if s.v.x == nil {
		if s.v.threshold > 1 {
			return false, quorum.ErrNoExchange
		}
		return s.submit(ctx, target, mine.Vote, [][]byte{mine.Signature})
	}
	if !s.v.published[digest] {
		if err := s.v.x.Publish(ctx, mine); err != nil {
			if s.v.threshold > 1 {
				return false, err
			}
			s.log.Warn("settle: the vote was not published; posting alone (a 1-of-1 set)", "epoch", target.Epoch, "err", err)
		} else {
			s.v.published[digest] = true
			s.log.Info("settle: vote signed and published", "epoch", target.Epoch, "root", target.Root.Hex(), "round", mine.Vote.Round, "inputs", mine.Vote.Inputs.Hex())
		}
	}
	agree := []quorum.Signature{{Signer: mine.Signer, Sig: mine.Signature}}
	s.v.split = false
	for _, b := range s.v.x.Ballots(target.Epoch, mine.Vote.Round) {
		switch {
		case b.Signer == mine.Signer || !slices.Contains(s.v.signers, b.Signer):
		case b.Vote.Digest(s.domain) == digest:
			agree = append(agree, quorum.Signature{Signer: b.Signer, Sig: b.Signature})
		default:
			if !s.v.split {
				s.log.Warn("settle: a signer voted otherwise (fieldmint verify-votes shows where)", "epoch", target.Epoch, "signer", b.Signer.Hex(),
					"root", b.Vote.Root.Hex(), "mine", mine.Vote.Root.Hex(), "inputs", b.Vote.Inputs.Hex(), "myInputs", mine.Vote.Inputs.Hex())
			}
			s.v.split = true
		}
	}
	if len(agree) < int(s.v.threshold) {
		return false, s.awaitQuorum(ctx, target, len(agree))
	}
	ordered, err := quorum.Ordered(digest, s.v.signers, agree)
	if err != nil {
		return false, err
	}
	if wait := s.turn(digest, agree, target.Epoch, mine.Vote.Round); wait > 0 {
		return false, nil
	}
	return s.submit(ctx, target, mine.Vote, ordered[:s.v.threshold])
}

// turn is how long this settler still waits before submitting a quorum for
// digest: the agreeing signers take turns from a start that moves with the
// epoch and round, so they rarely race, and any of them submits if the ones
// before it did not within TurnDelay each.
func (s *Service) turn(digest common.Hash, agree []quorum.Signature, epoch, round uint64) time.Duration {
	first, ok := s.v.quorumAt[digest]
	if !ok {
		first = time.Now()
		s.v.quorumAt[digest] = first
	}
	signers := make([]common.Address, len(agree))
	for i, a := range agree {
		signers[i] = a.Signer
	}
	signers = quorum.Sorted(signers)
	me := slices.Index(signers, chain.Address(s.key))
	pos := (me - int((epoch+round)%uint64(len(signers))) + len(signers)) % len(signers)
	return time.Duration(pos)*s.cfg.TurnDelay - time.Since(first)
}

// awaitQuorum records target as awaiting its quorum (once).
func (s *Service) awaitQuorum(ctx context.Context, target tables.Settlement, agree int) error {
	if target.State == tables.AwaitingQuorum {
		return nil
	}
	reason := fmt.Sprintf("%d of the %d signers agree with this settler's vote; the distributor needs %d", agree, len(s.v.signers), s.v.threshold)
	if err := s.st.setState(ctx, target, tables.AwaitingQuorum, reason, common.Hash{}, 0); err != nil {
		return err
	}
	s.log.Info("settle: epoch awaiting its quorum", "epoch", target.Epoch, "root", target.Root.Hex(), "reason", reason)
	s.emit(target, tables.AwaitingQuorum, reason, common.Hash{}, 0)
	return nil
}

// raceLost are the distributor's errors that mean another settler's
// proposal got there first, or the chain moved on since this one read it:
// the next step follows the chain and signs again if it must.
var raceLost = map[string]bool{"EpochNotIncreasing": true, "PendingRootNotActive": true, "WrongRound": true, "WrongPrevRoot": true}

// submit sends proposeRoot(v, sigs).
func (s *Service) submit(ctx context.Context, target tables.Settlement, v quorum.Vote, sigs [][]byte) (bool, error) {
	receipt, err := chain.SendReplacing(ctx, s.client, s.key, s.distributor(), v.Calldata(sigs), s.sendOptions())
	if err != nil {
		if name, _ := s.revertReason(err); raceLost[name] {
			s.log.Info("settle: another proposal got there first", "epoch", target.Epoch, "revert", name)
			return false, nil
		}
		// Mined and reverted: another settler's proposal landed in between.
		if c, rerr := chain.ReadRoots(ctx, s.client, s.distributor()); rerr == nil && max(c.Epoch, c.PendingEpoch) >= target.Epoch {
			s.log.Info("settle: another proposal got there first", "epoch", target.Epoch)
			return false, nil
		}
		return false, s.sendFailed(ctx, target, "propose", err)
	}
	s.log.Info("settle: root proposed", "epoch", target.Epoch, "root", target.Root.Hex(), "tx", receipt.TxHash.Hex(),
		"signatures", len(sigs), "activatesIn", time.Duration(s.timelock)*time.Second)
	return true, nil
}

// recordVotes writes the ballots read since the last step into
// settlement_votes, where the proof API serves them (GET /v1/votes).
func (s *Service) recordVotes(ctx context.Context) error {
	if s.v.x == nil {
		return nil
	}
	ballots := s.v.x.Drain()
	rows := make([]tables.Vote, len(ballots))
	for i, b := range ballots {
		v := b.Vote
		rows[i] = tables.Vote{Epoch: v.Epoch, Round: v.Round, Signer: b.Signer.Hex(), Root: v.Root.Hex(), Total: v.Total, PrevRoot: v.PrevRoot.Hex(),
			Inputs: v.Inputs.Hex(), Rules: v.Rules, Signature: b.Signature.String(), TreeHash: b.Tree.Hex()}
	}
	if err := tables.InsertVotes(ctx, s.conn, rows); err != nil {
		s.v.x.Requeue(ballots)
		return fmt.Errorf("settle: record votes: %w", err)
	}
	return nil
}

// signedBy reads who signed epoch's proposal in tx from its RootSigned
// event (nil when tx has none: an activation alone), for reports.
func (s *Service) signedBy(tx common.Hash, epoch uint64) []common.Address {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	receipt, err := s.client.TransactionReceipt(ctx, tx)
	if err != nil {
		return nil
	}
	// The set as it was in that block (rotated since, maybe); a node that
	// keeps no history answers for the current one.
	set := s.v.signers
	if then, err := bind.Call(s.dist, &bind.CallOpts{Context: ctx, BlockNumber: receipt.BlockNumber}, s.d.PackSigners(), s.d.UnpackSigners); err == nil {
		set = then
	}
	for _, l := range receipt.Logs {
		ev, err := s.d.UnpackRootSignedEvent(l)
		if err != nil || ev.Epoch != epoch {
			continue
		}
		var out []common.Address
		for i, a := range set {
			if ev.SignedBy&(1<<i) != 0 {
				out = append(out, a)
			}
		}
		return out
	}
	return nil
}

// activationTurn is how many seconds after a pending root is due this
// settler waits before activating it: the signers take turns from a start
// that moves with the epoch, TurnDelay apart, so that they rarely race
// (anyone may activate; a lost race is success).
func (s *Service) activationTurn(c chain.Roots) uint64 {
	me := slices.Index(s.v.signers, chain.Address(s.key))
	n := len(s.v.signers)
	if me < 0 || n < 2 {
		return 0
	}
	pos := (me - int((c.PendingEpoch+c.Round)%uint64(n)) + n) % n
	return uint64(pos) * uint64(s.cfg.TurnDelay/time.Second)
}
