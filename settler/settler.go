// Package settler turns closed epochs into money: it splits each epoch's
// emission over owners by score, adds the parts to cumulative totals, builds
// the OpenZeppelin-compatible Merkle tree, stores leaves and tree in
// ClickHouse, proposes the root to the RewardsDistributor, and follows the
// contract's events (proposed, active, revoked, final) so that nothing is
// built on a root the guardian revoked. The proof API (api.go) serves proofs
// for the root claims are checked against now.
package settler

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// Config of the settler (fieldmint settle).
type Config struct {
	RPC              string `yaml:"rpc" help:"Ethereum JSON-RPC endpoint"`
	Distributor      string `yaml:"distributor" help:"RewardsDistributor contract address"`
	FromBlock        uint64 `yaml:"fromBlock" help:"block the distributor was deployed in: its events are indexed from there"`
	LogRange         uint64 `yaml:"logRange" help:"blocks per eth_getLogs request when indexing the distributor's events (hosted endpoints limit it)"`
	PosterKey        string `yaml:"posterKey" help:"hex private key allowed to post roots (prefer the environment variable, or posterKeystore)" secret:"true"`
	PosterKeystore   string `yaml:"posterKeystore" help:"path of an encrypted keystore file (Web3 Secret Storage, as geth and cast write it) holding the poster key"`
	PosterPassword   string `yaml:"posterPassword" help:"password of posterKeystore (prefer the environment variable)" secret:"true"`
	Guardian         string `yaml:"guardian" help:"the guardian address the distributor must have (empty: not checked)"`
	EmissionPerEpoch string `yaml:"emissionPerEpoch" help:"tokens emitted per epoch, in base units (decimal); must equal the distributor's emissionPerEpoch"`
	// APIListen is deprecated: the proof API has its own section (api.listen).
	// Still honoured by fieldmint api, with a warning, until the next release.
	APIListen       string        `yaml:"apiListen" help:"deprecated: use api.listen (honoured, with a warning, until the next release)"`
	ActivationCheck time.Duration `yaml:"activationCheck" help:"how often the settler follows the chain: indexes the distributor's events, computes closed epochs, proposes the newest root, activates a due one"`
	StuckAfter      time.Duration `yaml:"stuckAfter" help:"how long a transaction may wait unmined before it is sent again with fees raised by a quarter"`
	MaxFeePerGas    string        `yaml:"maxFeePerGas" help:"ceiling of the fee per gas, in wei (decimal), that raising a stuck transaction's fees never passes"`
	Confirmations   uint64        `yaml:"confirmations" help:"blocks (the activation's included) after which an active root is final"`
	TurnDelay       time.Duration `yaml:"turnDelay" help:"with k-of-n signers: how long each agreeing settler waits after the one before it in the turn order before it submits the quorum's signatures itself"`
	QuorumTimeout   time.Duration `yaml:"quorumTimeout" help:"how long an epoch may await its quorum before fieldmint.settler.awaiting_quorum_seconds raises the alert"`
	CutMargin       time.Duration `yaml:"cutMargin" help:"how long after an epoch's end plus the allowed lateness the settler waits before taking the cut of the raw log it votes on (ingest clocks may lag by up to this)"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{RPC: "http://127.0.0.1:8545", LogRange: 2000, EmissionPerEpoch: "1000000000000000000000",
		ActivationCheck: 2 * time.Second, StuckAfter: 2 * time.Minute, MaxFeePerGas: "500000000000", Confirmations: 12,
		TurnDelay: 15 * time.Second, QuorumTimeout: 10 * time.Minute, CutMargin: 30 * time.Second}
}

// Validate checks the configuration without echoing secrets.
func (c Config) Validate() error {
	if !common.IsHexAddress(c.Distributor) {
		return errors.New("settle: distributor must be a contract address")
	}
	if c.RPC == "" {
		return errors.New("settle: rpc must be a JSON-RPC endpoint")
	}
	if e, ok := new(big.Int).SetString(c.EmissionPerEpoch, 10); !ok || e.Sign() <= 0 {
		return errors.New("settle: emissionPerEpoch must be a positive decimal integer")
	}
	if f, ok := new(big.Int).SetString(c.MaxFeePerGas, 10); !ok || f.Sign() <= 0 {
		return errors.New("settle: maxFeePerGas must be a positive decimal integer of wei, e.g. 500000000000 (500 gwei)")
	}
	if c.Guardian != "" && !common.IsHexAddress(c.Guardian) {
		return errors.New("settle: guardian must be an address or empty")
	}
	if c.Confirmations == 0 {
		return errors.New("settle: confirmations must be at least 1")
	}
	if c.LogRange == 0 {
		return errors.New("settle: logRange must be at least 1 block")
	}
	if c.ActivationCheck <= 0 || c.StuckAfter <= 0 || c.TurnDelay <= 0 || c.QuorumTimeout <= 0 || c.CutMargin < 0 {
		return errors.New("settle: activationCheck, stuckAfter, turnDelay and quorumTimeout must be positive durations, e.g. 2s, 2m, 15s and 10m; cutMargin not negative")
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

// ErrContractMismatch means the configuration disagrees with the deployed
// distributor; the settler refuses to run.
var ErrContractMismatch = errors.New("settle: the configuration disagrees with the distributor")

// Settled tells of an epoch's settlement entering a state.
type Settled struct {
	Epoch    uint64
	State    tables.State
	Reason   string // why, for revoked and parked
	Accepted uint64
	Rejected map[string]uint64 // by reason; with Computed only
	// Stopped: the devices whose pay an information check stopped in the
	// epoch (device_scores.evidence), by reason; with Computed only.
	Stopped  map[string]uint64
	Emission *big.Int
	Accounts int
	Root     common.Hash
	Tx       common.Hash
	Block    uint64
	// SignedBy are the signers whose signatures proposed the root (with
	// Proposed, or Active when the same transaction activated it), of the
	// Threshold the distributor takes.
	SignedBy  []common.Address
	Threshold uint8
}

// Service is the settler: the one process that holds the poster key.
type Service struct {
	cfg      Config
	conn     driver.Conn
	client   chain.Backend
	key      *ecdsa.PrivateKey
	d        *distributor.RewardsDistributor
	dist     *bind.BoundContract
	emission *big.Int
	maxFee   *big.Int
	chainID  *big.Int
	// firstEpoch and timelock are the distributor's, read at start.
	firstEpoch uint64
	timelock   uint64
	domain     quorum.Domain // the distributor's EIP-712 domain
	v          voting
	st         *store
	idx        *Indexer
	log        *slog.Logger
	// OnSettled, if set, is called whenever an epoch's settlement enters a state.
	OnSettled func(Settled)
	held      uint64 // version of the hold last reported, so it is logged once
	// closeClient closes the RPC client New dialled.
	closeClient func()
}

// New creates the settler. conn is a migrated ClickHouse connection.
func New(ctx context.Context, cfg Config, conn driver.Conn, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client, err := chain.Dial(ctx, cfg.RPC)
	if err != nil {
		return nil, fmt.Errorf("settle: dial %s: %w", cfg.RPC, err)
	}
	s, err := NewWithBackend(ctx, cfg, conn, client, log)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.closeClient = client.Close
	return s, nil
}

// NewWithBackend creates the settler on a chain backend of the caller's
// (tests use go-ethereum's simulated one); cfg.RPC is not dialled. It reads
// the distributor's settings and refuses (ErrContractMismatch) a
// configuration that disagrees with them.
func NewWithBackend(ctx context.Context, cfg Config, conn driver.Conn, client chain.Backend, log *slog.Logger) (*Service, error) {
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
	maxFee, _ := new(big.Int).SetString(cfg.MaxFeePerGas, 10)
	d := distributor.NewRewardsDistributor()
	addr := common.HexToAddress(cfg.Distributor)
	st := &store{conn: conn}
	s := &Service{cfg: cfg, conn: conn, client: client, key: key, emission: emission, maxFee: maxFee, chainID: id, log: log,
		d: d, dist: d.Instance(client, addr), st: st, v: voting{published: map[common.Hash]bool{}, quorumAt: map[common.Hash]time.Time{}}, idx: newIndexer(st, client, addr, cfg.FromBlock, cfg.LogRange, log)}
	if err := s.checkContract(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// checkContract reads the distributor's immutable settings and compares them
// with the configuration.
func (s *Service) checkContract(ctx context.Context) error {
	code, err := s.client.CodeAt(ctx, s.distributor(), nil)
	if err != nil {
		return fmt.Errorf("settle: read the distributor's code: %w", err)
	}
	if len(code) == 0 {
		return fmt.Errorf("%w: no contract at %s on chain %s (wrong address or chain, or a chain that was reset)", ErrContractMismatch, s.cfg.Distributor, s.chainID)
	}
	call := &bind.CallOpts{Context: ctx}
	emission, err := bind.Call(s.dist, call, s.d.PackEmissionPerEpoch(), s.d.UnpackEmissionPerEpoch)
	if err != nil {
		return fmt.Errorf("settle: read emissionPerEpoch: %w", err)
	}
	if err := s.readSigners(ctx); err != nil {
		return err
	}
	signers, threshold := s.v.signers, s.v.threshold
	guardian, err := bind.Call(s.dist, call, s.d.PackGuardian(), s.d.UnpackGuardian)
	if err != nil {
		return fmt.Errorf("settle: read guardian: %w", err)
	}
	if s.firstEpoch, err = bind.Call(s.dist, call, s.d.PackFirstEpoch(), s.d.UnpackFirstEpoch); err != nil {
		return fmt.Errorf("settle: read firstEpoch: %w", err)
	}
	if s.timelock, err = bind.Call(s.dist, call, s.d.PackTimelock(), s.d.UnpackTimelock); err != nil {
		return fmt.Errorf("settle: read timelock: %w", err)
	}
	var diffs []error
	if emission.Cmp(s.emission) != 0 {
		diffs = append(diffs, fmt.Errorf("settle.emissionPerEpoch is %s, the distributor's emissionPerEpoch %s", s.emission, emission))
	}
	if me := chain.Address(s.key); !slices.Contains(signers, me) {
		diffs = append(diffs, fmt.Errorf("the poster key is %s's, which is not one of the distributor's %d signers", me.Hex(), len(signers)))
	}
	if s.cfg.Guardian != "" && guardian != common.HexToAddress(s.cfg.Guardian) {
		diffs = append(diffs, fmt.Errorf("settle.guardian is %s, the distributor's guardian %s", s.cfg.Guardian, guardian.Hex()))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %w", ErrContractMismatch, errors.Join(diffs...))
	}
	if s.domain, err = quorum.DomainOf(ctx, s.client, s.distributor()); err != nil {
		return err
	}
	s.log.Info("settle: distributor checked", "address", s.cfg.Distributor, "firstEpoch", s.firstEpoch, "timelock", s.timelock, "guardian", guardian.Hex(),
		"signers", len(signers), "threshold", threshold)
	return nil
}

// Run follows the chain and settles closed epochs until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.ActivationCheck)
	defer tick.Stop()
	// Steps fail while ClickHouse or the chain's RPC is away: the first
	// failure of a streak is logged, and the first success after it, not
	// every step in between.
	var failing time.Time
	failures := 0
	for {
		switch err := s.Step(ctx); {
		case ctx.Err() != nil:
		case err != nil && failures == 0:
			s.log.Warn("settle: step failed; retrying every activationCheck (logged again when a step succeeds)", "err", err)
			failing, failures = time.Now(), 1
		case err != nil:
			s.log.Debug("settle: step failed again", "err", err)
			failures++
		case failures > 0:
			s.log.Info("settle: steps succeed again", "failed", failures, "for", time.Since(failing).Round(time.Second))
			failures = 0
		}
		if _, err := s.RecordGauges(ctx); err != nil && ctx.Err() == nil && failures == 0 {
			s.log.Warn("settle: recording the gauges", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Step does one round: index the distributor's events, bring every
// settlement's state in line with them, and, unless a revoked or parked
// epoch holds settlement, compute the closed epochs and propose or activate
// a root.
func (s *Service) Step(ctx context.Context) error {
	if err := s.follow(ctx); err != nil {
		return err
	}
	if err := s.recordVotes(ctx); err != nil {
		return err
	}
	if held, err := s.holding(ctx); err != nil || held {
		return err
	}
	if err := s.computeClosed(ctx); err != nil {
		return err
	}
	sent, err := s.post(ctx)
	if err != nil || !sent {
		return err
	}
	return s.follow(ctx) // what was sent shows in the states at once
}

// follow indexes the chain and reconciles the states with it.
func (s *Service) follow(ctx context.Context) error {
	head, err := s.idx.Sync(ctx)
	if err != nil {
		return err
	}
	return s.reconcile(ctx, head)
}

// holding reports (and logs, once each) a revoked or parked epoch that stops
// settlement until an operator resumes.
func (s *Service) holding(ctx context.Context) (bool, error) {
	h, ok, err := s.st.hold(ctx)
	if err != nil || !ok {
		heldGauge.Record(ctx, 0)
		return false, err
	}
	heldGauge.Record(ctx, 1)
	if h.Version != s.held {
		s.held = h.Version
		s.log.Error("settle: settlement stopped until an operator resumes it (see the settler's README: fieldmint settle --resume-from N)",
			"epoch", h.Epoch, "status", h.State, "reason", h.Reason)
	}
	return true, nil
}

func (s *Service) distributor() common.Address { return common.HexToAddress(s.cfg.Distributor) }

func (s *Service) sendOptions() chain.SendOptions {
	return chain.SendOptions{StuckAfter: s.cfg.StuckAfter, MaxFeePerGas: s.maxFee}
}

func (s *Service) emit(st settlement, state tables.State, reason string, tx common.Hash, block uint64) {
	if s.OnSettled != nil {
		out := Settled{Epoch: st.Epoch, State: state, Reason: reason, Emission: st.Emission, Accounts: int(st.Accounts), Root: st.Root, Tx: tx, Block: block}
		if tx != (common.Hash{}) && (state == tables.Proposed || state == tables.Active) {
			out.SignedBy, out.Threshold = s.signedBy(tx, st.Epoch), s.v.threshold
		}
		s.OnSettled(out)
	}
}

// Close releases the RPC client.
func (s *Service) Close() {
	if s.closeClient != nil {
		s.closeClient()
	}
}
