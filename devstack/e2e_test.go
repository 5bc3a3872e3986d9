package devstack

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/chserver"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/roles"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

func TestMain(m *testing.M) {
	chserver.ServeIfChild()
	os.Exit(m.Run())
}

type device struct {
	id  string
	key ed25519.PrivateKey
	lat int32 // asserted latitude (1e-7 degrees); longitude -9.1
}

func newDevice(id string, lat int32) device {
	_, k, _ := ed25519.GenerateKey(nil)
	return device{id: id, key: k, lat: lat}
}

// register registers d as a weather station at its asserted location,
// attested by the dev maker and owned by owner.
func (d device) register(t *testing.T, ctx context.Context, c *client.Client, owner client.Owner) {
	t.Helper()
	pub := d.key.Public().(ed25519.PublicKey)
	if err := c.Register(ctx, &pb.Device{DeviceId: d.id, PublicKey: pub, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Location: &pb.Location{LatE7: d.lat, LonE7: -91_000_000}}, d.key, DevMaker().Attest(pub, pb.ResourceKind_RESOURCE_KIND_WEATHER), owner); err != nil {
		t.Fatal(err)
	}
}

// weatherScoring writes a scoring file in which weather readings a second
// apart each count (an interval of 1 s) and carry only the temperature.
func weatherScoring(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "scoring.yaml")
	// The information checks are off: these devices send made-up weather
	// a few seconds long (TestSimulateReport runs the checks).
	policy := "kinds:\n  weather: {interval: 1s, weight: 1000, cellResolution: 8, measurements: {temperature_c: 50}}\ninformation: {back: 0s, ahead: 0s}\n"
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (d device) reading(t *testing.T, seq uint64, eventMs int64, temp int64) *pb.SignedReading {
	s, err := pb.Sign(&pb.Reading{DeviceId: d.id, Seq: seq, EventTimeMs: eventMs, Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": temp}, Location: &pb.Location{LatE7: d.lat + 100, LonE7: -91_000_100}}, d.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startPipeline starts the embedded stack with short epochs and every role
// on it, all stopped with the test, and waits for ingest. edit may change
// the configuration first; onSettled hears of settled epochs (nil: none).
func startPipeline(t *testing.T, ctx context.Context, owners int, edit func(*Config), onSettled func(settler.Settled)) *Stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DevDefaults()
	cfg.Dev = Options{DataDir: t.TempDir(), Owners: owners}
	cfg.Ingest.Listen, cfg.API.Listen, cfg.Ingest.MQTTListen = freeport.Addr(), freeport.Addr(), freeport.Addr()
	cfg.Aggregate.EpochLength = 10 * time.Second
	cfg.Aggregate.AllowedLateness = time.Second
	// When the readings that close an epoch are all rejected, the valid
	// partitions go idle, and time follows the rejected ones.
	cfg.Aggregate.IdleTimeout = 2 * time.Second
	cfg.Aggregate.FlushInterval = 100 * time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	stack, err := StartStack(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	for _, r := range stack.Runs() {
		// Each stage connects as its own least-privilege user: the shared
		// user is one that does not exist, so a stage that fell back to it
		// could not connect.
		r.Config.ClickHouse.Username, r.Config.ClickHouse.Password = "no_such_user", ""
		o := roles.Options{OnSettled: onSettled}
		if r.Operator != 0 {
			o = roles.Options{}
		}
		testenv.Go(t, func(ctx context.Context) error { return r.Role.Run(ctx, r.Config, o, log) })
	}
	if err := waitHTTP(ctx, stack.Info().IngestURL+"/healthz"); err != nil {
		t.Fatal(err)
	}
	if err := stack.AddMaker(ctx); err != nil {
		t.Fatal(err)
	}
	return stack
}

// TestEndToEnd: signed readings over HTTP -> validated -> ClickHouse -> epoch
// closed -> root on chain -> claimed, on kfake, a ClickHouse server and a dev
// chain. A forged reading is refused by ingest, a replayed one rejected by
// the validators; neither earns anything.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := startE2E(t, ctx)
	e.sendEpoch()
	got := e.settleEpoch()
	e.checkStored(got)
	e.checkRegistry()
	t.Run("cookbook", func(t *testing.T) { checkCookbook(t, ctx, e.conn) })
	t.Run("analyst", func(t *testing.T) { checkAnalyst(t, ctx, e.stack.Config.ClickHouse) })
	e.claimAll()
	e.checkVerifyEpoch(got)
	after, _ := chain.TokenBalance(ctx, mustClient(t, ctx, e.stack), e.stack.Contracts.Token, e.stack.Contracts.Distributor)
	if paid := new(big.Int).Sub(e.dist, after); paid.Cmp(new(big.Int).Mul(big.NewInt(5), token)) != 0 {
		t.Errorf("distributor paid %s in all, want exactly the emission 5e18", paid)
	}
}

// token is one token in base units.
var token = big.NewInt(1_000_000_000_000_000_000)

// e2e is TestEndToEnd's pipeline, its devices and what the test expects.
type e2e struct {
	t                   *testing.T
	ctx                 context.Context
	stack               *Stack
	info                Info
	conn                driver.Conn
	settled             chan settler.Settled
	ingest              *client.Client
	owners              []common.Address
	a, b, cheat, ticker device
	epoch               uint64
	want                map[common.Address]*big.Int // what each owner is paid
	dist                *big.Int                    // the distributor's balance before the claims
}

// startE2E starts the pipeline (5 tokens per epoch; readings a second apart
// each count: a weather interval of 1 s, the readings carrying only the
// temperature, docs/scoring.md) and registers the devices.
func startE2E(t *testing.T, ctx context.Context) *e2e {
	e := &e2e{t: t, ctx: ctx, settled: make(chan settler.Settled, 10)}
	scoring := weatherScoring(t)
	e.stack = startPipeline(t, ctx, 3, func(cfg *Config) {
		cfg.Settle.EmissionPerEpoch = "5000000000000000000"
		cfg.Aggregate.ScoringFile = scoring
		// As fieldmint dev by default: three operators, each computing
		// from the shared raw log on its own database, two signing a root.
		cfg.Dev.Settlers, cfg.Dev.Threshold = 3, 2
		cfg.Settle.TurnDelay, cfg.Settle.CutMargin = 2*time.Second, 0
	}, func(s settler.Settled) { e.settled <- s })
	e.info = e.stack.Info()
	e.owners = e.stack.OwnerAddresses()
	signers := e.stack.OwnerSigners()
	e.ingest = &client.Client{URL: e.info.IngestURL}
	// 11 km apart: each in a scoring cell of its own (docs/scoring.md).
	e.a, e.b, e.cheat = newDevice("a", 387_000_000), newDevice("b", 388_000_000), newDevice("cheat", 389_000_000)
	e.ticker = newDevice("ticker", 386_000_000) // moves time on; its readings are all rejected
	for i, d := range []device{e.a, e.b, e.cheat, e.ticker} {
		d.register(t, ctx, e.ingest, signers[i%3])
	}
	length := e.stack.Config.Aggregate.EpochLength.Milliseconds()
	e.epoch = uint64(time.Now().UnixMilli()/length) - 1
	conn, err := clickhouse.Open(ctx, e.stack.Config.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e.conn = conn
	// The expected split, from what is sent: a's 3 intervals to b's 2 of 5
	// tokens; the cheat's replay is fraud-class, so its epoch is forfeited
	// and its owner gets nothing (docs/scoring.md).
	e.want = map[common.Address]*big.Int{e.owners[0]: new(big.Int).Mul(big.NewInt(3), token), e.owners[1]: new(big.Int).Mul(big.NewInt(2), token)}
	return e
}

// at is the k-th second of the test's epoch: readings a second apart, as
// the validators require.
func (e *e2e) at(k int64) int64 {
	return int64(e.epoch)*e.stack.Config.Aggregate.EpochLength.Milliseconds() + 1000*k
}

// send posts readings in wire format v1, as old firmware sends them,
// through the whole pipeline.
func (e *e2e) send(rs ...*pb.SignedReading) error { _, err := e.ingest.SendV1(e.ctx, rs); return err }

func (e *e2e) count(q string, args ...any) uint64 {
	var n uint64
	if err := e.conn.QueryRow(e.ctx, q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// sendEpoch sends the epoch's readings: a, 3 valid; b, 2; cheat, 1 valid,
// then a replay of its sequence number and a forgery; and waits until the
// seven accepted are stored.
func (e *e2e) sendEpoch() {
	t, a, b, cheat := e.t, e.a, e.b, e.cheat
	if err := e.send(a.reading(t, 1, e.at(1), 20_000), a.reading(t, 2, e.at(2), 20_100), a.reading(t, 3, e.at(3), 20_200)); err != nil {
		t.Fatal(err)
	}
	if err := e.send(b.reading(t, 1, e.at(1), 19_000), b.reading(t, 2, e.at(2), 19_100)); err != nil {
		t.Fatal(err)
	}
	if err := e.send(cheat.reading(t, 7, e.at(1), 18_000)); err != nil {
		t.Fatal(err)
	}
	if err := e.send(cheat.reading(t, 7, e.at(4), 35_000)); err != nil { // replay: same seq, other content
		t.Fatalf("ingest must accept a well-signed replay (validators judge it): %v", err)
	}
	forged := cheat.reading(t, 8, e.at(5), 18_000)
	forged.Signature[0] ^= 1
	var refused *client.Error
	if err := e.send(forged); !errors.As(err, &refused) || refused.Code != "BAD_SIGNATURE" || refused.Status != 401 {
		t.Fatalf("forged reading: %v, want 401 BAD_SIGNATURE", err)
	}
	testenv.WaitFor(t, time.Minute, "the seven accepted readings in ClickHouse", func() bool { return e.count("SELECT count() FROM readings") >= 7 })
}

// settleEpoch sends readings in the present from the ticker, which move
// the watermark past the epoch's end and past the two epochs its scores are
// held for: it closes, is scored, computed and its root made active. They
// are out of range, so rejected: they earn nothing, and no later epoch gets
// a root while the owners claim. It returns the computed report.
func (e *e2e) settleEpoch() settler.Settled {
	t := e.t
	var got, active settler.Settled
	for seq := uint64(100); active.Epoch == 0; seq++ {
		if err := e.send(e.ticker.reading(t, seq, time.Now().UnixMilli(), 99_000)); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-e.settled:
			switch {
			case s.Epoch != e.epoch:
				t.Fatalf("settled epoch %d (%s), want %d", s.Epoch, s.State, e.epoch)
			case s.State == tables.Computed:
				got = s
			case s.State == tables.Active:
				active = s
			}
		case <-time.After(500 * time.Millisecond):
		case <-e.ctx.Done():
			t.Fatal("epoch never settled")
		}
	}
	if got.Epoch != e.epoch || active.Root != got.Root {
		t.Fatalf("computed %+v, active %+v: want epoch %d computed, then its root active", got, active, e.epoch)
	}
	if len(active.SignedBy) < 2 || active.Threshold != 2 {
		t.Errorf("the root was signed by %v (threshold %d): want two of the three operators' settlers", active.SignedBy, active.Threshold)
	}
	if got.Accepted != 6 {
		t.Errorf("epoch accepted %d readings, want 6", got.Accepted)
	}
	return got
}

// checkStored checks ClickHouse's readings and the tree the proof API
// serves against what was sent.
func (e *e2e) checkStored(got settler.Settled) {
	t := e.t
	if n := e.count("SELECT count() FROM (SELECT device_id, seq, reason FROM readings GROUP BY ALL HAVING count() > 1)"); n != 0 {
		t.Errorf("%d readings stored twice", n)
	}
	if n := e.count("SELECT count() FROM readings WHERE seq < 100"); n != 7 {
		t.Errorf("%d of the 7 accepted readings are in ClickHouse", n)
	}
	if n := e.count("SELECT count() FROM rejections WHERE device_id = 'cheat' AND reason = 'SEQUENCE_REPLAY' AND seq = 7"); n != 1 {
		t.Errorf("replay rejections: %d, want 1", n)
	}
	if n := e.count("SELECT count() FROM readings WHERE device_id = 'cheat' AND seq = 8"); n != 0 {
		t.Errorf("the forged reading reached ClickHouse")
	}
	var err error
	if e.dist, err = chain.TokenBalance(e.ctx, mustClient(t, e.ctx, e.stack), e.stack.Contracts.Token, e.stack.Contracts.Distributor); err != nil {
		t.Fatal(err)
	}
	// The proof API serves a tree whose root is the one on chain.
	resp, err := http.Get(e.info.APIURL + "/v1/epochs/" + strconv.FormatUint(e.epoch, 10) + "/tree")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("tree: %v %v", err, resp)
	}
	var dump merkle.Dump
	json.NewDecoder(resp.Body).Decode(&dump)
	resp.Body.Close()
	if len(dump.Tree) == 0 || dump.Tree[0] != got.Root.Hex() || dump.Format != "standard-v1" || len(dump.Values) != 2 {
		t.Fatalf("tree dump %+v does not match root %s", dump, got.Root.Hex())
	}
}

// checkRegistry checks the aggregators' mirror of the registry, for
// analysts, and an admin's denylisting in it.
func (e *e2e) checkRegistry() {
	t := e.t
	testenv.WaitFor(t, time.Minute, "the four devices active in devices_current", func() bool {
		return e.count("SELECT count() FROM devices_current WHERE active") >= 4
	})
	for i, d := range []device{e.a, e.b, e.cheat} {
		if n := e.count("SELECT count() FROM devices_current WHERE device_id = ? AND owner = ? AND public_key = ? AND maker_id = ?",
			d.id, e.owners[i].Hex(), fmt.Sprintf("%x", d.key.Public().(ed25519.PublicKey)), DevMaker().ID); n != 1 {
			t.Errorf("device %s: %d rows in devices_current, want 1 with its owner, key and maker", d.id, n)
		}
		// The maker's attestation, kept for auditors (docs/audit.md).
		pub := d.key.Public().(ed25519.PublicKey)
		if n := e.count("SELECT count() FROM devices FINAL WHERE device_id = ? AND attestation = ?", d.id,
			fmt.Sprintf("%x", DevMaker().Attest(pub, pb.ResourceKind_RESOURCE_KIND_WEATHER).Signature)); n != 1 {
			t.Errorf("device %s: %d registry rows with the dev maker's attestation of its key, want 1", d.id, n)
		}
	}
	adminKey, err := chain.ParseKey(e.info.Admin.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ingest.Deny(e.ctx, e.cheat.id, "future-dated readings", client.OwnerKey(adminKey)); err != nil {
		t.Fatalf("denylisting: %v", err)
	}
	testenv.WaitFor(t, time.Minute, "the cheat denylisted in devices_current, with the reason", func() bool {
		return e.count("SELECT count() FROM devices_current WHERE denied AND denied_reason = 'future-dated readings' AND device_id = ?", e.cheat.id) == 1
	})
}
