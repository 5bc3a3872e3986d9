package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/sync/errgroup"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/stats"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// APIOptions are `fieldmint bench api`'s.
type APIOptions struct {
	Accounts int // paid in the settled epoch
	Devices  int // whose scores make the epoch, spread over the accounts
	Clients  int
	Duration time.Duration
	Warmup   time.Duration
	// Profile is a file to save a CPU profile of the API in (10 s of the
	// measured window), and of the settler in Profile.settle ("": none).
	Profile string
}

// APIFigures is `fieldmint bench api --json`'s object.
type APIFigures struct {
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

// API settles an epoch of many accounts on a dev chain with the settler,
// then has concurrent clients request proofs from `fieldmint api`, each
// 100th answer checked against the root.
func API(ctx context.Context, e Env, o APIOptions) (*APIFigures, error) {
	if o.Accounts < 1 || o.Devices < o.Accounts || o.Clients < 1 || o.Duration <= 0 {
		return nil, errors.New("bench api: accounts must be positive, devices at least accounts, clients and duration positive")
	}
	c, err := e.startChainStack(ctx, "bench api")
	if err != nil {
		return nil, err
	}
	defer c.close()
	epoch := c.st.Config.Aggregate.Epoch(time.Now().UnixMilli()) - 1 // the distributor's first
	e.logf("bench api: scores of %d devices owned by %d accounts for epoch %d ...", o.Devices, o.Accounts, epoch)
	owners := accounts(o.Accounts)
	if err := seedScores(ctx, c.conn, epoch, owners, o.Devices); err != nil {
		return nil, err
	}
	if err := c.closeEpoch(ctx, epoch); err != nil {
		return nil, err
	}
	fig := &APIFigures{Accounts: o.Accounts, Devices: o.Devices, Clients: o.Clients}
	if err := c.settle(ctx, o, epoch, fig); err != nil {
		return nil, err
	}
	metricsAddr := freeport.Addr()
	var extra []string
	if o.Profile != "" {
		extra = []string{"FIELDMINT_TELEMETRY_METRICSLISTEN=" + metricsAddr, "FIELDMINT_TELEMETRY_PPROF=true"}
	}
	listen, apiPID, err := c.startAPI(ctx, extra...)
	if err != nil {
		return nil, err
	}
	s, _, err := tables.SettlementOf(ctx, c.conn, epoch)
	if err != nil {
		return nil, err
	}
	p := &prover{url: "http://" + listen, owners: owners, root: s.Root, clients: o.Clients}
	e.logf("bench api: %d clients request proofs of random accounts; %s warm-up, then %s measured", o.Clients, o.Warmup, o.Duration)
	if _, _, err := p.load(ctx, o.Warmup); err != nil {
		return nil, err
	}
	apiCPU0, chCPU0 := CPU(apiPID), CPU(c.st.CH.PID())
	profiled := profileWindow(ctx, metricsAddr, o.Duration, o.Profile)
	began := time.Now()
	lat, errs, err := p.load(ctx, o.Duration)
	if err != nil {
		return nil, err
	}
	if err := c.alive(); err != nil {
		return nil, err
	}
	elapsed := time.Since(began)
	if err := <-profiled; err != nil {
		return nil, fmt.Errorf("bench api: profile: %w", err)
	}
	fig.Proofs, fig.Errors, fig.Seconds = int64(len(lat)), errs, elapsed.Seconds()
	fig.ProofsPerSec = float64(len(lat)) / elapsed.Seconds()
	fig.LatencyP50Ms, fig.LatencyP99Ms = stats.Ms(stats.Percentile(lat, 50)), stats.Ms(stats.Percentile(lat, 99))
	fig.APICPUSeconds, fig.APIPeakRSSBytes = (CPU(apiPID) - apiCPU0).Seconds(), PeakRSS(apiPID)
	fig.ClickHouseCPUSeconds = (CPU(c.st.CH.PID()) - chCPU0).Seconds()
	return fig, nil
}

// settle has the settler compute, propose and activate epoch, noting when
// (and profiling it for its first 20 s, when asked).
func (c *chainStack) settle(ctx context.Context, o APIOptions, epoch uint64, fig *APIFigures) error {
	start := time.Now()
	var extra []string
	profiled := make(chan error, 1)
	if o.Profile != "" {
		metrics := freeport.Addr()
		extra = []string{"FIELDMINT_TELEMETRY_METRICSLISTEN=" + metrics, "FIELDMINT_TELEMETRY_PPROF=true"}
		go func() {
			if err := c.waitHealthy(ctx, "settle", metrics); err != nil {
				profiled <- err
				return
			}
			profiled <- saveProfile(ctx, "http://"+metrics+"/debug/pprof/profile?seconds=20", o.Profile+".settle")
		}()
	} else {
		profiled <- nil
	}
	if err := c.startSettler(extra...); err != nil {
		return err
	}
	var err error
	if fig.ComputedSeconds, fig.ProposedSeconds, fig.ActiveSeconds, err = c.waitSettled(ctx, epoch, start); err != nil {
		return err
	}
	if err := <-profiled; err != nil {
		return fmt.Errorf("bench api: profile of the settler: %w", err)
	}
	c.logf("bench api: settled: computed after %.1f s, proposed after %.1f s, active after %.1f s", fig.ComputedSeconds, fig.ProposedSeconds, fig.ActiveSeconds)
	return nil
}

// prover requests proofs of random owners from the API.
type prover struct {
	url     string
	owners  []common.Address
	root    common.Hash
	clients int
}

// load requests proofs for d, returning each 200's latency and the count of
// other answers; a proof that does not prove its amount fails it.
func (p *prover) load(ctx context.Context, d time.Duration) ([]time.Duration, int64, error) {
	// Each account's URL is made once, before the clock starts: a
	// checksummed address costs a Keccak hash, which is the client's work,
	// not the API's.
	urls := make([]string, len(p.owners))
	for i, a := range p.owners {
		urls[i] = p.url + "/v1/rewards/" + a.Hex()
	}
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	var errs atomic.Int64
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: p.clients}}
	g, gctx := errgroup.WithContext(lctx)
	for w := range p.clients {
		g.Go(func() error {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var mine []time.Duration
			defer func() { mu.Lock(); all = append(all, mine...); mu.Unlock() }()
			for i := 0; gctx.Err() == nil; i++ {
				n := rng.IntN(len(p.owners))
				account, check := p.owners[n], i%100 == 0
				t0 := time.Now()
				proof, ok, err := get(gctx, hc, urls[n], check)
				switch {
				case err != nil && gctx.Err() != nil:
					return nil
				case err != nil:
					return err
				case !ok:
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
				// Every 100th answer is checked: its proof proves its amount under the root.
				if check && !proves(p.root, account, proof) {
					return fmt.Errorf("bench api: the proof served for %s does not prove %s under root %s", account.Hex(), proof.CumulativeAmount, p.root.Hex())
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return all, errs.Load(), err
}

// get asks for a proof at url; ok is false for an answer other than a 200
// with a JSON body. The body is decoded only when it is to be checked (every
// 100th): decoding every answer was a third of the bench client's CPU, on
// the cores the API is measured on; the others are read whole and discarded.
func get(ctx context.Context, hc *http.Client, url string, decode bool) (wire.RewardProof, bool, error) {
	var proof wire.RewardProof
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return proof, false, err
	}
	defer resp.Body.Close()
	if decode {
		err = json.NewDecoder(resp.Body).Decode(&proof)
	} else {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		if err == nil && (n == 0 || resp.Header.Get("Content-Type") != "application/json") {
			err = errors.New("not a JSON answer")
		}
	}
	return proof, resp.StatusCode == http.StatusOK && err == nil, nil
}

// proves reports whether p's proof proves p's cumulative amount for account
// under root.
func proves(root common.Hash, account common.Address, p wire.RewardProof) bool {
	amount, ok := new(big.Int).SetString(p.CumulativeAmount, 10)
	if !ok || amount.Sign() < 0 || common.HexToHash(p.Root) != root {
		return false
	}
	hashes := make([]common.Hash, len(p.Proof))
	for i, h := range p.Proof {
		b := common.FromHex(h)
		if len(b) != 32 {
			return false
		}
		hashes[i] = common.BytesToHash(b)
	}
	return merkle.Verify(root, merkle.RewardLeaf(account, amount), hashes)
}

// String is the figures as text.
func (f *APIFigures) String() string {
	return fmt.Sprintf("throughput %.0f proofs/s (%d answered, %d errors)\nlatency    p50 %.2f ms, p99 %.2f ms\n", f.ProofsPerSec, f.Proofs, f.Errors, f.LatencyP50Ms, f.LatencyP99Ms) +
		fmt.Sprintf("api        %.1f CPU-seconds, peak RSS %d MB; ClickHouse %.1f CPU-seconds\n", f.APICPUSeconds, f.APIPeakRSSBytes>>20, f.ClickHouseCPUSeconds) +
		fmt.Sprintf("settlement computed %.1f s, proposed %.1f s, active %.1f s after the settler started\n", f.ComputedSeconds, f.ProposedSeconds, f.ActiveSeconds)
}
