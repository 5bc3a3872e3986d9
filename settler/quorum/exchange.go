package quorum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/kafka"
)

// Ballot is one signer's signed vote as settlers exchange it: the vote, who
// signed it, the signature, and the keccak256 of the signer's tree dump (so
// that two votes for different roots can be compared leaf by leaf).
type Ballot struct {
	Vote      Vote           `json:"vote"`
	Signer    common.Address `json:"signer"`
	Signature hexutil.Bytes  `json:"signature"`
	Tree      common.Hash    `json:"tree"`
	Cut       Cut            `json:"cut"` // the cut Vote.Inputs hashes
}

// Key is the ballot's key in the compacted votes topic: one per signer,
// epoch and round survives compaction.
func (b Ballot) Key() []byte {
	return fmt.Appendf(nil, "%020d/%020d/%s", b.Vote.Epoch, b.Vote.Round, b.Signer.Hex())
}

// Check reports whether the signature recovers to the signer in domain d.
func (b Ballot) Check(d Domain) error {
	who, err := Recover(b.Vote.Digest(d), b.Signature)
	if err != nil {
		return err
	}
	if who != b.Signer {
		return fmt.Errorf("%w: it recovers to %s, not %s", ErrSignature, who.Hex(), b.Signer.Hex())
	}
	if b.Cut.Offsets != nil && b.Cut.Hash() != b.Vote.Inputs {
		return fmt.Errorf("quorum: the ballot's cut does not hash to its inputs %s", b.Vote.Inputs.Hex())
	}
	return nil
}

type ballotKey struct{ epoch, round uint64 }

// Exchange publishes this settler's ballots to the votes topic and reads
// everyone's from its start, keeping per epoch and round the newest ballot
// of each signer whose signature checks out in the domain. It has no
// consumer group: every settler reads the whole (compacted) topic.
type Exchange struct {
	cl     *kgo.Client
	topic  string
	raw    string // the raw readings topic, which cuts are taken of
	domain Domain
	log    *slog.Logger

	mu     sync.Mutex
	boxes  map[ballotKey]map[common.Address]Ballot
	unseen []Ballot // read since the last Drain
	done   chan struct{}
}

// NewExchange connects to Kafka and follows the votes topic until Close.
func NewExchange(c kafka.Config, d Domain, log *slog.Logger) (*Exchange, error) {
	topic := c.Topics().Votes
	cl, err := kgo.NewClient(append(c.Opts(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		return nil, fmt.Errorf("quorum: kafka: %w", err)
	}
	x := &Exchange{cl: cl, topic: topic, raw: c.Topics().Raw, domain: d, log: log, boxes: map[ballotKey]map[common.Address]Ballot{}, done: make(chan struct{})}
	go x.follow()
	return x, nil
}

func (x *Exchange) follow() {
	defer close(x.done)
	for {
		fs := x.cl.PollFetches(context.Background())
		if fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			x.log.Warn("quorum: reading the votes topic", "topic", t, "partition", p, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) { x.take(r.Value) })
	}
}

// take keeps a ballot read from the topic if its signature checks out.
func (x *Exchange) take(raw []byte) {
	var b Ballot
	if err := json.Unmarshal(raw, &b); err != nil || b.Vote.Total == nil {
		x.log.Warn("quorum: a record of the votes topic is not a ballot; ignored", "err", err)
		return
	}
	if err := b.Check(x.domain); err != nil {
		x.log.Warn("quorum: a ballot whose signature does not check out; ignored", "epoch", b.Vote.Epoch, "signer", b.Signer.Hex(), "err", err)
		return
	}
	k := ballotKey{b.Vote.Epoch, b.Vote.Round}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.boxes[k] == nil {
		x.boxes[k] = map[common.Address]Ballot{}
	}
	x.boxes[k][b.Signer] = b
	x.unseen = append(x.unseen, b)
}

// Publish sends b and waits for the broker's acknowledgement.
func (x *Exchange) Publish(ctx context.Context, b Ballot) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return err
	}
	if err := x.cl.ProduceSync(ctx, &kgo.Record{Key: b.Key(), Value: raw}).FirstErr(); err != nil {
		return fmt.Errorf("quorum: publish the vote of epoch %d: %w", b.Vote.Epoch, err)
	}
	return nil
}

// Ballots returns the ballots read for epoch in round, ascending by signer.
func (x *Exchange) Ballots(epoch, round uint64) []Ballot {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []Ballot
	for _, b := range x.boxes[ballotKey{epoch, round}] {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Ballot) int { return a.Signer.Cmp(b.Signer) })
	return out
}

// Drain returns the ballots read since the last call, in the order read.
func (x *Exchange) Drain() []Ballot {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := x.unseen
	x.unseen = nil
	return out
}

// Requeue puts ballots a caller drained back, ahead of those read since.
func (x *Exchange) Requeue(ballots []Ballot) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.unseen = append(slices.Clone(ballots), x.unseen...)
}

// Forget drops the ballots of epochs up to and including epoch.
func (x *Exchange) Forget(epoch uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k := range x.boxes {
		if k.epoch <= epoch {
			delete(x.boxes, k)
		}
	}
}

// Close stops following the topic.
func (x *Exchange) Close() {
	x.cl.Close()
	<-x.done
}

// ErrNoExchange means a threshold above one with no way to exchange votes.
var ErrNoExchange = errors.New("quorum: the distributor needs more than one signature per root, and this settler has no votes topic to exchange them on")

// Cut is an epoch's inputs as the raw readings log alone defines them: for
// each partition of the raw topic, in order, the first offset whose record
// timestamp (set by ingest when it wrote the reading) is at or after the
// epoch's end plus the allowed lateness, or the partition's end when none is
// yet. Two settlers reading the same log compute the same cut once no
// record stamped before that moment can still arrive (settle.cutMargin).
type Cut struct {
	At      int64   `json:"at"` // unix milliseconds: the epoch's end plus lateness
	Offsets []int64 `json:"offsets"`
}

// Hash is the vote's inputs: keccak256 of "fieldmint cut v1", the moment,
// and each partition's offset, as big-endian words.
func (c Cut) Hash() common.Hash {
	buf := append([]byte("fieldmint cut v1"), word(new(big.Int).SetInt64(c.At))...)
	for _, o := range c.Offsets {
		buf = append(buf, word(new(big.Int).SetInt64(o))...)
	}
	return crypto.Keccak256Hash(buf)
}

// CutAt lists the raw topic's offsets at or after at.
func (x *Exchange) CutAt(ctx context.Context, at time.Time) (Cut, error) {
	listed, err := kadm.NewClient(x.cl).ListOffsetsAfterMilli(ctx, at.UnixMilli(), x.raw)
	if err != nil {
		return Cut{}, fmt.Errorf("quorum: list the raw topic's offsets: %w", err)
	}
	if err := listed.Error(); err != nil {
		return Cut{}, fmt.Errorf("quorum: list the raw topic's offsets: %w", err)
	}
	byPart := listed[x.raw]
	c := Cut{At: at.UnixMilli(), Offsets: make([]int64, len(byPart))}
	for p, o := range byPart {
		if int(p) >= len(c.Offsets) || p < 0 {
			return Cut{}, fmt.Errorf("quorum: the raw topic lists partition %d of %d", p, len(byPart))
		}
		c.Offsets[p] = o.Offset
	}
	return c, nil
}
