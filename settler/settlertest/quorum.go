package settlertest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// Quorum is n independent settlers of one distributor whose roots take k of
// their signatures: one dev chain and one Kafka broker shared, and each
// settler with its own key, its own ClickHouse database and its own view of
// the votes topic, as n operators run them.
type Quorum struct {
	Settlers []*Env
	Keys     []*ecdsa.PrivateKey // Keys[i] is Settlers[i]'s, ascending by address
	Kafka    kafka.Config
	Domain   quorum.Domain
	base     time.Time // epochs are a second each from here, an hour ago
}

// NewQuorum deploys a k-of-n distributor (1000 per epoch from epoch 10, no
// timelock) and starts n settlers, turnDelay apart in their turn order.
func NewQuorum(t testing.TB, n, k int, turnDelay time.Duration) *Quorum {
	ctx := context.Background()
	deployer, _ := crypto.GenerateKey()
	keys := make([]*ecdsa.PrivateKey, n)
	sorted := make([]common.Address, n)
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
	}
	slices.SortFunc(keys, func(a, b *ecdsa.PrivateKey) int { return chain.Address(a).Cmp(chain.Address(b)) })
	for i := range keys {
		sorted[i] = chain.Address(keys[i])
	}
	dc, client := startChain(t, append([]*ecdsa.PrivateKey{deployer}, keys...)...)
	c, err := chain.Deploy(ctx, client, deployer, chain.Settings{Signers: sorted, Threshold: uint8(k), Guardian: chain.Address(deployer),
		EmissionPerEpoch: big.NewInt(1000), FirstEpoch: 10}, new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil))
	if err != nil {
		t.Fatal(err)
	}
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "fm.", Partitions: 3}
	if err := kafka.EnsureTopics(ctx, kc); err != nil {
		t.Fatal(err)
	}
	server := testenv.ClickHouse(t)
	q := &Quorum{Keys: keys, Kafka: kc, base: time.Now().Add(-time.Hour).Truncate(time.Second).UTC()}
	for i, key := range keys {
		conn, err := clickhouse.OpenMigrated(ctx, clickhouse.Config{Addr: server.TCPAddr, Database: fmt.Sprintf("settler_%d", i), Username: "default"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		cfg := settler.DefaultConfig()
		cfg.Distributor, cfg.EmissionPerEpoch, cfg.RPC = c.Distributor.Hex(), "1000", dc.URL
		cfg.PosterKey = hex.EncodeToString(crypto.FromECDSA(key))
		cfg.TurnDelay, cfg.CutMargin = turnDelay, 0
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		svc, err := settler.NewWithBackend(ctx, cfg, conn, client, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.Close)
		q.Domain = svc.Domain()
		x, err := quorum.NewExchange(kc, q.Domain, log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.Close)
		svc.UseExchange(x, 0)
		q.Settlers = append(q.Settlers, &Env{Svc: svc, Conn: conn, Client: client, Poster: chain.Address(key), PosterKey: key,
			Guardian: deployer, Contracts: c, Config: cfg, DC: dc})
	}
	return q
}

// End is where epoch ends: epochs are a second each from an hour ago (so
// that their cuts are final), the same for every settler.
func (q *Quorum) End(epoch uint64) time.Time { return q.base.Add(time.Duration(epoch+1) * time.Second) }

// Close records epoch closed, and scores (owner -> score) released, in
// settler i's database, as that operator's aggregator does.
func (q *Quorum) Close(t testing.TB, i int, epoch uint64, scores map[string]uint64) {
	e := q.Settlers[i]
	e.Scores(t, epoch, scores)
	e.Exec(t, "INSERT INTO epochs VALUES (?, ?, ?, now64(3))", epoch, q.End(epoch).Add(-time.Second), q.End(epoch))
	e.Exec(t, "INSERT INTO scored_epochs VALUES (?, now64(3))", epoch)
}

// Signers reads the distributor's signer set.
func Signers(t testing.TB, e *Env) []common.Address {
	t.Helper()
	d := distributor.NewRewardsDistributor()
	s, err := bind.Call(d.Instance(e.Client, e.Contracts.Distributor), nil, d.PackSigners(), d.UnpackSigners)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
