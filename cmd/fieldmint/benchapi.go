//go:build !nodev

package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/errgroup"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// apiFigures is `fieldmint bench api --json`'s object.
type apiFigures struct {
	ProofsPerSec float64 `json:"proofsPerSec"` // proofs answered 200 per second, over the measured window
	LatencyP50Ms float64 `json:"latencyP50Ms"`
	LatencyP99Ms float64 `json:"latencyP99Ms"`
	Proofs       int64   `json:"proofs"`
	Errors       int64   `json:"errors"` // answers other than 200
	Accounts     int     `json:"accounts"`
	Devices      int     `json:"devices"`
	Clients      int     `json:"clients"`
	Seconds      float64 `json:"seconds"`
	// Settlement of the seeded epoch by the settler, from its scores in
	// ClickHouse: computed (leaves and tree stored), proposed on chain,
	// active (the timelock is 0 here).
	ComputedSeconds float64 `json:"computedSeconds"`
	ProposedSeconds float64 `json:"proposedSeconds"`
	ActiveSeconds   float64 `json:"activeSeconds"`
	// The API process, and ClickHouse, over the measured window.
	APICPUSeconds        float64 `json:"apiCPUSeconds"`
	APIPeakRSSBytes      int64   `json:"apiPeakRSSBytes"`
	ClickHouseCPUSeconds float64 `json:"clickhouseCPUSeconds"`
}

// benchAPI is `fieldmint bench api`: an epoch of many accounts settled on a
// dev chain by the settler, then proofs requested from `fieldmint api` by
// concurrent clients, each answer checked against the root.
func benchAPI(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	accounts := fs.Int("accounts", 250_000, "accounts paid in the settled epoch")
	devices := fs.Int("devices", 1_000_000, "devices whose scores make the epoch, spread over the accounts")
	clients := fs.Int("clients", 32, "concurrent HTTP clients")
	duration := fs.Duration("duration", 20*time.Second, "how long to request proofs")
	warmup := fs.Duration("warmup", 3*time.Second, "requests sent first and left out of the figures")
	asJSON := fs.Bool("json", false, "print one JSON object (proofsPerSec, latencyP99Ms, ...) instead of text; progress goes to stderr")
	profile := fs.String("profile", "", "file to save a CPU profile of the API in (10 s of the measured window), and of the settler in FILE.settle (its first 20 s); go tool pprof FILE")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench api: unexpected arguments %q", fs.Args())
	}
	if *accounts < 1 || *devices < *accounts || *clients < 1 || *duration <= 0 {
		return errors.New("bench api: --accounts must be positive, --devices at least --accounts, --clients and --duration positive")
	}
	result := out
	if *asJSON {
		out = fs.Output()
	}

	bench, err := startChainBench(ctx, out, "bench api")
	if err != nil {
		return err
	}
	defer bench.close()
	procs, st, conn := bench.procs, bench.st, bench.conn
	c := st.Config

	// The epoch: every device's score, the devices spread over the
	// accounts, as the aggregator writes them when it closes an epoch.
	epoch := c.Aggregate.Epoch(time.Now().UnixMilli()) - 1 // the distributor's first
	length := c.Aggregate.EpochLength
	start := time.UnixMilli(int64(epoch) * length.Milliseconds()).UTC()
	fmt.Fprintf(out, "bench api: scores of %d devices owned by %d accounts for epoch %d ...\n", *devices, *accounts, epoch)
	owners := make([]common.Address, *accounts)
	for i := range owners {
		owners[i] = benchAccount(i)
	}
	if err := seedScores(ctx, conn, epoch, owners, *devices); err != nil {
		return err
	}
	if err := conn.Exec(ctx, "INSERT INTO epochs VALUES (?, ?, ?, now64(3))", epoch, start, start.Add(length)); err != nil {
		return err
	}
	if err := conn.Exec(ctx, "INSERT INTO scored_epochs VALUES (?, now64(3))", epoch); err != nil {
		return err
	}

	// The settler computes, proposes and activates it.
	env := roleEnv(c)
	settleStart := time.Now()
	settleEnv := append(env, "FIELDMINT_SETTLE_POSTERKEY="+c.Settle.PosterKey)
	settleProfiled := make(chan error, 1)
	if *profile != "" {
		settleMetrics := freeport.Addr()
		settleEnv = append(settleEnv, "FIELDMINT_TELEMETRY_METRICSLISTEN="+settleMetrics, "FIELDMINT_TELEMETRY_PPROF=true")
		go func() {
			if err := procs.waitHealthy(ctx, "settle", settleMetrics); err != nil {
				settleProfiled <- err
				return
			}
			settleProfiled <- saveProfile(ctx, "http://"+settleMetrics+"/debug/pprof/profile?seconds=20", *profile+".settle")
		}()
	} else {
		settleProfiled <- nil
	}
	if _, err := procs.startEnv("settle", settleEnv, "settle"); err != nil {
		return err
	}
	var fig apiFigures
	if err := waitSettled(ctx, procs, conn, epoch, settleStart, &fig.ComputedSeconds, &fig.ProposedSeconds, &fig.ActiveSeconds); err != nil {
		return err
	}
	if err := <-settleProfiled; err != nil {
		return fmt.Errorf("bench api: profile of the settler: %w", err)
	}
	fmt.Fprintf(out, "bench api: settled: computed after %.1f s, proposed after %.1f s, active after %.1f s\n", fig.ComputedSeconds, fig.ProposedSeconds, fig.ActiveSeconds)

	// The proof API, in a process of its own.
	listen, metricsAddr := freeport.Addr(), freeport.Addr()
	apiEnv := append(env, "FIELDMINT_SETTLE_APILISTEN="+listen)
	if *profile != "" {
		apiEnv = append(apiEnv, "FIELDMINT_TELEMETRY_METRICSLISTEN="+metricsAddr, "FIELDMINT_TELEMETRY_PPROF=true")
	}
	api, err := procs.startEnv("api", apiEnv, "api")
	if err != nil {
		return err
	}
	url := "http://" + listen
	if err := procs.waitHealthy(ctx, "api", listen); err != nil {
		return err
	}
	var root common.Hash
	var rootHex string
	if err := conn.QueryRow(ctx, "SELECT root FROM settlements_latest WHERE epoch = ?", epoch).Scan(&rootHex); err != nil {
		return err
	}
	root = common.HexToHash(rootHex)

	load := func(d time.Duration) ([]time.Duration, int64, error) {
		lctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var mu sync.Mutex
		var all []time.Duration
		var errs atomic.Int64
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
		g, gctx := errgroup.WithContext(lctx)
		for w := range *clients {
			g.Go(func() error {
				rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
				var mine []time.Duration
				defer func() { mu.Lock(); all = append(all, mine...); mu.Unlock() }()
				for i := 0; gctx.Err() == nil; i++ {
					account := owners[rng.IntN(len(owners))]
					t0 := time.Now()
					req, _ := http.NewRequestWithContext(gctx, http.MethodGet, url+"/v1/rewards/"+account.Hex(), nil)
					resp, err := hc.Do(req)
					if err != nil {
						if gctx.Err() != nil {
							return nil
						}
						return err
					}
					var p settler.RewardProof
					err = json.NewDecoder(resp.Body).Decode(&p)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || err != nil {
						errs.Add(1)
						continue
					}
					mine = append(mine, time.Since(t0))
					// Every 100th answer is checked: its proof proves its amount under the root.
					if i%100 == 0 && !proves(root, account, p) {
						return fmt.Errorf("bench api: the proof served for %s does not prove %s under root %s", account.Hex(), p.CumulativeAmount, root.Hex())
					}
				}
				return nil
			})
		}
		err := g.Wait()
		return all, errs.Load(), err
	}
	fmt.Fprintf(out, "bench api: %d clients request proofs of random accounts; %s warm-up, then %s measured\n", *clients, *warmup, *duration)
	if _, _, err := load(*warmup); err != nil {
		return err
	}
	apiCPU0, chCPU0 := procCPU(api.Process.Pid), procCPU(st.CH.PID())
	profiled := make(chan error, 1)
	if *profile != "" {
		go func() {
			profiled <- saveProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", metricsAddr, max(1, min(10, int(duration.Seconds())))), *profile)
		}()
	} else {
		profiled <- nil
	}
	began := time.Now()
	lat, errs, err := load(*duration)
	if err != nil {
		return err
	}
	if err := procs.alive(); err != nil {
		return err
	}
	elapsed := time.Since(began)
	if err := <-profiled; err != nil {
		return fmt.Errorf("bench api: profile: %w", err)
	}
	slices.Sort(lat)
	fig.Proofs, fig.Errors, fig.Accounts, fig.Devices, fig.Clients, fig.Seconds = int64(len(lat)), errs, *accounts, *devices, *clients, elapsed.Seconds()
	fig.ProofsPerSec = float64(len(lat)) / elapsed.Seconds()
	if n := len(lat); n > 0 {
		fig.LatencyP50Ms, fig.LatencyP99Ms = float64(lat[n/2].Microseconds())/1000, float64(lat[n*99/100].Microseconds())/1000
	}
	fig.APICPUSeconds, fig.APIPeakRSSBytes = (procCPU(api.Process.Pid) - apiCPU0).Seconds(), procPeakRSS(api.Process.Pid)
	fig.ClickHouseCPUSeconds = (procCPU(st.CH.PID()) - chCPU0).Seconds()
	if *asJSON {
		return json.NewEncoder(result).Encode(fig)
	}
	fmt.Fprintf(out, "throughput %.0f proofs/s (%d answered, %d errors)\nlatency    p50 %.2f ms, p99 %.2f ms\n", fig.ProofsPerSec, fig.Proofs, fig.Errors, fig.LatencyP50Ms, fig.LatencyP99Ms)
	fmt.Fprintf(out, "api        %.1f CPU-seconds, peak RSS %d MB; ClickHouse %.1f CPU-seconds\n", fig.APICPUSeconds, fig.APIPeakRSSBytes>>20, fig.ClickHouseCPUSeconds)
	fmt.Fprintf(out, "settlement computed %.1f s, proposed %.1f s, active %.1f s after the settler started\n", fig.ComputedSeconds, fig.ProposedSeconds, fig.ActiveSeconds)
	return nil
}

// benchAccount is the i-th account of a bench epoch: an address made up
// from i (nobody holds its key).
func benchAccount(i int) common.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("fieldmint bench account " + strconv.Itoa(i)))[12:])
}

// seedScores writes a device_scores row for each device, device d owned by
// owners[d % len(owners)], with scores from 1 to 97.
func seedScores(ctx context.Context, conn driver.Conn, epoch uint64, owners []common.Address, devices int) error {
	const chunk = 100_000
	for from := 0; from < devices; from += chunk {
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, frauds, score)")
		if err != nil {
			return err
		}
		for d := from; d < min(from+chunk, devices); d++ {
			score := uint64(1 + d%97)
			if err := batch.Append(epoch, "bench-"+strconv.Itoa(d), owners[d%len(owners)].Hex(), "RESOURCE_KIND_WEATHER", uint64(100), score, uint64(1), uint64(0), uint64(1), uint64(0), score); err != nil {
				batch.Abort()
				return err
			}
		}
		if err := batch.Send(); err != nil {
			return err
		}
	}
	return nil
}

// proves reports whether p's proof proves p's cumulative amount for account
// under root.
func proves(root common.Hash, account common.Address, p settler.RewardProof) bool {
	amount := new(big.Int)
	if !parseAmount(amount, []byte(p.CumulativeAmount)) || common.HexToHash(p.Root) != root {
		return false
	}
	hashes := make([]common.Hash, len(p.Proof))
	for i, h := range p.Proof {
		b, err := hex.DecodeString(h[2:])
		if err != nil || len(b) != 32 {
			return false
		}
		hashes[i] = common.BytesToHash(b)
	}
	return merkle.Verify(root, merkle.RewardLeaf(account, amount), hashes)
}

// chainBench is a bench's dev stack (ClickHouse, a chain with the
// contracts, a broker) on free ports, with no timelock and no fleet, and the
// role processes the bench starts on it.
type chainBench struct {
	procs *benchProcs
	st    *devstack.Stack
	conn  driver.Conn
}

func startChainBench(ctx context.Context, out io.Writer, name string) (*chainBench, error) {
	procs, err := newBenchProcs(out)
	if err != nil {
		return nil, err
	}
	cfg := devstack.Defaults()
	cfg.Dev.DataDir, cfg.Dev.Devices, cfg.Dev.Timelock = procs.dir, 0, 0
	for _, p := range []*int{&cfg.Dev.KafkaPort, &cfg.Dev.CHTCPPort, &cfg.Dev.CHHTTPPort, &cfg.Dev.RPCPort} {
		if *p, err = freeport.Port("127.0.0.1"); err != nil {
			procs.stop()
			return nil, err
		}
	}
	fmt.Fprintf(out, "%s: starting ClickHouse, a dev chain and the contracts ...\n", name)
	st, err := devstack.StartStack(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		procs.stop()
		return nil, err
	}
	conn, err := clickhouse.Open(ctx, st.Config.ClickHouse)
	if err != nil {
		st.Close()
		procs.stop()
		return nil, err
	}
	return &chainBench{procs: procs, st: st, conn: conn}, nil
}

// close stops the roles before the stack they use (a settler outliving
// ClickHouse logs refused connections).
func (b *chainBench) close() {
	b.procs.stop()
	b.conn.Close()
	b.st.Close()
}

// roleEnv is the environment a settler or API process needs on the stack c.
func roleEnv(c devstack.Config) []string {
	return []string{
		"FIELDMINT_CLICKHOUSE_ADDR=" + c.ClickHouse.Addr, "FIELDMINT_SETTLE_RPC=" + c.Settle.RPC,
		"FIELDMINT_SETTLE_DISTRIBUTOR=" + c.Settle.Distributor, "FIELDMINT_SETTLE_FROMBLOCK=" + strconv.FormatUint(c.Settle.FromBlock, 10),
		"FIELDMINT_SETTLE_EMISSIONPEREPOCH=" + c.Settle.EmissionPerEpoch, "FIELDMINT_LOG_LEVEL=warn",
	}
}

// waitSettled waits until epoch's root is active, noting when it was
// computed, proposed and made active (seconds since start; nil: not noted).
func waitSettled(ctx context.Context, procs *benchProcs, conn driver.Conn, epoch uint64, start time.Time, computed, proposed, active *float64) error {
	at := map[string]*float64{"computed": computed, "proposed": proposed, "active": active}
	for ; len(at) > 0; time.Sleep(50 * time.Millisecond) {
		if ctx.Err() != nil || time.Since(start) > 10*time.Minute {
			return fmt.Errorf("bench: the settler did not activate epoch %d's root within 10 minutes", epoch)
		}
		if err := procs.alive(); err != nil {
			return err
		}
		var status string
		if err := conn.QueryRow(ctx, "SELECT status FROM settlements_latest WHERE epoch = ?", epoch).Scan(&status); err != nil {
			continue
		}
		for _, s := range []string{"computed", "proposed", "active"} {
			if p, ok := at[s]; ok {
				if p != nil {
					*p = time.Since(start).Seconds()
				}
				delete(at, s)
			}
			if s == status {
				break
			}
		}
	}
	return nil
}
