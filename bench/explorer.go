package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/stats"
)

// ExplorerOptions are `fieldmint bench explorer`'s.
type ExplorerOptions struct {
	Devices  int
	Accounts int // owners, each with Devices/Accounts devices
	Epochs   int // scored and settled
	Loads    int // loads of each page measured (random devices, owners, cells, epochs)
	// Serve, when set, is called with the explorer's URL and the figures
	// once they are taken, before the stack stops (fieldmint bench explorer
	// --serve prints them and waits there until interrupted).
	Serve func(url string, fig *ExplorerFigures)
}

// PageFigures is one page's latency: the sum of the API requests its script
// makes, one after another as it does.
type PageFigures struct {
	Page     string   `json:"page"`
	Requests []string `json:"requests"` // what one load asks for (a sample)
	ColdMs   float64  `json:"coldMs"`   // the first load (the oldest epoch's, for the epoch-scoped pages: not warmed)
	P50Ms    float64  `json:"p50Ms"`
	P99Ms    float64  `json:"p99Ms"`
	MaxMs    float64  `json:"maxMs"`
	Loads    int      `json:"loads"`
}

// ExplorerFigures is `fieldmint bench explorer --json`'s object.
type ExplorerFigures struct {
	Devices  int           `json:"devices"`
	Accounts int           `json:"accounts"`
	Epochs   int           `json:"epochs"`
	Rejected int           `json:"rejected"` // rejected readings stored per epoch
	SeedSecs float64       `json:"seedSeconds"`
	WarmSecs float64       `json:"warmSeconds"` // from the API listening to its first proof (the root's index built)
	Pages    []PageFigures `json:"pages"`
}

// Explorer seeds a network of many devices over many owners, has the
// settler settle its epochs, then requests each explorer page's JSON from
// `fieldmint api`, page by page, first cold and then for random devices,
// owners and cells.
func Explorer(ctx context.Context, e Env, o ExplorerOptions) (*ExplorerFigures, error) {
	if o.Accounts < 1 || o.Devices < o.Accounts || o.Epochs < 1 || o.Loads < 1 {
		return nil, errors.New("bench explorer: accounts, epochs and loads must be positive, devices at least accounts")
	}
	c, err := e.startChainStack(ctx, "bench explorer")
	if err != nil {
		return nil, err
	}
	defer c.close()
	fig := &ExplorerFigures{Devices: o.Devices, Accounts: o.Accounts, Epochs: o.Epochs, Rejected: o.Devices / 100 * 3}
	e.logf("bench explorer: %d devices of %d owners in 300 towns, %d epochs of scores and rejections ...", o.Devices, o.Accounts, o.Epochs)
	owners := accounts(o.Accounts)
	first := c.st.Config.Aggregate.Epoch(time.Now().UnixMilli()) - 1 // the distributor's first
	seeded := time.Now()
	if err := c.seedNetwork(ctx, owners, o.Devices, first, o.Epochs); err != nil {
		return nil, err
	}
	fig.SeedSecs = time.Since(seeded).Seconds()
	e.logf("bench explorer: seeded in %.1f s; the settler settles the %d epochs ...", fig.SeedSecs, o.Epochs)
	if err := c.startSettler(); err != nil {
		return nil, err
	}
	last := first + uint64(o.Epochs) - 1
	if _, _, _, err := c.waitSettled(ctx, last, time.Now()); err != nil {
		return nil, err
	}
	if err := c.atRest(ctx); err != nil {
		return nil, err
	}
	listen, _, err := c.startAPI(ctx)
	if err != nil {
		return nil, err
	}
	hc, url := &http.Client{}, "http://"+listen
	// The API builds the active root's proof index when it starts (warm):
	// the figures are taken once it answers, and say how long that took.
	warmed := time.Now()
	for fetchOK(ctx, hc, url+"/v1/rewards/"+owners[0].Hex()) != nil {
		if err := c.alive(); err != nil || time.Since(warmed) > 2*time.Minute {
			return nil, fmt.Errorf("bench explorer: the API never answered a proof (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fig.WarmSecs = time.Since(warmed).Seconds()
	e.logf("bench explorer: the API answered its first proof %.1f s after it started listening", fig.WarmSecs)
	pages, err := c.pages(ctx, o, owners, first, last)
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		f, err := c.measure(ctx, hc, url, p, o.Loads)
		if err != nil {
			return nil, err
		}
		fig.Pages = append(fig.Pages, f)
		e.logf("bench explorer: %-18s cold %7.1f ms, p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms over %d loads", p.name, f.ColdMs, f.P50Ms, f.P99Ms, f.MaxMs, f.Loads)
	}
	if o.Serve != nil {
		e.logf("bench explorer: the explorer is at %s/explorer, ClickHouse at http://127.0.0.1:%d", url, c.st.Config.Dev.CHHTTPPort)
		o.Serve(url, fig)
	}
	return fig, nil
}

// page is an explorer page: the requests its i-th load makes.
type page struct {
	name string
	urls func(i int) []string
}

// pages are the explorer's pages over the seeded network.
func (c *chainStack) pages(ctx context.Context, o ExplorerOptions, owners []common.Address, first, last uint64) ([]page, error) {
	// The busiest cell of the last epoch at resolution 8, and a view's box
	// around it, as the map asks when zoomed in on it.
	var busiest string
	var lat, lon float64
	if err := c.conn.QueryRow(ctx, `SELECT lower(hex(cell)), h3ToGeo(cell).1, h3ToGeo(cell).2 FROM device_scores WHERE epoch = ? GROUP BY cell ORDER BY count() DESC LIMIT 1`,
		last).Scan(&busiest, &lat, &lon); err != nil {
		return nil, err
	}
	busiest = strings.TrimLeft(busiest, "0")
	rng := rand.New(rand.NewPCG(1, 2))
	E := strconv.FormatUint(last, 10)
	epochOf := func(i int) string { return strconv.FormatUint(first+uint64(i%o.Epochs), 10) }
	return []page{
		{"map", func(i int) []string {
			return []string{"/v1/epochs?limit=50", "/v1/explorer/map?epoch=" + epochOf(i) + "&res=2",
				fmt.Sprintf("/v1/explorer/map?epoch=%s&res=6&bbox=%.4f,%.4f,%.4f,%.4f", epochOf(i), lat-1.5, lon-3, lat+1.5, lon+3)}
		}},
		{"map cell", func(int) []string { return []string{"/v1/explorer/cells/" + busiest + "?epoch=" + E} }},
		{"device", func(int) []string { return []string{"/v1/explorer/devices/bench-" + strconv.Itoa(rng.IntN(o.Devices))} }},
		{"device rejections", func(int) []string {
			// Devices d with d % 100 == 7 have rejections (seedNetwork).
			return []string{"/v1/explorer/devices/bench-" + strconv.Itoa(rng.IntN(o.Devices/100)*100+7) + "/rejections?epoch=" + E}
		}},
		{"owner", func(int) []string { return []string{"/v1/explorer/owners/" + owners[rng.IntN(len(owners))].Hex()} }},
		{"epoch", func(i int) []string { return []string{"/v1/explorer/epochs/" + epochOf(i)} }},
		{"epochs", func(int) []string { return []string{"/v1/epochs?limit=200"} }},
	}, nil
}

// measure loads p once cold (ClickHouse's caches dropped), then loads times.
func (c *chainStack) measure(ctx context.Context, hc *http.Client, url string, p page, loads int) (PageFigures, error) {
	for _, q := range []string{"SYSTEM DROP MARK CACHE", "SYSTEM DROP UNCOMPRESSED CACHE"} {
		if err := c.conn.Exec(ctx, q); err != nil {
			return PageFigures{}, err
		}
	}
	var lat []time.Duration
	f := PageFigures{Page: p.name, Loads: loads}
	for i := range loads + 1 {
		urls := p.urls(i)
		t0 := time.Now()
		for _, u := range urls {
			if err := fetchOK(ctx, hc, url+u); err != nil {
				return f, err
			}
		}
		lat = append(lat, time.Since(t0))
		if i == 0 {
			f.Requests = urls
		}
	}
	rest := lat[1:]
	f.ColdMs, f.P50Ms, f.P99Ms, f.MaxMs = round(lat[0]), round(stats.Percentile(rest, 50)), round(stats.Percentile(rest, 99)), round(stats.Percentile(rest, 100))
	return f, nil
}

// round is d in ms to two decimals.
func round(d time.Duration) float64 { return math.Round(stats.Ms(d)*100) / 100 }

// atRest waits (up to 5 minutes) until ClickHouse merges nothing: the
// figures are for a database at rest, not one still merging the seed's
// parts (which doubles the first loads' times).
func (c *chainStack) atRest(ctx context.Context) error {
	for t0 := time.Now(); time.Since(t0) < 5*time.Minute; time.Sleep(time.Second) {
		var merging uint64
		if err := c.conn.QueryRow(ctx, "SELECT (SELECT count() FROM system.merges) + (SELECT count() FROM system.mutations WHERE NOT is_done)").Scan(&merging); err != nil {
			return err
		}
		if merging == 0 {
			return nil
		}
	}
	return nil
}

// fetchOK asks for url and reads the whole answer, which must be 200 and JSON.
func fetchOK(ctx context.Context, hc *http.Client, url string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench explorer: GET %s: %d %v %v", url, resp.StatusCode, err, v)
	}
	return nil
}

// String is the figures as text.
func (f *ExplorerFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "network    %d devices of %d owners, %d epochs (seeded in %.1f s; the API warm after %.1f s)\n", f.Devices, f.Accounts, f.Epochs, f.SeedSecs, f.WarmSecs)
	for _, p := range f.Pages {
		fmt.Fprintf(&b, "%-18s cold %7.1f ms, p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms over %d loads\n", p.Page, p.ColdMs, p.P50Ms, p.P99Ms, p.MaxMs, p.Loads)
	}
	return b.String()
}
