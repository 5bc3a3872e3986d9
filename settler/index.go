package settler

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
)

// Event names as stored in chain_events.event.
const (
	EventRootProposed  = "RootProposed"
	EventRootActivated = "RootActivated"
	EventRootRevoked   = "RootRevoked"
	EventClaimed       = "Claimed"
)

// Indexer copies the distributor's RootProposed, RootActivated, RootRevoked
// and Claimed events into ClickHouse (chain_events), from the deployment
// block on, in ranges a hosted RPC endpoint accepts. It resumes where it
// stopped (chain_cursor) and follows reorgs: when the block it last read is
// no longer canonical it walks back to a block that still is, marks every
// event after it removed, and reads again from there.
type Indexer struct {
	st        *store
	client    chain.Backend
	contract  common.Address
	fromBlock uint64 // the deployment block: nothing earlier is read
	rangeSize uint64 // blocks per eth_getLogs
	log       *slog.Logger
	d         *distributor.RewardsDistributor
	topics    []common.Hash
}

// NewIndexer returns an indexer of the distributor at contract.
func newIndexer(st *store, client chain.Backend, contract common.Address, fromBlock, rangeSize uint64, log *slog.Logger) *Indexer {
	parsed, _ := distributor.RewardsDistributorMetaData.ParseABI()
	var topics []common.Hash
	for _, name := range []string{EventRootProposed, EventRootActivated, EventRootRevoked, EventClaimed} {
		topics = append(topics, parsed.Events[name].ID)
	}
	return &Indexer{st: st, client: client, contract: contract, fromBlock: fromBlock, rangeSize: max(rangeSize, 1), log: log,
		d: distributor.NewRewardsDistributor(), topics: topics}
}

type checkpoint struct {
	block uint64
	hash  common.Hash
}

// checkpoints returns the newest n blocks the index recorded, newest first.
func (x *Indexer) checkpoints(ctx context.Context, n int) ([]checkpoint, error) {
	rows, err := x.st.conn.Query(ctx, sqlCheckpoints, x.contract.Hex(), n)
	if err != nil {
		return nil, fmt.Errorf("index: read cursor: %w", err)
	}
	defer rows.Close()
	var out []checkpoint
	for rows.Next() {
		var c checkpoint
		var h string
		if err := rows.Scan(&c.block, &h); err != nil {
			return nil, err
		}
		c.hash = common.HexToHash(h)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Sync indexes every block from where the index stopped to the head, and
// returns the head it reached.
func (x *Indexer) Sync(ctx context.Context) (uint64, error) {
	next, err := x.resumePoint(ctx)
	if err != nil {
		return 0, err
	}
	head, err := x.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("index: head: %w", err)
	}
	for from := next; from <= head.Number.Uint64(); {
		to := min(from+x.rangeSize-1, head.Number.Uint64())
		if err := x.readRange(ctx, from, to); err != nil {
			return 0, err
		}
		from = to + 1
	}
	return head.Number.Uint64(), nil
}

// resumePoint returns the first block to read: after the newest recorded
// block that is still canonical. Events and checkpoints after that block
// are undone.
func (x *Indexer) resumePoint(ctx context.Context) (uint64, error) {
	cps, err := x.checkpoints(ctx, 256)
	if err != nil {
		return 0, err
	}
	if len(cps) == 0 {
		return x.fromBlock, nil // a new index
	}
	fork, found := x.fromBlock, false // from the deployment block when nothing recorded is canonical
	for i, cp := range cps {
		h, err := x.client.HeaderByNumber(ctx, new(big.Int).SetUint64(cp.block))
		if err != nil && err != ethereum.NotFound {
			return 0, fmt.Errorf("index: header %d: %w", cp.block, err)
		}
		if err == nil && h.Hash() == cp.hash {
			if i == 0 {
				return cp.block + 1, nil // the usual case: no reorg
			}
			fork, found = cp.block+1, true
			break
		}
	}
	if !found {
		x.log.Warn("index: no recorded block is canonical any more (a deep reorg, or a chain reset); reading again from the deployment block", "from", x.fromBlock)
	} else {
		x.log.Warn("index: a reorg replaced indexed blocks; undoing their events", "from", fork)
	}
	if err := x.undoFrom(ctx, fork); err != nil {
		return 0, err
	}
	return fork, nil
}

// undoFrom marks removed every event and checkpoint at or after block.
func (x *Indexer) undoFrom(ctx context.Context, block uint64) error {
	v := x.st.nextVersion()
	c := x.contract.Hex()
	if err := x.st.conn.Exec(ctx, sqlUndoEvents, v, c, block); err != nil {
		return fmt.Errorf("index: undo events: %w", err)
	}
	if err := x.st.conn.Exec(ctx, sqlUndoCursor, v, c, block); err != nil {
		return fmt.Errorf("index: undo cursor: %w", err)
	}
	return nil
}

// readRange reads the logs of blocks from..to and records them, then the
// checkpoint of block to. A reorg while reading shows as a block hash that
// changed; the range is then left for the next Sync.
func (x *Indexer) readRange(ctx context.Context, from, to uint64) error {
	last, err := x.client.HeaderByNumber(ctx, new(big.Int).SetUint64(to))
	if err != nil {
		return fmt.Errorf("index: header %d: %w", to, err)
	}
	logs, err := x.client.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: new(big.Int).SetUint64(from), ToBlock: new(big.Int).SetUint64(to),
		Addresses: []common.Address{x.contract}, Topics: [][]common.Hash{x.topics}})
	if err != nil {
		return fmt.Errorf("index: logs of blocks %d-%d: %w", from, to, err)
	}
	headers := map[uint64]*types.Header{to: last}
	v := x.st.nextVersion()
	batch, err := x.st.conn.PrepareBatch(ctx, sqlInsertEvents)
	if err != nil {
		return err
	}
	defer batch.Abort()
	for i := range logs {
		l := &logs[i]
		h := headers[l.BlockNumber]
		if h == nil {
			if h, err = x.client.HeaderByNumber(ctx, new(big.Int).SetUint64(l.BlockNumber)); err != nil {
				return fmt.Errorf("index: header %d: %w", l.BlockNumber, err)
			}
			headers[l.BlockNumber] = h
		}
		if h.Hash() != l.BlockHash {
			return fmt.Errorf("index: block %d changed while it was read (a reorg); will read it again", l.BlockNumber)
		}
		row, err := x.decode(l)
		if err != nil {
			x.log.Warn("index: undecodable distributor log skipped", "block", l.BlockNumber, "index", l.Index, "err", err)
			continue
		}
		if err := batch.Append(x.contract.Hex(), l.BlockNumber, l.BlockHash.Hex(), time.Unix(int64(h.Time), 0).UTC(), l.TxHash.Hex(), uint32(l.Index),
			row.event, row.epoch, row.root, row.total, row.activatesAt, row.account, row.amount, row.cumulative, uint8(0), v); err != nil {
			return err
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("index: store events: %w", err)
	}
	if again, err := x.client.HeaderByNumber(ctx, new(big.Int).SetUint64(to)); err != nil || again.Hash() != last.Hash() {
		return fmt.Errorf("index: block %d changed while blocks %d-%d were read (a reorg); will read them again", to, from, to)
	}
	return x.st.conn.Exec(ctx, sqlInsertCheckpoint, x.contract.Hex(), to, last.Hash().Hex(), x.st.nextVersion())
}

type eventRow struct {
	event                     string
	epoch, activatesAt        uint64
	root, account             string
	total, amount, cumulative *big.Int
}

func (x *Indexer) decode(l *types.Log) (eventRow, error) {
	r := eventRow{total: new(big.Int), amount: new(big.Int), cumulative: new(big.Int)}
	if len(l.Topics) == 0 {
		return r, fmt.Errorf("no topics")
	}
	switch l.Topics[0] {
	case x.topics[0]:
		ev, err := x.d.UnpackRootProposedEvent(l)
		if err != nil {
			return r, err
		}
		r.event, r.epoch, r.root, r.total, r.activatesAt = EventRootProposed, ev.Epoch, common.Hash(ev.Root).Hex(), ev.Total, ev.ActivatesAt
	case x.topics[1]:
		ev, err := x.d.UnpackRootActivatedEvent(l)
		if err != nil {
			return r, err
		}
		r.event, r.epoch, r.root, r.total = EventRootActivated, ev.Epoch, common.Hash(ev.Root).Hex(), ev.Total
	case x.topics[2]:
		ev, err := x.d.UnpackRootRevokedEvent(l)
		if err != nil {
			return r, err
		}
		r.event, r.epoch, r.root = EventRootRevoked, ev.Epoch, common.Hash(ev.Root).Hex()
	case x.topics[3]:
		ev, err := x.d.UnpackClaimedEvent(l)
		if err != nil {
			return r, err
		}
		r.event, r.account, r.amount, r.cumulative = EventClaimed, ev.Account.Hex(), ev.Amount, ev.CumulativeAmount
	default:
		return r, fmt.Errorf("unknown event %s", l.Topics[0].Hex())
	}
	return r, nil
}

// rootEvent is one indexed root event.
type rootEvent struct {
	event string
	epoch uint64
	root  common.Hash
	block uint64
	tx    common.Hash
}

// rootEvents returns the indexed root events of epochs from `from` on, in
// chain order.
func (x *Indexer) rootEvents(ctx context.Context, from uint64) ([]rootEvent, error) {
	rows, err := x.st.conn.Query(ctx, sqlRootEvents, x.contract.Hex(), from)
	if err != nil {
		return nil, fmt.Errorf("index: read root events: %w", err)
	}
	defer rows.Close()
	var out []rootEvent
	for rows.Next() {
		var e rootEvent
		var root, tx string
		if err := rows.Scan(&e.event, &e.epoch, &root, &e.block, &tx); err != nil {
			return nil, err
		}
		e.root, e.tx = common.HexToHash(root), common.HexToHash(tx)
		out = append(out, e)
	}
	return out, rows.Err()
}
