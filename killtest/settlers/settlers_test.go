// Package settlers kills and alters independent `fieldmint settle`
// processes of a k-of-n signer set (docs/decentralization.md). Its own
// package, so that it runs beside killtest, not inside its long run.
package settlers

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/procs"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

// TestSettlerKilledMidEpoch: three `fieldmint settle` processes with their
// own keys and databases, one broker and one chain, two signatures a root.
// One settler is killed with SIGKILL once an epoch has closed: the other two
// still post it within the quorum time. Restarted, the killed one catches
// up from the chain's events and sends no transaction (nothing it would
// propose is missing from the chain).
func TestSettlerKilledMidEpoch(t *testing.T) {
	q := startQuorum(t)
	settlers := []*procs.Proc{q.settle(0), q.settle(1), q.settle(2)}
	for i := range q.keys {
		q.closeEpoch(i, 10, 3)
	}
	testenv.WaitFor(t, time.Minute, "epoch 10's root on chain", func() bool { return q.onChain(10) })

	// Epoch 11 closes everywhere; the third settler dies before it can vote.
	settlers[2].Kill()
	killedAt := q.nonce(2)
	for i := range q.keys {
		q.closeEpoch(i, 11, 3)
	}
	start := time.Now()
	testenv.WaitFor(t, 30*time.Second, "epoch 11's root on chain with one settler dead", func() bool { return q.onChain(11) })
	t.Logf("epoch 11 posted %s after it closed, by the two living settlers", time.Since(start).Round(100*time.Millisecond))

	settlers[2] = q.settle(2)
	testenv.WaitFor(t, time.Minute, "the restarted settler to catch up", func() bool { return q.posted(2, 11) })
	time.Sleep(2 * time.Second) // steps after catching up: nothing more to send
	if n := q.nonce(2); n != killedAt {
		t.Errorf("the restarted settler sent %d transactions; everything it would propose was on chain", n-killedAt)
	}
	for i := range 2 {
		if !q.posted(i, 11) {
			t.Errorf("settler %d: epoch 11 is %q", i, q.state(i, 11))
		}
	}
}

// TestSettlersOutvotedAndWithoutQuorum: the same three processes. One
// settler's database raises a score: the other two post their root without
// its signature, and it reports itself outvoted (its gauge, behind
// FieldmintOutvoted). Then another is killed: the one left cannot post, and
// its gauges pass the quorum timeout (FieldmintNoQuorum's condition). The
// killed one restarted, one root pays the missed epoch and the next.
func TestSettlersOutvotedAndWithoutQuorum(t *testing.T) {
	q := startQuorum(t)
	settlers := []*procs.Proc{q.settle(0), q.settle(1), q.settle(2)}
	for i := range q.keys {
		q.closeEpoch(i, 10, 3)
	}
	testenv.WaitFor(t, time.Minute, "epoch 10's root on chain", func() bool { return q.onChain(10) })

	q.closeEpoch(0, 11, 3)
	q.closeEpoch(1, 11, 3)
	q.closeEpoch(2, 11, 30) // alice did ten times the work, says this one
	testenv.WaitFor(t, time.Minute, "epoch 11 posted and the altered settler outvoted", func() bool {
		return q.onChain(11) && q.state(2, 11) == tables.Outvoted
	})
	if who := q.signedBy(11); len(who) != 2 || slices.Contains(who, q.signers[2]) {
		t.Errorf("epoch 11 signed by %v: want the two honest settlers, not %s", who, q.signers[2].Hex())
	}
	testenv.WaitFor(t, 10*time.Second, "the outvoted gauge", func() bool { return q.gauge(2, "fieldmint_settler_outvoted") == 1 })

	// The second honest settler dies: one honest signature is not enough.
	settlers[1].Kill()
	for i := range q.keys {
		q.closeEpoch(i, 12, 3)
	}
	testenv.WaitFor(t, 30*time.Second, "the remaining settler past its quorum timeout", func() bool {
		return q.state(0, 12) == tables.AwaitingQuorum &&
			q.gauge(0, "fieldmint_settler_awaiting_quorum_seconds") > q.gauge(0, "fieldmint_settler_quorum_timeout_seconds")
	})
	if q.onChain(12) {
		t.Fatal("epoch 12 posted with one honest signature")
	}

	// It comes back, and epoch 13 closes: one root pays both.
	for i := range q.keys {
		q.closeEpoch(i, 13, 3)
	}
	settlers[1] = q.settle(1)
	testenv.WaitFor(t, time.Minute, "epoch 13's root on chain", func() bool { return q.onChain(13) })
	testenv.WaitFor(t, 10*time.Second, "epoch 12 superseded", func() bool { return q.state(0, 12) == tables.Superseded })
	if n := q.proposals(12); n != 0 {
		t.Errorf("epoch 12 proposed %d times, want never: 13 carries it", n)
	}
}

// quorumRun is three settler processes' chain, distributor (2 of 3),
// broker, ClickHouse server (a database each) and configuration.
type quorumRun struct {
	t        *testing.T
	ctx      context.Context
	bin, dir string
	keys     []*ecdsa.PrivateKey
	signers  []common.Address
	conns    []driver.Conn
	cfgPath  string
	eclient  *ethclient.Client
	c        chain.Contracts
	base     time.Time // epochs are a second each from here, an hour ago
	metrics  []string  // each settler's metrics address
}

// settle starts settler i (not restarted when it exits: a test kills it).
func (q *quorumRun) settle(i int) *procs.Proc {
	pr, err := procs.Start(procs.Options{Name: fmt.Sprintf("settle-%d", i), Bin: q.bin, Args: []string{"settle"},
		Env: []string{"FIELDMINT_CONFIG=" + q.cfgPath, "FIELDMINT_CLICKHOUSE_DATABASE=" + fmt.Sprintf("op%d", i),
			"FIELDMINT_TELEMETRY_METRICSLISTEN=" + q.metrics[i], "FIELDMINT_SETTLE_POSTERKEY=" + hex.EncodeToString(crypto.FromECDSA(q.keys[i]))},
		Log: filepath.Join(q.dir, fmt.Sprintf("settle-%d.log", i))})
	if err != nil {
		q.t.Fatal(err)
	}
	q.t.Cleanup(pr.Stop)
	return pr
}

// closeEpoch records epoch closed and scored in settler i's database, as its
// aggregator would: alice's device scores aliceScore, bob's 1.
func (q *quorumRun) closeEpoch(i int, epoch uint64, aliceScore int) {
	end := q.base.Add(time.Duration(epoch+1) * time.Second)
	for _, s := range []string{
		fmt.Sprintf(`INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, score)
			VALUES (%d, 'd-a', '0x00000000000000000000000000000000000000A1', 'RESOURCE_KIND_WEATHER', 1, 1, 3, 0, 1, %d),
			       (%d, 'd-b', '0x00000000000000000000000000000000000000b0', 'RESOURCE_KIND_WEATHER', 1, 1, 1, 0, 1, 1)`, epoch, aliceScore, epoch),
		fmt.Sprintf("INSERT INTO epochs VALUES (%d, toDateTime64(%d, 3), toDateTime64(%d, 3), now64(3))", epoch, end.Unix()-1, end.Unix()),
		fmt.Sprintf("INSERT INTO scored_epochs VALUES (%d, now64(3))", epoch),
	} {
		deadline := time.Now().Add(time.Minute)
		for err := q.conns[i].Exec(q.ctx, s); err != nil; err = q.conns[i].Exec(q.ctx, s) {
			if time.Now().After(deadline) {
				q.t.Fatal(err) // not a server restarting: it would answer within a minute
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

func (q *quorumRun) state(i int, epoch uint64) tables.State {
	st, _, err := tables.SettlementOf(q.ctx, q.conns[i], epoch)
	if err != nil {
		return ""
	}
	return st.State
}

func (q *quorumRun) posted(i int, epoch uint64) bool {
	st := q.state(i, epoch)
	return st == tables.Active || st == tables.Final
}

func (q *quorumRun) onChain(epoch uint64) bool {
	r, err := chain.ReadRoots(q.ctx, q.eclient, q.c.Distributor)
	return err == nil && r.Epoch >= epoch
}

func (q *quorumRun) nonce(i int) uint64 {
	n, err := q.eclient.NonceAt(q.ctx, q.signers[i], nil)
	if err != nil {
		q.t.Fatal(err)
	}
	return n
}

// signedBy reads who signed epoch's proposal from its RootSigned event
// (the set is never rotated here).
func (q *quorumRun) signedBy(epoch uint64) []common.Address {
	d := distributor.NewRewardsDistributor()
	logs, err := q.eclient.FilterLogs(q.ctx, ethereum.FilterQuery{Addresses: []common.Address{q.c.Distributor}})
	if err != nil {
		q.t.Fatal(err)
	}
	var out []common.Address
	for _, l := range logs {
		if ev, err := d.UnpackRootSignedEvent(&l); err == nil && ev.Epoch == epoch {
			for i, s := range quorum.Sorted(q.signers) {
				if ev.SignedBy&(1<<i) != 0 {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// proposals counts epoch's RootProposed events.
func (q *quorumRun) proposals(epoch uint64) int {
	d := distributor.NewRewardsDistributor()
	logs, err := q.eclient.FilterLogs(q.ctx, ethereum.FilterQuery{Addresses: []common.Address{q.c.Distributor}})
	if err != nil {
		q.t.Fatal(err)
	}
	n := 0
	for _, l := range logs {
		if ev, err := d.UnpackRootProposedEvent(&l); err == nil && ev.Epoch == epoch {
			n++
		}
	}
	return n
}

// gauge scrapes settler i's /metrics for a metric without labels (-1: none).
func (q *quorumRun) gauge(i int, name string) float64 {
	resp, err := http.Get("http://" + q.metrics[i] + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && (f[0] == name || strings.HasPrefix(f[0], name+"{")) {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return -1
}

func startQuorum(t *testing.T) *quorumRun {
	if testing.Short() {
		t.Skip("runs settler processes for about half a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	dir := t.TempDir()
	bin := filepath.Join(dir, "fieldmint")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/fieldmint/fieldmint/cmd/fieldmint").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	deployer, _ := crypto.GenerateKey()
	keys := make([]*ecdsa.PrivateKey, 3)
	eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil)
	alloc := map[common.Address]*big.Int{chain.Address(deployer): eth}
	var signers []common.Address
	for i := range keys {
		keys[i], _ = crypto.GenerateKey()
		alloc[chain.Address(keys[i])] = eth
		signers = append(signers, chain.Address(keys[i]))
	}
	dc, err := devchain.Start(devchain.Options{Alloc: alloc, EmptyBlocks: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	eclient, err := dc.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eclient.Close)
	c, err := chain.Deploy(ctx, eclient, deployer, chain.Settings{Signers: signers, Threshold: 2, Guardian: chain.Address(deployer),
		EmissionPerEpoch: big.NewInt(1000), FirstEpoch: 10}, new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil))
	if err != nil {
		t.Fatal(err)
	}

	chTCP := port(t)
	// Restarted when it dies, as chDB's server does when a killed client's
	// connection resets under it.
	chp, err := procs.Start(procs.Options{Name: "clickhouse", Bin: bin, Args: []string{"clickhouse", "--path", filepath.Join(dir, "clickhouse"),
		"--tcp-port", strconv.Itoa(chTCP), "--http-port", strconv.Itoa(port(t))}, Log: filepath.Join(dir, "clickhouse.log"), Restart: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(chp.Stop)
	cfg := fmt.Sprintf(`log: {level: info}
kafka: {brokers: [%q], topicPrefix: "q.", partitions: 2}
clickhouse: {addr: "127.0.0.1:%d"}
aggregate: {allowedLateness: 0s}
settle: {rpc: %q, distributor: %q, fromBlock: %d, emissionPerEpoch: "1000", activationCheck: 300ms, turnDelay: 1s, cutMargin: 0s, quorumTimeout: 3s}
`, testenv.Kafka(t)[0], chTCP, dc.URL, c.Distributor.Hex(), c.Block)
	cfgPath := filepath.Join(dir, "quorum.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	conns := make([]driver.Conn, len(keys))
	for i := range keys {
		testenv.Eventually(t, time.Minute, 200*time.Millisecond, func() error {
			conns[i], err = clickhouse.OpenMigrated(ctx, clickhouse.Config{Addr: fmt.Sprintf("127.0.0.1:%d", chTCP), Database: fmt.Sprintf("op%d", i), Username: "default"})
			return err
		})
		t.Cleanup(func() { conns[i].Close() })
	}
	metrics := make([]string, len(keys))
	for i := range metrics {
		metrics[i] = fmt.Sprintf("127.0.0.1:%d", port(t))
	}
	return &quorumRun{t: t, ctx: ctx, bin: bin, dir: dir, keys: keys, signers: signers, conns: conns, cfgPath: cfgPath, eclient: eclient, c: c,
		base: time.Now().Add(-time.Hour).Truncate(time.Second), metrics: metrics}
}

func port(t *testing.T) int {
	p, err := freeport.Port("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMain(m *testing.M) { testenv.Main(m) }
