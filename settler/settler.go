// Package settler turns closed epochs into money: it splits each epoch's
// emission over owners by score, adds the parts to cumulative totals, builds
// the OpenZeppelin-compatible Merkle tree, stores leaves, proofs and tree in
// ClickHouse, posts the root to the RewardsDistributor and serves proofs.
package settler

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"sort"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/proto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/telemetry"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// Config of the settler.
type Config struct {
	Group            string        `yaml:"group" help:"consumer group of the settler"`
	RPC              string        `yaml:"rpc" help:"Ethereum JSON-RPC endpoint"`
	Distributor      string        `yaml:"distributor" help:"RewardsDistributor contract address"`
	PosterKey        string        `yaml:"posterKey" help:"hex private key allowed to post roots (prefer the environment variable, or posterKeystore)" secret:"true"`
	PosterKeystore   string        `yaml:"posterKeystore" help:"path of an encrypted keystore file (Web3 Secret Storage, as geth and cast write it) holding the poster key"`
	PosterPassword   string        `yaml:"posterPassword" help:"password of posterKeystore (prefer the environment variable)" secret:"true"`
	EmissionPerEpoch string        `yaml:"emissionPerEpoch" help:"tokens emitted per epoch, in base units (decimal)"`
	APIListen        string        `yaml:"apiListen" help:"listen address of the proof API"`
	ActivationCheck  time.Duration `yaml:"activationCheck" help:"how often to look for a pending root whose timelock has passed, to activate it"`
	StuckAfter       time.Duration `yaml:"stuckAfter" help:"how long a transaction may wait unmined before it is sent again with fees raised by a quarter"`
	Confirmations    uint64        `yaml:"confirmations" help:"blocks (the root's included) after which a posted root is final; a reorg before that makes the settler post it again"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Group: "fieldmint-settler", RPC: "http://127.0.0.1:8545", EmissionPerEpoch: "1000000000000000000000", APIListen: "127.0.0.1:8081", ActivationCheck: 10 * time.Second, StuckAfter: 2 * time.Minute, Confirmations: 12}
}

// Validate checks the configuration without echoing secrets.
func (c Config) Validate() error {
	if e, ok := new(big.Int).SetString(c.EmissionPerEpoch, 10); !ok || e.Sign() <= 0 {
		return errors.New("settle: emissionPerEpoch must be a positive decimal integer")
	}
	if !common.IsHexAddress(c.Distributor) {
		return errors.New("settle: distributor must be a contract address")
	}
	if c.Confirmations == 0 {
		return errors.New("settle: confirmations must be at least 1")
	}
	if c.ActivationCheck <= 0 || c.StuckAfter <= 0 {
		return errors.New("settle: activationCheck and stuckAfter must be positive durations, e.g. 10s and 2m")
	}
	switch {
	case c.PosterKey != "" && c.PosterKeystore != "":
		return errors.New("settle: give posterKey or posterKeystore, not both")
	case c.PosterKeystore != "":
		if _, err := os.Stat(c.PosterKeystore); err != nil {
			return fmt.Errorf("settle: posterKeystore: %w", err)
		}
	default:
		if _, err := chain.ParseKey(c.PosterKey); err != nil {
			return fmt.Errorf("settle: posterKey: %w", err)
		}
	}
	return nil
}

// ErrKeystore means the poster keystore could not be decrypted. It never
// says more: neither the password nor the key.
var ErrKeystore = errors.New("settle: posterKeystore does not decrypt with posterPassword (wrong password or not a keystore file)")

// Key returns the poster key, from posterKey or the decrypted keystore.
func (c Config) Key() (*ecdsa.PrivateKey, error) {
	if c.PosterKeystore == "" {
		return chain.ParseKey(c.PosterKey)
	}
	raw, err := os.ReadFile(c.PosterKeystore)
	if err != nil {
		return nil, fmt.Errorf("settle: posterKeystore: %w", err)
	}
	k, err := keystore.DecryptKey(raw, c.PosterPassword)
	if err != nil {
		return nil, ErrKeystore
	}
	return k.PrivateKey, nil
}

// Settled summarizes one settled epoch.
type Settled struct {
	Epoch     uint64
	Accepted  uint64
	Rejected  map[string]uint64 // by reason
	Emission  *big.Int
	Accounts  int
	Root      common.Hash
	Tx        common.Hash
	Block     uint64
	Recovered bool // the root was already on chain (a crash after posting)
}

// Service is the settler.
type Service struct {
	cfg      Config
	kc       kafka.Config
	conn     driver.Conn
	client   chain.Backend
	key      *ecdsa.PrivateKey
	dist     *bind.BoundContract
	distABI  *distributor.RewardsDistributor
	emission *big.Int
	chainID  *big.Int
	log      *slog.Logger
	// OnSettled, if set, is called after each epoch is settled.
	OnSettled func(Settled)
	// offline: no chain; cumulative totals build on computed epochs.
	offline bool
	// chainMu serializes what reads the distributor's state and then sends
	// a transaction with the poster key (settling, activating): one at a
	// time, each sees the other's result and takes its own nonce.
	chainMu sync.Mutex
	// closeClient closes the RPC client New dialled.
	closeClient func()
}

// Recompute computes an epoch's rewards and tree from ClickHouse alone and
// stores them (reward_leaves, and settlements as "computed"), building on the
// cumulative totals of the previous computed epoch. It never touches a
// chain: it is what a replay into a fresh database does. ok is false when
// the epoch has no scores.
func Recompute(ctx context.Context, conn driver.Conn, emission *big.Int, epoch uint64, log *slog.Logger) (root common.Hash, ok bool, err error) {
	s := &Service{conn: conn, emission: emission, log: log, offline: true}
	tree, leaves, err := s.compute(ctx, epoch)
	if err != nil || tree == nil {
		return common.Hash{}, false, err
	}
	dump, _ := json.Marshal(tree)
	total := new(big.Int)
	for _, l := range leaves {
		total.Add(total, l.cumulative)
	}
	if err := s.store(ctx, epoch, tree, leaves); err != nil {
		return common.Hash{}, false, err
	}
	if err := s.record(ctx, epoch, tree.Root(), total, len(leaves), "computed", common.Hash{}, 0, string(dump)); err != nil {
		return common.Hash{}, false, err
	}
	return tree.Root(), true, nil
}

// New creates the settler. conn is a migrated ClickHouse connection.
func New(ctx context.Context, cfg Config, kc kafka.Config, conn driver.Conn, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, err := ethclient.DialContext(ctx, cfg.RPC)
	if err != nil {
		return nil, fmt.Errorf("settle: dial %s: %w", cfg.RPC, err)
	}
	s, err := NewWithBackend(ctx, cfg, kc, conn, client, log)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.closeClient = client.Close
	return s, nil
}

// NewWithBackend creates the settler on a chain backend of the caller's
// (tests use go-ethereum's simulated one); cfg.RPC is not dialled.
func NewWithBackend(ctx context.Context, cfg Config, kc kafka.Config, conn driver.Conn, client chain.Backend, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, err := cfg.Key()
	if err != nil {
		return nil, err
	}
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("settle: chain id from %s: %w", cfg.RPC, err)
	}
	emission, _ := new(big.Int).SetString(cfg.EmissionPerEpoch, 10)
	d := distributor.NewRewardsDistributor()
	return &Service{cfg: cfg, kc: kc, conn: conn, client: client, key: key, emission: emission, chainID: id, log: log,
		distABI: d, dist: d.Instance(client, common.HexToAddress(cfg.Distributor))}, nil
}

// Run settles every epoch-closed record until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(append(append(s.kc.Opts(), s.kc.GroupOpts(s.cfg.Group)...),
		kgo.ConsumeTopics(s.kc.Topics().Epochs),
		kgo.DisableAutoCommit(), // an epoch's offset is committed once it is settled
		kgo.BlockRebalanceOnPoll(),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// Runs before Close: a client that still blocks rebalances cannot leave its group.
	defer cl.AllowRebalance()
	activated := make(chan struct{})
	go func() { defer close(activated); s.activateDue(ctx) }()
	defer func() { <-activated }()
	for {
		fetches := cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) { s.log.Warn("settle fetch", "topic", t, "err", err) })
		fetches.EachRecord(func(rec *kgo.Record) {
			ec := &pb.EpochClosed{}
			if err := proto.Unmarshal(rec.Value, ec); err != nil {
				s.log.Error("settle: undecodable epoch-closed record, skipped", "offset", rec.Offset, "err", err)
				return
			}
			// Epochs settle in order (cumulative totals build on the previous
			// one), so a failure is retried here, never skipped.
			for wait := time.Second; ctx.Err() == nil; wait = min(2*wait, 30*time.Second) {
				err := s.Settle(ctx, ec)
				if err == nil || ctx.Err() != nil {
					return
				}
				s.log.Error("settle: epoch failed, retrying", "epoch", ec.Epoch, "in", wait, "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
		})
		if ctx.Err() != nil {
			return nil
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("settle: commit offsets", "err", err)
		}
		cl.AllowRebalance()
	}
}

// Settle settles one closed epoch. It is idempotent: an epoch already posted
// is skipped, and a root found on chain without a record here is adopted after
// checking it equals the recomputed one.
func (s *Service) Settle(ctx context.Context, ec *pb.EpochClosed) error {
	epoch := ec.Epoch
	var status string
	err := s.conn.QueryRow(ctx, "SELECT status FROM settlements FINAL WHERE epoch = ?", epoch).Scan(&status)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("settle: read state of epoch %d: %w", epoch, err)
	}
	if status == "posted" || status == "final" {
		s.log.Info("settle: epoch already posted", "epoch", epoch, "status", status)
		return nil
	}
	tree, leaves, err := s.compute(ctx, epoch)
	if err != nil {
		return err
	}
	if tree == nil {
		s.log.Info("settle: epoch has no scores, nothing to pay", "epoch", epoch)
		return nil
	}
	dump, _ := json.Marshal(tree)
	total := new(big.Int)
	for _, l := range leaves {
		total.Add(total, l.cumulative)
	}
	if err := s.store(ctx, epoch, tree, leaves); err != nil {
		return err
	}
	if err := s.record(ctx, epoch, tree.Root(), total, len(leaves), "computed", common.Hash{}, 0, string(dump)); err != nil {
		return err
	}
	out := Settled{Epoch: epoch, Emission: s.emission, Accounts: len(leaves), Root: tree.Root()}
	call := &bind.CallOpts{Context: ctx}
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	latest, latestRoot, err := s.chainLatest(call)
	if err != nil {
		return fmt.Errorf("settle: read distributor state: %w", err)
	}
	switch {
	case latest > epoch:
		return fmt.Errorf("settle: distributor is at epoch %d, past %d: refusing to post an older root", latest, epoch)
	case latest == epoch:
		if latestRoot != tree.Root() {
			return fmt.Errorf("settle: epoch %d on chain has root %s, recomputed %s", epoch, latestRoot.Hex(), tree.Root().Hex())
		}
		out.Recovered = true
	default:
		// A root still in its timelock makes this revert; the epoch is then
		// retried with backoff until the pending root can be activated. So is
		// ErrNonceTaken: the retry reads the chain again first.
		receipt, err := chain.SendReplacing(ctx, s.client, s.key, s.distributor(), s.distABI.PackProposeRoot(epoch, tree.Root(), total), s.cfg.StuckAfter)
		if err != nil {
			return fmt.Errorf("settle: propose root of epoch %d: %w", epoch, err)
		}
		out.Tx, out.Block = receipt.TxHash, receipt.BlockNumber.Uint64()
	}
	if err := s.record(ctx, epoch, tree.Root(), total, len(leaves), "posted", out.Tx, out.Block, string(dump)); err != nil {
		return err
	}
	out.Accepted, out.Rejected, err = s.counts(ctx, ec)
	if err != nil {
		return err
	}
	s.log.Info("settle: root posted", "epoch", epoch, "root", out.Root.Hex(), "tx", out.Tx.Hex(), "accounts", out.Accounts)
	if s.OnSettled != nil {
		s.OnSettled(out)
	}
	return nil
}

// activateDue activates the pending root once its timelock has passed, so
// the last root of a quiet period does not wait for the next proposal (which
// would activate it too). Anyone may do this; the settler does it with its
// key. It checks every few seconds until ctx ends.
func (s *Service) activateDue(ctx context.Context) {
	tick := time.NewTicker(s.cfg.ActivationCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if epoch, err := s.ActivateDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("settle: activating the pending root failed; will retry", "err", err)
		} else if epoch != 0 {
			s.log.Info("settle: pending root activated", "epoch", epoch)
		}
		if err := s.Confirm(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("settle: confirming posted roots failed; will retry", "err", err)
		}
	}
}

// Confirm follows every posted root until it is final: once its transaction
// has cfg.Confirmations blocks (its own included) on the canonical chain, the
// settlement is recorded "final". If a reorg dropped the transaction and the
// distributor does not know the epoch any more, the root is proposed again
// and recorded "posted" with the new transaction.
func (s *Service) Confirm(ctx context.Context) error {
	type posted struct {
		epoch    uint64
		root, tx string
		total    big.Int
		accounts uint32
		tree     string
	}
	rows, err := s.conn.Query(ctx, `SELECT epoch, root, tx_hash, total, accounts, tree FROM settlements_latest WHERE status = 'posted' ORDER BY epoch`)
	if err != nil {
		return err
	}
	var todo []posted
	for rows.Next() {
		var p posted
		if err := rows.Scan(&p.epoch, &p.root, &p.tx, &p.total, &p.accounts, &p.tree); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, p)
	}
	rows.Close()
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	for _, p := range todo {
		if p.tx == "" {
			continue // found on chain after a crash: no transaction of ours to follow
		}
		receipt, err := s.client.TransactionReceipt(ctx, common.HexToHash(p.tx))
		if err != nil && !errors.Is(err, ethereum.NotFound) {
			return err
		}
		switch {
		case err == nil && receipt.Status == types.ReceiptStatusSuccessful:
			head, err := s.client.HeaderByNumber(ctx, nil) // after the receipt: never behind its block
			if err != nil {
				return err
			}
			if depth := head.Number.Uint64() - receipt.BlockNumber.Uint64() + 1; depth >= s.cfg.Confirmations {
				if err := s.record(ctx, p.epoch, common.HexToHash(p.root), &p.total, int(p.accounts), "final", receipt.TxHash, receipt.BlockNumber.Uint64(), p.tree); err != nil {
					return err
				}
				s.log.Info("settle: root final", "epoch", p.epoch, "block", receipt.BlockNumber, "confirmations", depth)
			}
		default: // dropped by a reorg, or (after one) mined and reverted
			latest, latestRoot, err := s.chainLatest(&bind.CallOpts{Context: ctx})
			if err != nil {
				return err
			}
			if latest >= p.epoch {
				if latest == p.epoch && latestRoot != common.HexToHash(p.root) {
					return fmt.Errorf("settle: epoch %d on chain has root %s, posted %s", p.epoch, latestRoot.Hex(), p.root)
				}
				continue // on chain by another transaction; nothing to re-post
			}
			s.log.Warn("settle: a reorg dropped the root's transaction; posting it again", "epoch", p.epoch, "tx", p.tx)
			receipt, err := chain.SendReplacing(ctx, s.client, s.key, s.distributor(), s.distABI.PackProposeRoot(p.epoch, common.HexToHash(p.root), &p.total), s.cfg.StuckAfter)
			if err != nil {
				return fmt.Errorf("settle: re-post epoch %d: %w", p.epoch, err)
			}
			if err := s.record(ctx, p.epoch, common.HexToHash(p.root), &p.total, int(p.accounts), "posted", receipt.TxHash, receipt.BlockNumber.Uint64(), p.tree); err != nil {
				return err
			}
		}
	}
	return nil
}

// ActivateDue sends activateRoot if a pending root's timelock has passed by
// the latest block, and returns its epoch (0: nothing was due).
func (s *Service) ActivateDue(ctx context.Context) (uint64, error) {
	s.chainMu.Lock()
	defer s.chainMu.Unlock()
	call := &bind.CallOpts{Context: ctx}
	pending, err := bind.Call(s.dist, call, s.distABI.PackPendingRoot(), s.distABI.UnpackPendingRoot)
	if err != nil || pending == ([32]byte{}) {
		return 0, err
	}
	at, err := bind.Call(s.dist, call, s.distABI.PackPendingActivatesAt(), s.distABI.UnpackPendingActivatesAt)
	if err != nil {
		return 0, err
	}
	head, err := s.client.HeaderByNumber(ctx, nil)
	if err != nil || head.Time < at {
		return 0, err
	}
	epoch, err := bind.Call(s.dist, call, s.distABI.PackPendingEpoch(), s.distABI.UnpackPendingEpoch)
	if err != nil {
		return 0, err
	}
	if _, err := chain.SendReplacing(ctx, s.client, s.key, s.distributor(), s.distABI.PackActivateRoot(), s.cfg.StuckAfter); err != nil {
		return 0, fmt.Errorf("activate root of epoch %d: %w", epoch, err)
	}
	return epoch, nil
}

func (s *Service) distributor() common.Address { return common.HexToAddress(s.cfg.Distributor) }

// chainLatest is the newest epoch the distributor knows, pending or active,
// and its root.
func (s *Service) chainLatest(call *bind.CallOpts) (uint64, common.Hash, error) {
	pending, err := bind.Call(s.dist, call, s.distABI.PackPendingRoot(), s.distABI.UnpackPendingRoot)
	if err != nil {
		return 0, common.Hash{}, err
	}
	if pending != ([32]byte{}) {
		e, err := bind.Call(s.dist, call, s.distABI.PackPendingEpoch(), s.distABI.UnpackPendingEpoch)
		return e, common.Hash(pending), err
	}
	e, err := bind.Call(s.dist, call, s.distABI.PackEpoch(), s.distABI.UnpackEpoch)
	if err != nil {
		return 0, common.Hash{}, err
	}
	root, err := bind.Call(s.dist, call, s.distABI.PackRoot(), s.distABI.UnpackRoot)
	return e, common.Hash(root), err
}

type leaf struct {
	account    common.Address
	score      uint64
	amount     *big.Int
	cumulative *big.Int
	proof      []string
}

// compute derives the epoch's leaves from ClickHouse alone: the scores of the
// epoch and the cumulative totals of the last posted epoch before it. Scores
// are summed from the readings themselves, not from the epoch_scores rollup:
// the rollup is written by a materialized view, which a ClickHouse crash can
// leave behind its source table; the readings are what exactly-once protects.
func (s *Service) compute(ctx context.Context, epoch uint64) (*merkle.Tree, []leaf, error) {
	scores, err := epochScores(ctx, s.conn, epoch, s.log)
	if err != nil {
		return nil, nil, err
	}
	shares, err := Split(s.emission, scores)
	if err != nil || len(shares) == 0 {
		return nil, nil, err
	}
	base := uint8(2) // the last posted epoch
	if s.offline {
		base = 1 // the last computed one
	}
	prev, err := s.conn.Query(ctx, `SELECT account, cumulative FROM reward_leaves FINAL
		WHERE epoch = (SELECT max(epoch) FROM settlements FINAL WHERE stage >= ? AND epoch < ?)`, base, epoch)
	if err != nil {
		return nil, nil, err
	}
	cumulative := map[common.Address]*big.Int{}
	for prev.Next() {
		var account string
		var cum big.Int
		if err := prev.Scan(&account, &cum); err != nil {
			prev.Close()
			return nil, nil, err
		}
		cumulative[common.HexToAddress(account)] = new(big.Int).Set(&cum)
	}
	prev.Close()
	return accumulate(cumulative, shares)
}

// epochScores sums each owner's score in the epoch from the readings.
// Owners that are not addresses cannot be paid and are left out.
func epochScores(ctx context.Context, conn driver.Conn, epoch uint64, log *slog.Logger) ([]Score, error) {
	rows, err := conn.Query(ctx, `SELECT owner, sum(score) FROM readings WHERE epoch = ? AND status = 'valid' GROUP BY owner HAVING sum(score) > 0`, epoch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var scores []Score
	for rows.Next() {
		var owner string
		var score uint64
		if err := rows.Scan(&owner, &score); err != nil {
			return nil, err
		}
		if !common.IsHexAddress(owner) {
			log.Warn("settle: score of a non-address owner ignored", "owner", owner)
			continue
		}
		scores = append(scores, Score{Account: common.HexToAddress(owner), Score: score})
	}
	return scores, rows.Err()
}

// accumulate adds an epoch's shares to the cumulative totals before it
// (which it does not change) and builds the epoch's tree: one leaf per
// account ever paid, in address order, each with its proof.
func accumulate(before map[common.Address]*big.Int, shares []Share) (*merkle.Tree, []leaf, error) {
	byAccount := make(map[common.Address]*leaf, len(before)+len(shares))
	for a, cum := range before {
		byAccount[a] = &leaf{account: a, amount: new(big.Int), cumulative: new(big.Int).Set(cum)}
	}
	for _, sh := range shares {
		l := byAccount[sh.Account]
		if l == nil {
			l = &leaf{account: sh.Account, amount: new(big.Int), cumulative: new(big.Int)}
			byAccount[sh.Account] = l
		}
		l.score, l.amount = sh.Score, sh.Amount
		l.cumulative.Add(l.cumulative, sh.Amount)
	}
	leaves := make([]leaf, 0, len(byAccount))
	for _, l := range byAccount {
		leaves = append(leaves, *l)
	}
	sort.Slice(leaves, func(i, j int) bool { return bytes.Compare(leaves[i].account[:], leaves[j].account[:]) < 0 })
	rewards := make([]merkle.Reward, len(leaves))
	for i, l := range leaves {
		rewards[i] = merkle.Reward{Account: l.account, Amount: l.cumulative}
	}
	tree, err := merkle.OfRewards(rewards)
	if err != nil {
		return nil, nil, err
	}
	for i := range leaves {
		for _, p := range tree.Proof(i) {
			leaves[i].proof = append(leaves[i].proof, p.Hex())
		}
	}
	return tree, leaves, nil
}

func (s *Service) store(ctx context.Context, epoch uint64, tree *merkle.Tree, leaves []leaf) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_deduplication_token": fmt.Sprintf("leaves-%d-%s", epoch, tree.Root().Hex())}))
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO reward_leaves")
	if err != nil {
		return err
	}
	for _, l := range leaves {
		if err := batch.Append(epoch, l.account.Hex(), l.score, l.amount, l.cumulative, l.proof); err != nil {
			batch.Abort()
			return err
		}
	}
	return batch.Send()
}

func (s *Service) record(ctx context.Context, epoch uint64, root common.Hash, total *big.Int, accounts int, status string, tx common.Hash, block uint64, tree string) error {
	txHex := ""
	if tx != (common.Hash{}) {
		txHex = tx.Hex()
	}
	stage := map[string]uint8{"computed": 1, "posted": 2, "final": 3}[status]
	err := s.conn.Exec(ctx, "INSERT INTO settlements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now64(3))",
		epoch, root.Hex(), total, s.emission, uint32(accounts), status, stage, txHex, block, tree)
	if err == nil {
		settlementsCounter.Add(ctx, 1, metric.WithAttributes(attribute.String("status", status)))
	}
	return err
}

// settlementsCounter counts settlement steps recorded, by status (computed,
// posted, final); exported by internal/telemetry.
var settlementsCounter, _ = telemetry.Meter().Int64Counter("fieldmint.settler.settlements",
	metric.WithDescription("epoch settlement steps recorded, by status (computed, posted, final)"))

// counts returns the epoch's valid readings and, by reason, the readings
// rejected while it was open (by ingest time: a rejected reading's event time
// may be the very thing that is wrong).
func (s *Service) counts(ctx context.Context, ec *pb.EpochClosed) (uint64, map[string]uint64, error) {
	rows, err := s.conn.Query(ctx, `SELECT status, reason, count() FROM readings
		WHERE (status = 'valid' AND epoch = ?) OR (status = 'rejected' AND received_at >= ? AND received_at < ?)
		GROUP BY status, reason`, ec.Epoch, time.UnixMilli(ec.StartMs).UTC(), time.UnixMilli(ec.EndMs).UTC())
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var accepted uint64
	rejected := map[string]uint64{}
	for rows.Next() {
		var status, reason string
		var n uint64
		if err := rows.Scan(&status, &reason, &n); err != nil {
			return 0, nil, err
		}
		if status == "valid" {
			accepted += n
		} else {
			rejected[reason] += n
		}
	}
	return accepted, rejected, rows.Err()
}

// Close releases the RPC client.
func (s *Service) Close() {
	if s.closeClient != nil {
		s.closeClient()
	}
}
