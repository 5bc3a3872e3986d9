package killtest

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
)

// TestDevStackSurvivesKill9 runs `fieldmint dev` (broker, ClickHouse server,
// dev chain, every role and a small honest fleet, with a timelock) as its
// own process group and kills the whole group with SIGKILL several times
// while readings stream in, restarting it on the same data directory each
// time. It comes back every time with the same contracts and every root it
// had on chain; every reading answered 2xx is stored exactly once; the
// fleet's sequence numbers never go back (no SEQUENCE_REPLAY); nothing is
// parked; and verify-epoch passes for every settled epoch.
func TestDevStackSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills the dev stack for about two minutes")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	p := &pipeline{t: t, ctx: ctx, dir: t.TempDir(), pace: stepPace, steps: steps}
	dev, data, tcp, rpcURL := startDev(p)
	contracts := readContracts(t, data)
	eclient, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer eclient.Close()
	d := distributor.NewRewardsDistributor()
	// onChain reads the distributor's active epoch, checking the contracts
	// are still the ones first deployed; it retries while the stack restarts.
	onChain := func() uint64 {
		for {
			if c := readContracts(t, data); c.Distributor != contracts.Distributor || c.Token != contracts.Token {
				p.fail("after a restart the contracts are %+v, first deployed %+v", c, contracts)
			}
			code, err := eclient.CodeAt(ctx, contracts.Distributor, nil)
			if err == nil && len(code) == 0 {
				p.fail("the distributor's code is gone after a restart: the chain came back without it")
			}
			if err == nil {
				if e, err := bind.Call(d.Instance(eclient, contracts.Distributor), &bind.CallOpts{Context: ctx}, d.PackEpoch(), d.UnpackEpoch); err == nil {
					return e
				}
			}
			if ctx.Err() != nil {
				p.fail("the dev chain never came back")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	var kills int
	var before uint64
	p.stream(func(step int) {
		if step%15 != 14 {
			return
		}
		before = onChain()
		dev.Kill()
		kills++
		t.Logf("%s: kill -9 of the dev stack's process group #%d (distributor at epoch %d)", time.Now().Format("15:04:05.000"), kills, before)
		if after := onChain(); after < before {
			p.fail("after kill #%d the distributor is at epoch %d, before it %d: a root was lost", kills, after, before)
		}
	})

	settled, duplicates := checkDevStore(p, tcp, eclient, contracts)
	t.Logf("survived %d kills: %d readings stored once each, %d retried deliveries stored as DUPLICATE; %d epochs settled and verified; distributor at epoch %d",
		kills, (p.steps+1)*devices, duplicates, settled, onChain())
}

// checkDevStore waits for the dev stack to settle the stream's last epoch,
// then checks every reading answered 2xx is stored once, the fleet's
// sequence numbers never went back, nothing is parked, and verify-epoch
// passes for every settled epoch. It returns how many epochs settled and
// how many retried deliveries were stored as DUPLICATE.
func checkDevStore(p *pipeline, tcp int, eclient *ethclient.Client, contracts chain.Contracts) (int, uint64) {
	t, ctx := p.t, p.ctx
	conn, err := ch.Open(&ch.Options{Addr: []string{fmt.Sprintf("127.0.0.1:%d", tcp)}, Auth: ch.Auth{Database: "fieldmint"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	count := func(q string, args ...any) (n uint64) {
		if err := reread(ctx, func() error { return conn.QueryRow(ctx, q, args...).Scan(&n) }); err != nil {
			p.fail("%s: %v", q, err)
		}
		return n
	}
	epochs := uint64(p.steps / 10)
	last := p.firstEpoch + epochs - 1
	epochsIn := func(set tables.StateSet, from uint64) (eps []uint64) {
		if err := reread(ctx, func() (err error) { eps, err = tables.EpochsIn(ctx, conn, set, from); return err }); err != nil {
			p.fail("settlements: %v", err)
		}
		return eps
	}
	testenv.WaitFor(t, time.Until(deadlineOf(ctx)), fmt.Sprintf("epoch %d active", last), func() bool {
		return len(epochsIn(tables.StateSet{tables.Active, tables.Final}, last)) > 0
	})
	total := uint64((p.steps + 1) * devices)
	if n := count("SELECT count() FROM (SELECT DISTINCT device_id, seq FROM readings WHERE device_id LIKE 'ws-%')"); n != total {
		p.fail("%d distinct readings of the test's devices in ClickHouse, want %d", n, total)
	}
	if n := count("SELECT count() FROM readings WHERE device_id LIKE 'ws-%' AND reason != 'DUPLICATE'"); n != total {
		p.fail("%d decisions on the test's readings, want one per reading: %d", n, total)
	}
	if n := count("SELECT count() FROM (SELECT kafka_topic, kafka_partition, kafka_offset FROM readings GROUP BY ALL HAVING count() > 1)"); n != 0 {
		p.fail("%d Kafka records stored twice", n)
	}
	if n := count("SELECT count() FROM readings WHERE reason = 'SEQUENCE_REPLAY'"); n != 0 {
		p.fail("%d readings judged SEQUENCE_REPLAY: the fleet's sequence numbers went back after a restart", n)
	}
	if held := epochsIn(tables.Holding, 0); len(held) != 0 {
		p.fail("epochs %v parked or revoked", held)
	}
	settled := epochsIn(tables.Posted, 0)
	for _, e := range settled {
		v, err := settler.VerifyEpoch(ctx, conn, e, settler.RootsFromLogs(eclient, contracts.Distributor), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Differences) > 0 {
			p.fail("verify-epoch %d: %q", e, v.Differences)
		}
	}
	return len(settled), count("SELECT count() FROM readings WHERE device_id LIKE 'ws-%' AND reason = 'DUPLICATE'")
}

// startDev builds fieldmint and runs `fieldmint dev` as its own process
// group (8 honest devices of its own, a timelock, 10 s epochs), then
// registers the test's devices through its ingest. It returns the process,
// the data directory, ClickHouse's native port and the chain's RPC URL.
func startDev(p *pipeline) (dev *proc, data string, tcp int, rpcURL string) {
	t := p.t
	p.build()
	kport, httpPort, rpc, ingest, api := port(t), port(t), port(t), port(t), port(t)
	tcp = port(t)
	data = filepath.Join(p.dir, "dev")
	p.url = fmt.Sprintf("http://127.0.0.1:%d", ingest)
	rpcURL = fmt.Sprintf("http://127.0.0.1:%d", rpc)
	dev = startProcGroup(t, p.dir, "dev", p.bin, true, nil, "dev", "--dev.dataDir", data,
		"--dev.kafkaPort", strconv.Itoa(kport), "--dev.clickhouseTCPPort", strconv.Itoa(tcp), "--dev.clickhouseHTTPPort", strconv.Itoa(httpPort),
		"--dev.rpcPort", strconv.Itoa(rpc), "--dev.settlers", "1", "--dev.devices", "8", "--dev.fraudPercent", "0", "--dev.interval", "2s", "--dev.timelock", "3s",
		"--ingest.listen", fmt.Sprintf("127.0.0.1:%d", ingest), "--api.listen", fmt.Sprintf("127.0.0.1:%d", api), "--ingest.mqttListen", fmt.Sprintf("127.0.0.1:%d", port(t)),
		"--settle.activationCheck", "500ms", "--settle.confirmations", "3", "--telemetry.metricsListen", "",
		"--aggregate.epochLength", "10s", "--aggregate.allowedLateness", "2s", "--aggregate.flushInterval", "200ms", "--log.level", "info",
		"--aggregate.scoringFile", p.scoringFile())
	p.procs = append(p.procs, dev)
	// The dev stack registers its maker with its own admin, and shows it in
	// dev.json, as a factory's tooling would read it.
	p.maker = devMaker(p, dev, filepath.Join(data, "dev.json"))
	p.register()
	// Readings dated from the next epoch but one: after the schedule's first
	// epoch (the one before the deployment), never late.
	p.baseMs = (time.Now().UnixMilli()/epochMs + 2) * epochMs
	p.firstEpoch = uint64(p.baseMs / epochMs)
	return dev, data, tcp, rpcURL
}

func readContracts(t *testing.T, dir string) chain.Contracts {
	raw, err := os.ReadFile(filepath.Join(dir, "contracts.json"))
	if err != nil {
		t.Fatalf("contracts.json: %v", err)
	}
	var c chain.Contracts
	if err := json.Unmarshal(raw, &c); err != nil || c.Distributor == (common.Address{}) {
		t.Fatalf("contracts.json: %v %+v", err, c)
	}
	return c
}

// devMaker waits for the dev stack's dev.json and returns its maker; it
// fails at once when the stack keeps exiting before writing it (a port
// taken, a bad flag), rather than at the test's deadline.
func devMaker(p *pipeline, dev *proc, path string) client.Maker {
	for {
		if n := dev.Exits(); n >= 5 {
			p.fail("fieldmint dev exited %d times before writing %s", n, path)
		}
		var info struct {
			Maker struct {
				ID         string `json:"id"`
				PrivateKey string `json:"privateKey"`
			} `json:"maker"`
		}
		if raw, err := os.ReadFile(path); err == nil && json.Unmarshal(raw, &info) == nil {
			seed, err := hex.DecodeString(strings.TrimPrefix(info.Maker.PrivateKey, "0x"))
			if err != nil || len(seed) != ed25519.SeedSize {
				p.fail("dev.json's maker.privateKey %q is not a 0x-prefixed 32-byte seed", info.Maker.PrivateKey)
			}
			return client.Maker{ID: info.Maker.ID, Key: ed25519.NewKeyFromSeed(seed)}
		}
		if p.ctx.Err() != nil {
			p.fail("the dev stack never wrote %s", path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
