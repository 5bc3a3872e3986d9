package devstack

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/devbroker"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// DevKey derives a well-known development key. These keys are public by
// construction: never fund them anywhere but a dev chain.
func DevKey(name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("fieldmint-dev/" + name)))
	if err != nil {
		panic(err) // a keccak output is a valid key with overwhelming probability
	}
	return k
}

// Owner is a simulated owner with its dev key.
type Owner struct {
	Address    string `json:"address"`
	PrivateKey string `json:"privateKey"`
}

// Stack is the embedded infrastructure: broker, ClickHouse, chain, contracts.
type Stack struct {
	Config    Config // every role's configuration, pointing at this stack
	Kafka     *devbroker.Cluster
	CH        *chserver.Server
	Chain     *devchain.Chain
	Contracts chain.Contracts
	Owners    []Owner
	// Operators run the settlers that sign each root; Operators[0]'s
	// configuration is Config's.
	Operators []Operator
	ownerKeys []*ecdsa.PrivateKey
	admin     *Owner
	guardian  *Owner
	timelock  uint64
	threshold uint8
}

func devOwner(k *ecdsa.PrivateKey) *Owner {
	return &Owner{Address: chain.Address(k).Hex(), PrivateKey: "0x" + hex.EncodeToString(crypto.FromECDSA(k))}
}

// Info is what dev.json holds.
type Info struct {
	IngestURL      string   `json:"ingestURL"`
	MQTT           string   `json:"mqtt,omitempty"` // ingest's MQTT broker, tcp://HOST:PORT
	APIURL         string   `json:"apiURL"`
	RPCURL         string   `json:"rpcURL"`
	ChainID        string   `json:"chainId"`
	Distributor    string   `json:"distributor"`
	Token          string   `json:"token"`
	ClickHouseHTTP string   `json:"clickhouseHTTP"`
	KafkaBrokers   []string `json:"kafkaBrokers"`
	Owners         []Owner  `json:"owners"`
	// Admin may denylist devices (the dev key made one of ingest.admins when
	// none is configured).
	Admin *Owner `json:"admin,omitempty"`
	// Guardian may revoke a pending root (revokePendingRoot()) and pause
	// claims; Timelock is how long a proposed root waits, in seconds.
	Guardian *Owner `json:"guardian"`
	Timelock uint64 `json:"timelock"`
	// Maker attests the fleet's devices (registered with ingest by the dev
	// admin at start).
	Maker *MakerInfo `json:"maker"`
	// Settlers sign each root, Threshold of them together; each runs its
	// own validators, aggregator and proof API on its own database.
	Settlers  []Settler `json:"settlers"`
	Threshold uint8     `json:"threshold"`
	// LoRaWAN is where a ChirpStack network server sends its uplinks.
	LoRaWAN *LoRaWANInfo `json:"lorawan,omitempty"`
}

// LoRaWANInfo is the dev stack's LoRaWAN network server: ChirpStack's HTTP
// integration posts to URL with "Authorization: Bearer Token"; its MQTT
// integration connects to the MQTT broker as NetworkServer with Token as the
// password. Token is shown only when it is the dev stack's own (a fixed dev
// value, as the dev keys are).
type LoRaWANInfo struct {
	URL           string `json:"url"`
	NetworkServer string `json:"networkServer"`
	Token         string `json:"token,omitempty"`
}

// The dev stack's LoRaWAN network server, when none is configured.
const (
	DevNetworkServer      = "chirpstack-dev"
	DevNetworkServerToken = "dev-network-server-token"
)

// loRaWANInfo describes the first configured network server.
func loRaWANInfo(ingestURL string, servers []string) *LoRaWANInfo {
	if len(servers) == 0 {
		return nil
	}
	name, token, _ := strings.Cut(servers[0], "=")
	info := &LoRaWANInfo{URL: ingestURL + "/v1/lorawan/chirpstack", NetworkServer: name}
	if name == DevNetworkServer && token == DevNetworkServerToken {
		info.Token = token
	}
	return info
}

// DevUsers are the dev stack's ClickHouse users of database db, one per
// stage, each named <db>_<stage>_user with the stage's name as its
// password: the dev stack listens on loopback only. The analyst of the
// primary database is fieldmint_analyst_user, password analyst.
func DevUsers(db string) clickhouse.Users {
	a := func(stage string) clickhouse.Account {
		return clickhouse.Account{Username: db + "_" + stage + "_user", Password: stage}
	}
	return clickhouse.Users{Aggregate: a("aggregate"), Settle: a("settle"), API: a("api"), Analyst: a("analyst")}
}

// operatorDatabase is the database of operator i (0: the primary's).
func operatorDatabase(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + "_op" + strconv.Itoa(i)
}

// StartStack starts the infrastructure under cfg.Dev.DataDir (required) and
// returns it with a Config completed with its addresses and keys.
func StartStack(ctx context.Context, cfg Config, log *slog.Logger) (*Stack, error) {
	o := cfg.Dev
	if o.DataDir == "" {
		return nil, errors.New("dev: dataDir is required")
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var err error
	// Kafka: kfake, persisted in the data directory.
	// SyncWrites: a batch is on disk before the broker acknowledges it, so a
	// reading answered 2xx survives a power cut, not only a killed process.
	if s.Kafka, err = devbroker.Start(ctx, filepath.Join(o.DataDir, "kafka"), []int{o.KafkaPort}, true); err != nil {
		return nil, fmt.Errorf("dev: kafka on port %d: %w", o.KafkaPort, err)
	}
	cfg.Kafka.Brokers = s.Kafka.ListenAddrs()
	log.Info("dev: kafka up", "brokers", cfg.Kafka.Brokers, "crashedTransactionsAborted", s.Kafka.Aborted)

	// ClickHouse: a server process, with each operator's least-privilege
	// users (its users file is read once, at start).
	dbs := map[string]clickhouse.Users{}
	for i := range max(o.Settlers, 1) {
		db := operatorDatabase(cfg.ClickHouse.Database, i)
		dbs[db] = DevUsers(db)
	}
	cfg.ClickHouse.Users = dbs[cfg.ClickHouse.Database]
	if s.CH, err = chserver.Start(ctx, chserver.Options{Path: filepath.Join(o.DataDir, "clickhouse"), TCPPort: o.CHTCPPort, HTTPPort: o.CHHTTPPort, Restart: true,
		Users: clickhouse.AccessXML(dbs, cfg.ClickHouse.Analyst)}); err != nil {
		return nil, fmt.Errorf("dev: clickhouse: %w", err)
	}
	cfg.ClickHouse.Addr = s.CH.TCPAddr
	log.Info("dev: clickhouse up", "tcp", s.CH.TCPAddr, "http", s.CH.HTTPAddr)
	// What `fieldmint migrate` does before a deployment's roles start.
	conn, err := clickhouse.OpenMigrated(ctx, cfg.ClickHouse)
	if err != nil {
		return nil, fmt.Errorf("dev: migrate clickhouse: %w", err)
	}
	conn.Close()

	// The chain, with the deployer, the settlers and the owners funded.
	deployer, guardian := DevKey("deployer"), DevKey("guardian")
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil) // 10,000 ETH each
	alloc := map[common.Address]*big.Int{chain.Address(deployer): eth, chain.Address(guardian): eth}
	signers := signerAddresses(o.Settlers)
	for _, a := range signers {
		alloc[a] = eth
	}
	for i := 0; i < max(o.Owners, 1); i++ {
		k := DevKey("owner/" + strconv.Itoa(i))
		s.ownerKeys = append(s.ownerKeys, k)
		s.Owners = append(s.Owners, Owner{Address: chain.Address(k).Hex(), PrivateKey: "0x" + hex.EncodeToString(crypto.FromECDSA(k))})
		alloc[chain.Address(k)] = eth
	}
	if s.Chain, err = devchain.Start(devchain.Options{DataDir: filepath.Join(o.DataDir, "chain"), Port: o.RPCPort, Alloc: alloc}); err != nil {
		return nil, fmt.Errorf("dev: chain: %w", err)
	}
	emission, parsed := new(big.Int).SetString(cfg.Settle.EmissionPerEpoch, 10)
	if !parsed || emission.Sign() <= 0 {
		return nil, errors.New("dev: settle.emissionPerEpoch must be a positive decimal integer")
	}
	// The schedule starts with the epoch before this one: readings of the
	// epoch that just ended may still be paid. Roots wait dev.timelock.
	if o.Timelock < 0 || o.Timelock%time.Second != 0 {
		return nil, fmt.Errorf("dev: timelock must be whole seconds, e.g. 20s or 0s; got %s", o.Timelock)
	}
	settings := chain.Settings{Signers: signers, Threshold: uint8(o.Threshold), Guardian: chain.Address(guardian), EmissionPerEpoch: emission,
		FirstEpoch: cfg.Aggregate.Epoch(time.Now().UnixMilli()) - 1, Timelock: uint64(o.Timelock / time.Second)}
	if s.Contracts, err = s.deploy(ctx, filepath.Join(o.DataDir, "contracts.json"), deployer, settings); err != nil {
		return nil, err
	}
	if err := s.readSettings(ctx, settings.Timelock, log, deployer, guardian); err != nil {
		return nil, err
	}
	log.Info("dev: chain up", "rpc", s.Chain.URL, "distributor", s.Contracts.Distributor)
	cfg.Settle.RPC = s.Chain.URL
	cfg.Settle.Distributor = s.Contracts.Distributor.Hex()
	cfg.Settle.FromBlock = s.Contracts.Block
	if len(cfg.Ingest.Admins) == 0 {
		k := DevKey("admin")
		cfg.Ingest.Admins = []string{chain.Address(k).Hex()}
		s.admin = &Owner{Address: chain.Address(k).Hex(), PrivateKey: "0x" + hex.EncodeToString(crypto.FromECDSA(k))}
	}
	if s.Operators, err = operators(ctx, cfg.Config, o.Settlers); err != nil {
		return nil, err
	}
	cfg.Config = s.Operators[0].Config
	s.Config = cfg
	ok = true
	return s, nil
}

// deploy deploys the contracts once; later starts find them in contracts.json
// and check that the chain still has them.
func (s *Stack) deploy(ctx context.Context, path string, deployer *ecdsa.PrivateKey, settings chain.Settings) (chain.Contracts, error) {
	client, err := s.Chain.Client(ctx)
	if err != nil {
		return chain.Contracts{}, err
	}
	defer client.Close()
	var c chain.Contracts
	if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &c) == nil {
		if code, err := client.CodeAt(ctx, c.Distributor, nil); err == nil && len(code) > 0 {
			d := distributor.NewRewardsDistributor()
			have, err := bind.Call(d.Instance(client, c.Distributor), &bind.CallOpts{Context: ctx}, d.PackSigners(), d.UnpackSigners)
			if err != nil || !slices.Equal(have, quorum.Sorted(settings.Signers)) {
				return c, fmt.Errorf("dev: the contracts in %s were deployed by another fieldmint or for other settlers (--dev.settlers): delete %s to start anew", filepath.Dir(path), filepath.Dir(path))
			}
			return c, nil
		}
	}
	pool := new(big.Int).Exp(big.NewInt(10), big.NewInt(27), nil) // 1e9 tokens of 18 decimals
	if c, err = chain.Deploy(ctx, client, deployer, settings, pool); err != nil {
		return c, fmt.Errorf("dev: deploy contracts: %w", err)
	}
	raw, _ := json.MarshalIndent(c, "", "  ")
	return c, os.WriteFile(path, raw, 0o644)
}

// readSettings reads the deployed distributor's guardian and timelock: a
// data directory from an earlier start keeps the contracts it deployed,
// whatever dev.timelock now says.
func (s *Stack) readSettings(ctx context.Context, wantTimelock uint64, log *slog.Logger, keys ...*ecdsa.PrivateKey) error {
	client, err := s.Chain.Client(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	d := distributor.NewRewardsDistributor()
	inst := d.Instance(client, s.Contracts.Distributor)
	g, err := bind.Call(inst, &bind.CallOpts{Context: ctx}, d.PackGuardian(), d.UnpackGuardian)
	if err != nil {
		return fmt.Errorf("dev: read the distributor's guardian: %w", err)
	}
	if s.timelock, err = bind.Call(inst, &bind.CallOpts{Context: ctx}, d.PackTimelock(), d.UnpackTimelock); err != nil {
		return fmt.Errorf("dev: read the distributor's timelock: %w", err)
	}
	if s.threshold, err = bind.Call(inst, &bind.CallOpts{Context: ctx}, d.PackThreshold(), d.UnpackThreshold); err != nil {
		return fmt.Errorf("dev: read the distributor's threshold: %w", err)
	}
	if s.timelock != wantTimelock {
		log.Warn("dev: the contracts in the data directory were deployed with another timelock; delete the directory to deploy anew",
			"deployed", time.Duration(s.timelock)*time.Second, "asked", time.Duration(wantTimelock)*time.Second)
	}
	for _, k := range keys {
		if chain.Address(k) == g {
			s.guardian = devOwner(k)
		}
	}
	return nil
}

// Info describes the running stack for people and scripts.
func (s *Stack) Info() Info {
	return Info{
		IngestURL:      "http://" + s.Config.Ingest.Listen,
		MQTT:           mqttURL(s.Config.Ingest.MQTTListen),
		APIURL:         "http://" + s.Config.ProofAPI().Listen,
		RPCURL:         s.Chain.URL,
		ChainID:        devchain.ChainID.String(),
		Distributor:    s.Contracts.Distributor.Hex(),
		Token:          s.Contracts.Token.Hex(),
		ClickHouseHTTP: "http://" + s.CH.HTTPAddr,
		KafkaBrokers:   s.Config.Kafka.Brokers,
		Owners:         s.Owners,
		Admin:          s.admin,
		Guardian:       s.guardian,
		Timelock:       s.timelock,
		Maker:          makerInfo(DevMaker()),
		Settlers:       s.Settlers(),
		Threshold:      s.threshold,
		LoRaWAN:        loRaWANInfo("http://"+s.Config.Ingest.Listen, s.Config.Ingest.NetworkServers),
	}
}

func mqttURL(listen string) string {
	if listen == "" {
		return ""
	}
	return "tcp://" + listen
}

// OwnerAddresses returns the simulated owners' addresses.
func (s *Stack) OwnerAddresses() []common.Address {
	out := make([]common.Address, len(s.ownerKeys))
	for i, k := range s.ownerKeys {
		out[i] = chain.Address(k)
	}
	return out
}

// OwnerSigners returns the simulated owners as signers of registrations.
func (s *Stack) OwnerSigners() []client.Owner {
	out := make([]client.Owner, len(s.ownerKeys))
	for i, k := range s.ownerKeys {
		out[i] = client.OwnerKey(k)
	}
	return out
}

// Close stops everything; safe on a partly started stack.
func (s *Stack) Close() {
	if s.Chain != nil {
		s.Chain.Close()
	}
	if s.CH != nil {
		s.CH.Stop()
	}
	if s.Kafka != nil {
		s.Kafka.Close()
	}
}
