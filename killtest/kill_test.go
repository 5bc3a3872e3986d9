// Package killtest runs the pipeline as separate OS processes (broker,
// ClickHouse server, ingest, validators, aggregators, settler) while signed
// readings stream in, and kills -9 them in turn or scales them up and down.
// At the end every reading answered 2xx is in ClickHouse exactly once, and
// each epoch's scores and root are the ones the sent readings call for, which
// are also those of any run without kills.
package killtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/devchain"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

const (
	devices   = 30
	perBatch  = 10
	steps     = 60 // one reading per device per step; 10 steps per epoch (a pipeline's default)
	epochMs   = 10_000
	emission  = 1_000_000
	killEvery = 2 * time.Second
	stepPace  = 550 * time.Millisecond
	// tailAfter: the step of the last reading each device sends comes this
	// many steps after the others: past the end of the epoch after the
	// last, plus lateness, so the last epoch closes and so does the one its
	// scores wait for (the information checks' window reaches ten seconds
	// past an epoch).
	tailAfter = 12
)

// outOfRange marks the readings sent with an impossible temperature: the
// validators must reject exactly these, whatever gets killed.
func outOfRange(dev, step int) bool { return (dev*7+step)%13 == 0 }

func ownerOf(dev int) int { return min(dev%4, 2) }

func port(t *testing.T) int {
	p, err := freeport.Port("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pipeline is a running deployment under test.
type pipeline struct {
	t          *testing.T
	ctx        context.Context
	dir, bin   string
	env        []string
	procs      []*proc
	url        string
	api        string // the proof API
	chTCP      int
	eclient    *ethclient.Client
	poster     common.Address
	admin      *ecdsa.PrivateKey // registers maker, when set
	maker      client.Maker      // attests the devices
	contracts  chain.Contracts
	sdk        *client.Client
	owners     []common.Address
	ownerKeys  []*ecdsa.PrivateKey
	keys       []ed25519.PrivateKey
	baseMs     int64
	firstEpoch uint64
	refusals   atomic.Int64 // 429/503 answers the devices were told to retry
	pace       time.Duration
	steps      int             // steps streamed (the tail step comes tailAfter after them)
	onRetry    func(err error) // also told of every retried batch, when set
}

// build builds the fieldmint binary into the pipeline's directory.
// build gives the pipeline the fieldmint binary, built once for every
// test of the package (the tests run in parallel on two cores: a build
// each was half a minute of CPU apiece).
func (p *pipeline) build() {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "killtest-bin")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "fieldmint")
		if out, err := exec.Command("go", "build", "-o", built, "github.com/fieldmint/fieldmint/cmd/fieldmint").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		p.t.Fatal(buildErr)
	}
	p.bin = built
}

var (
	buildOnce sync.Once
	built     string // the binary every test runs
	buildErr  error
)

// TestMain removes the shared binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built != "" {
		os.RemoveAll(filepath.Dir(built))
	}
	os.Exit(code)
}

func newPipeline(t *testing.T, ctx context.Context) *pipeline { return newPipelineOn(t, ctx, nil) }

// production is how TestProductionTopology deploys: the chain an external
// node (anvil, a block a second), the contracts deployed by `fieldmint
// deploy-contracts`, roots behind a timelock.
type production struct {
	rpc      string
	timelock time.Duration
	brokers  int // Kafka brokers (1 when 0)
}

func (prod *production) brokerCount() int {
	if prod == nil {
		return 1
	}
	return prod.brokers
}

// newPipelineOn starts the broker and ClickHouse processes and the chain
// with the contracts: in this process (a dev chain, deployed by chain.Deploy)
// or, with prod, on an external node by the deploy-contracts command.
func newPipelineOn(t *testing.T, ctx context.Context, prod *production) *pipeline {
	p := &pipeline{t: t, ctx: ctx, dir: t.TempDir(), pace: stepPace, steps: steps}
	p.build()

	deployer, _ := crypto.GenerateKey()
	poster, _ := crypto.GenerateKey()
	p.admin, _ = crypto.GenerateKey() // adds the maker
	_, makerKey, _ := ed25519.GenerateKey(nil)
	p.maker = client.Maker{ID: "factory", Key: makerKey}
	p.poster = chain.Address(poster)
	firstEpoch := uint64(time.Now().Add(-25*time.Minute).UnixMilli() / epochMs)
	rpc := ""
	if prod == nil {
		// The chain is not a pipeline stage: it runs in this process.
		eth := new(big.Int).Exp(big.NewInt(10), big.NewInt(22), nil)
		dc, err := devchain.Start(devchain.Options{Alloc: map[common.Address]*big.Int{chain.Address(deployer): eth, p.poster: eth}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dc.Close() })
		if p.eclient, err = dc.Client(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.eclient.Close)
		if p.contracts, err = chain.Deploy(ctx, p.eclient, deployer, chain.Settings{Signers: []common.Address{p.poster}, Guardian: chain.Address(deployer),
			EmissionPerEpoch: big.NewInt(emission), FirstEpoch: firstEpoch}, new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil)); err != nil {
			t.Fatal(err)
		}
		rpc = dc.URL
	} else {
		rpc = prod.rpc
		var err error
		if p.eclient, err = ethclient.DialContext(ctx, rpc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.eclient.Close)
		for _, k := range []*ecdsa.PrivateKey{deployer, poster} {
			testenv.Fund(t, p.eclient, chain.Address(k))
		}
		// As an operator types it.
		cmd := exec.CommandContext(ctx, p.bin, "deploy-contracts", "--rpc", rpc, "--guardian", chain.Address(deployer).Hex(),
			"--timelock", prod.timelock.String(), "--emission-per-epoch", strconv.Itoa(emission), "--first-epoch", strconv.FormatUint(firstEpoch, 10),
			"--poster", p.poster.Hex(), "--pool", "1000000000000000000000000")
		cmd.Env = append(os.Environ(), "FIELDMINT_DEPLOY_KEY="+hex.EncodeToString(crypto.FromECDSA(deployer)))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("fieldmint deploy-contracts: %v\n%s", err, stderr.String())
		}
		var d struct {
			Token, Distributor string
			DeployBlock        uint64
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("deploy-contracts printed %q: %v", out, err)
		}
		p.contracts = chain.Contracts{Token: common.HexToAddress(d.Token), Distributor: common.HexToAddress(d.Distributor), Block: d.DeployBlock}
		t.Logf("deploy-contracts:\n%s%s", stderr.String(), out)
	}

	scoringPath := p.scoringFile()
	kports, brokers := []string{}, []string{}
	for range max(1, prod.brokerCount()) {
		kp := strconv.Itoa(port(t))
		kports, brokers = append(kports, kp), append(brokers, strconv.Quote("127.0.0.1:"+kp))
	}
	ingestPort, apiPort, chHTTP := port(t), port(t), port(t)
	p.chTCP = port(t)
	cfg := fmt.Sprintf(`log: {level: info}
kafka: {brokers: [%s], topicPrefix: "k.", partitions: 3, sessionTimeout: 6s}
clickhouse: {addr: "127.0.0.1:%d", database: killtest}
ingest: {listen: "127.0.0.1:%d", produceTimeout: 500ms, admins: [%q]}
validate: {instanceId: v0}
aggregate: {epochLength: 10s, allowedLateness: 2s, flushInterval: 200ms, idleTimeout: 10m, batchSize: 200, scoringFile: %q}
settle: {rpc: %q, distributor: %q, fromBlock: %d, emissionPerEpoch: "%d", activationCheck: 500ms}
api: {listen: "127.0.0.1:%d"}
`, strings.Join(brokers, ", "), p.chTCP, ingestPort, chain.Address(p.admin).Hex(), scoringPath, rpc, p.contracts.Distributor.Hex(), p.contracts.Block, emission, apiPort)
	cfgPath := filepath.Join(p.dir, "fieldmint.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p.env = []string{"FIELDMINT_CONFIG=" + cfgPath, "FIELDMINT_SETTLE_POSTERKEY=" + hex.EncodeToString(crypto.FromECDSA(poster))}
	p.url = fmt.Sprintf("http://127.0.0.1:%d", ingestPort)
	p.api = fmt.Sprintf("http://127.0.0.1:%d", apiPort)

	p.start("broker", "broker", "--data-dir", filepath.Join(p.dir, "kafka"), "--ports", strings.Join(kports, ","))
	p.start("clickhouse", "clickhouse", "--path", filepath.Join(p.dir, "clickhouse"), "--tcp-port", strconv.Itoa(p.chTCP), "--http-port", strconv.Itoa(chHTTP))
	// As a deployment does: the schema first (the roles refuse another),
	// once the server answers.
	for deadline := time.Now().Add(time.Minute); ; {
		cmd := exec.CommandContext(ctx, p.bin, "migrate")
		cmd.Env = append(os.Environ(), p.env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.fail("fieldmint migrate: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return p
}

// start runs a fieldmint command as a supervised process; env adds to the
// pipeline's environment.
func (p *pipeline) start(name, cmd string, args ...string) *proc {
	return p.startEnv(name, nil, append([]string{cmd}, args...)...)
}

func (p *pipeline) startEnv(name string, env []string, args ...string) *proc {
	pr := startProc(p.t, p.dir, name, p.bin, append(append([]string{}, p.env...), env...), args...)
	p.procs = append(p.procs, pr)
	return pr
}

func (p *pipeline) fail(format string, args ...any) {
	p.t.Helper()
	keep := os.Getenv("KILLTEST_KEEP_LOGS") // a directory: every process's whole log is copied there
	for _, pr := range p.procs {
		p.t.Logf("--- %s (started %d times, killed %d)\n%s", pr.Name(), pr.Starts(), pr.Kills(), pr.Tail())
		if keep != "" {
			if raw, err := os.ReadFile(pr.Log()); err == nil {
				os.WriteFile(filepath.Join(keep, p.t.Name()+"-"+pr.Name()+".log"), raw, 0o644)
			}
		}
	}
	p.t.Fatalf(format, args...)
}

// scoringFile writes the tests' scoring policy: the default, without
// probation or hold, so that a rejection forfeits its own epoch only and the
// scores can be told from the readings sent (every device has a reading out
// of range every 13 s: with the default five-epoch window no one would ever
// be paid). The readings carry the temperature only. The information checks
// run over a window of a minute before each epoch and ten seconds after it
// (scores wait one epoch for it), so that a kill lands mid-way through their
// evidence too, and the replay must find the same.
func (p *pipeline) scoringFile() string {
	path := filepath.Join(p.dir, "scoring.yaml")
	policy := "probation: 0\nhold: 0\nkinds:\n  weather: {measurements: {temperature_c: 50}}\n" +
		"information: {back: 60s, ahead: 10s, minSamples: 8, minPeriod: 10s, maxLag: 10s}\n"
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

func TestKillEveryStageMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes for about a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := newPipeline(t, ctx)
	for _, role := range []string{"ingest", "validate", "aggregate", "settle"} {
		p.start(role, role)
	}
	p.register()
	// Kill one process every killEvery, in turn, while the readings stream.
	victims := append([]*proc{}, p.procs[2:]...)
	victims = append(victims, p.procs[:2]...) // the broker and ClickHouse last
	var kills int
	next := time.Now().Add(killEvery)
	p.stream(func(int) {
		for time.Now().After(next) {
			v := victims[kills%len(victims)]
			v.Kill()
			kills++
			t.Logf("%s: kill -9 #%d of %s", time.Now().Format("15:04:05.000"), v.Kills(), v.Name())
			next = next.Add(killEvery)
		}
	})
	p.verify()
	t.Logf("survived %d kills", kills)
	p.replayAndCompare()
}

// Three validators and two aggregators come and go mid-stream: started,
// stopped, killed. Readings spread over them; nothing is lost or doubled, and
// each epoch is closed and posted once.
func TestScaleUpAndDownMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline for about a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := newPipeline(t, ctx)
	p.start("ingest", "ingest")
	p.start("settle", "settle")
	validator := func(i int) *proc {
		return p.startEnv(fmt.Sprintf("validate-%d", i), []string{fmt.Sprintf("FIELDMINT_VALIDATE_INSTANCEID=v%d", i)}, "validate")
	}
	aggregator := func(i int) *proc { return p.start(fmt.Sprintf("aggregate-%d", i), "aggregate") }
	v0, a0 := validator(0), aggregator(0)
	p.register()
	var v1 *proc
	p.stream(func(step int) {
		switch step {
		case 8:
			v1 = validator(1)
			aggregator(1)
		case 16:
			validator(2)
		case 26:
			v0.Stop() // scale down, politely
		case 34:
			a0.Kill() // an aggregator lost (it comes back)
		case 42:
			a0.Stop()
			v1.Kill()
		case 50:
			v1.Stop()
		}
	})
	p.verify()
	for _, pr := range p.procs {
		if strings.HasPrefix(pr.Name(), "aggregate") || strings.HasPrefix(pr.Name(), "validate") {
			t.Logf("%s: started %d times, killed %d", pr.Name(), pr.Starts(), pr.Kills())
			if os.Getenv("KILLTEST_LOGS") != "" {
				t.Logf("%s", pr.Tail())
			}
		}
	}
}
