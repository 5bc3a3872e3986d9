package killtest

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/internal/procs"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// TestSettlerKilledMidEpoch: three `fieldmint settle` processes with their
// own keys and databases, one broker and one chain, two signatures a root.
// One settler is killed with SIGKILL once an epoch has closed: the other two
// still post it within the quorum time. Restarted, the killed one catches
// up from the chain's events and sends no transaction (nothing it would
// propose is missing from the chain).
func TestSettlerKilledMidEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs settler processes for about half a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := &pipeline{t: t, ctx: ctx, dir: t.TempDir()}
	p.build()

	q := startQuorum(t, ctx, p)
	keys, signers, conns, cfgPath, eclient, c := q.keys, q.signers, q.conns, q.cfgPath, q.eclient, q.c
	settle := func(i int) *procs.Proc {
		pr, err := procs.Start(procs.Options{Name: fmt.Sprintf("settle-%d", i), Bin: p.bin, Args: []string{"settle"},
			Env: []string{"FIELDMINT_CONFIG=" + cfgPath, "FIELDMINT_CLICKHOUSE_DATABASE=" + fmt.Sprintf("op%d", i),
				"FIELDMINT_SETTLE_POSTERKEY=" + hex.EncodeToString(crypto.FromECDSA(keys[i]))},
			Log: filepath.Join(p.dir, fmt.Sprintf("settle-%d.log", i))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pr.Stop)
		return pr
	}
	settlers := []*procs.Proc{settle(0), settle(1), settle(2)}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	closeEpoch := func(i int, epoch uint64) {
		end := base.Add(time.Duration(epoch+1) * time.Second)
		for _, q := range []string{
			fmt.Sprintf(`INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, score)
				VALUES (%d, 'd-a', '0x00000000000000000000000000000000000000A1', 'RESOURCE_KIND_WEATHER', 1, 1, 3, 0, 1, 3),
				       (%d, 'd-b', '0x00000000000000000000000000000000000000b0', 'RESOURCE_KIND_WEATHER', 1, 1, 1, 0, 1, 1)`, epoch, epoch),
			fmt.Sprintf("INSERT INTO epochs VALUES (%d, toDateTime64(%d, 3), toDateTime64(%d, 3), now64(3))", epoch, end.Unix()-1, end.Unix()),
			fmt.Sprintf("INSERT INTO scored_epochs VALUES (%d, now64(3))", epoch),
		} {
			if err := conns[i].Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	stateOf := func(i int, epoch uint64) tables.State {
		st, _, err := tables.SettlementOf(ctx, conns[i], epoch)
		if err != nil {
			return ""
		}
		return st.State
	}
	onChain := func(epoch uint64) bool {
		r, err := chain.ReadRoots(ctx, eclient, c.Distributor)
		return err == nil && r.Epoch >= epoch
	}
	nonce := func(i int) uint64 {
		n, err := eclient.NonceAt(ctx, signers[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	for i := range keys {
		closeEpoch(i, 10)
	}
	testenv.WaitFor(t, time.Minute, "epoch 10's root on chain", func() bool { return onChain(10) })

	// Epoch 11 closes everywhere; the third settler dies before it can vote.
	settlers[2].Kill()
	killedAt := nonce(2)
	for i := range keys {
		closeEpoch(i, 11)
	}
	start := time.Now()
	testenv.WaitFor(t, 30*time.Second, "epoch 11's root on chain with one settler dead", func() bool { return onChain(11) })
	t.Logf("epoch 11 posted %s after it closed, by the two living settlers", time.Since(start).Round(100*time.Millisecond))

	settlers[2] = settle(2)
	testenv.WaitFor(t, time.Minute, "the restarted settler to catch up", func() bool {
		st := stateOf(2, 11)
		return st == tables.Active || st == tables.Final
	})
	time.Sleep(2 * time.Second) // steps after catching up: nothing more to send
	if n := nonce(2); n != killedAt {
		t.Errorf("the restarted settler sent %d transactions; everything it would propose was on chain", n-killedAt)
	}
	for i := range 2 {
		if st := stateOf(i, 11); !slices.Contains([]tables.State{tables.Active, tables.Final}, st) {
			t.Errorf("settler %d: epoch 11 is %q", i, st)
		}
	}
}

// quorumRun is TestSettlerKilledMidEpoch's chain, distributor (2 of 3) and
// databases, and the configuration the settlers read.
type quorumRun struct {
	keys    []*ecdsa.PrivateKey
	signers []common.Address
	conns   []driver.Conn
	cfgPath string
	eclient *ethclient.Client
	c       chain.Contracts
}

func startQuorum(t *testing.T, ctx context.Context, p *pipeline) *quorumRun {
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
	p.start("clickhouse", "clickhouse", "--path", filepath.Join(p.dir, "clickhouse"), "--tcp-port", strconv.Itoa(chTCP), "--http-port", strconv.Itoa(port(t)))
	cfg := fmt.Sprintf(`log: {level: info}
kafka: {brokers: [%q], topicPrefix: "q.", partitions: 2}
clickhouse: {addr: "127.0.0.1:%d"}
aggregate: {allowedLateness: 0s}
settle: {rpc: %q, distributor: %q, fromBlock: %d, emissionPerEpoch: "1000", activationCheck: 300ms, turnDelay: 1s, cutMargin: 0s, quorumTimeout: 30s}
telemetry: {metricsListen: ""}
`, testenv.Kafka(t)[0], chTCP, dc.URL, c.Distributor.Hex(), c.Block)
	cfgPath := filepath.Join(p.dir, "quorum.yaml")
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
	return &quorumRun{keys: keys, signers: signers, conns: conns, cfgPath: cfgPath, eclient: eclient, c: c}
}
