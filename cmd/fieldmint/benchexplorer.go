//go:build !nodev

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/freeport"
)

// pageFigures is one page's latency in `fieldmint bench explorer`: the sum
// of the API requests its script makes, one after another as it does.
type pageFigures struct {
	Page     string   `json:"page"`
	Requests []string `json:"requests"` // what one load asks for (a sample)
	ColdMs   float64  `json:"coldMs"`   // the first load (the oldest epoch's, for the epoch-scoped pages: not warmed)
	P50Ms    float64  `json:"p50Ms"`
	P99Ms    float64  `json:"p99Ms"`
	MaxMs    float64  `json:"maxMs"`
	Loads    int      `json:"loads"`
}

// explorerFigures is `fieldmint bench explorer --json`'s object.
type explorerFigures struct {
	Devices  int           `json:"devices"`
	Accounts int           `json:"accounts"`
	Epochs   int           `json:"epochs"`
	Rejected int           `json:"rejected"` // rejected readings stored per epoch
	SeedSecs float64       `json:"seedSeconds"`
	WarmSecs float64       `json:"warmSeconds"` // from the API listening to its first proof (the root's index built)
	Pages    []pageFigures `json:"pages"`
}

// benchExplorer is `fieldmint bench explorer`: a network of many devices
// over many owners, its epochs scored and settled by the settler, then each
// explorer page's JSON requested from `fieldmint api`, page by page, first
// cold and then for random devices, owners and cells.
func benchExplorer(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	devices := fs.Int("devices", 1_000_000, "devices in the network")
	accounts := fs.Int("accounts", 250_000, "owners, each with devices/accounts devices")
	epochs := fs.Int("epochs", 6, "epochs scored and settled")
	loads := fs.Int("loads", 200, "loads of each page measured (random devices, owners, cells, epochs)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text; progress goes to stderr")
	serve := fs.Bool("serve", false, "keep the stack and the API running after the figures, to look at the explorer on the seeded network, until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench explorer: unexpected arguments %q", fs.Args())
	}
	if *accounts < 1 || *devices < *accounts || *epochs < 1 || *loads < 1 {
		return errors.New("bench explorer: --accounts, --epochs and --loads must be positive, --devices at least --accounts")
	}
	result := out
	if *asJSON {
		out = fs.Output()
	}
	bench, err := startChainBench(ctx, out, "bench explorer")
	if err != nil {
		return err
	}
	defer bench.close()
	procs, st, conn := bench.procs, bench.st, bench.conn
	c := st.Config
	fig := explorerFigures{Devices: *devices, Accounts: *accounts, Epochs: *epochs, Rejected: *devices / 100 * 3}

	fmt.Fprintf(out, "bench explorer: %d devices of %d owners in 300 towns, %d epochs of scores and rejections ...\n", *devices, *accounts, *epochs)
	owners := make([]common.Address, *accounts)
	for i := range owners {
		owners[i] = benchAccount(i)
	}
	first := c.Aggregate.Epoch(time.Now().UnixMilli()) - 1 // the distributor's first
	seeded := time.Now()
	if err := seedNetwork(ctx, conn, owners, *devices, first, *epochs, c.Aggregate.EpochLength); err != nil {
		return err
	}
	fig.SeedSecs = time.Since(seeded).Seconds()
	fmt.Fprintf(out, "bench explorer: seeded in %.1f s; the settler settles the %d epochs ...\n", fig.SeedSecs, *epochs)
	env := roleEnv(c)
	if _, err := procs.startEnv("settle", append(env, "FIELDMINT_SETTLE_POSTERKEY="+c.Settle.PosterKey), "settle"); err != nil {
		return err
	}
	last := first + uint64(*epochs) - 1
	if err := waitSettled(ctx, procs, conn, last, time.Now(), nil, nil, nil); err != nil {
		return err
	}
	// The figures are for a database at rest, not one still merging the
	// seed's parts (which doubles the first loads' times).
	for t0 := time.Now(); time.Since(t0) < 5*time.Minute; time.Sleep(time.Second) {
		var merging uint64
		if err := conn.QueryRow(ctx, "SELECT (SELECT count() FROM system.merges) + (SELECT count() FROM system.mutations WHERE NOT is_done)").Scan(&merging); err != nil {
			return err
		}
		if merging == 0 {
			break
		}
	}
	listen := freeport.Addr()
	if _, err := procs.startEnv("api", append(env, "FIELDMINT_SETTLE_APILISTEN="+listen), "api"); err != nil {
		return err
	}
	if err := procs.waitHealthy(ctx, "api", listen); err != nil {
		return err
	}
	hc := &http.Client{}
	url := "http://" + listen
	// The API builds the active root's proof index when it starts (warm):
	// the figures are taken once it answers, and say how long that took.
	warmed := time.Now()
	for fetchOK(ctx, hc, url+"/v1/rewards/"+owners[0].Hex()) != nil {
		if err := procs.alive(); err != nil || time.Since(warmed) > 2*time.Minute {
			return fmt.Errorf("bench explorer: the API never answered a proof (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fig.WarmSecs = time.Since(warmed).Seconds()
	fmt.Fprintf(out, "bench explorer: the API answered its first proof %.1f s after it started listening\n", fig.WarmSecs)

	// The busiest cell of the last epoch at resolution 8, and a view's box
	// around it, as the map asks when zoomed in on it.
	var busiest string
	var lat, lon float64
	if err := conn.QueryRow(ctx, `SELECT lower(hex(cell)), h3ToGeo(cell).1, h3ToGeo(cell).2 FROM device_scores WHERE epoch = ? GROUP BY cell ORDER BY count() DESC LIMIT 1`,
		last).Scan(&busiest, &lat, &lon); err != nil {
		return err
	}
	busiest = trimZeros(busiest)
	rng := rand.New(rand.NewPCG(1, 2))
	E := strconv.FormatUint(last, 10)
	pages := []struct {
		name string
		urls func(i int) []string
	}{
		{"map", func(i int) []string {
			e := strconv.FormatUint(first+uint64(i%*epochs), 10)
			return []string{"/v1/epochs?limit=50", "/v1/explorer/map?epoch=" + e + "&res=2",
				fmt.Sprintf("/v1/explorer/map?epoch=%s&res=6&bbox=%.4f,%.4f,%.4f,%.4f", e, lat-1.5, lon-3, lat+1.5, lon+3)}
		}},
		{"map cell", func(i int) []string { return []string{"/v1/explorer/cells/" + busiest + "?epoch=" + E} }},
		{"device", func(i int) []string {
			return []string{"/v1/explorer/devices/bench-" + strconv.Itoa(rng.IntN(*devices))}
		}},
		{"device rejections", func(i int) []string {
			// Devices d with d % 100 == 7 have rejections (seedNetwork).
			return []string{"/v1/explorer/devices/bench-" + strconv.Itoa(rng.IntN(*devices/100)*100+7) + "/rejections?epoch=" + E}
		}},
		{"owner", func(i int) []string { return []string{"/v1/explorer/owners/" + owners[rng.IntN(len(owners))].Hex()} }},
		{"epoch", func(i int) []string {
			return []string{"/v1/explorer/epochs/" + strconv.FormatUint(first+uint64(i%*epochs), 10)}
		}},
		{"epochs", func(i int) []string { return []string{"/v1/epochs?limit=200"} }},
	}
	for _, p := range pages {
		var lat []time.Duration
		var sample []string
		// The first load finds nothing in ClickHouse's caches either.
		for _, q := range []string{"SYSTEM DROP MARK CACHE", "SYSTEM DROP UNCOMPRESSED CACHE"} {
			if err := conn.Exec(ctx, q); err != nil {
				return err
			}
		}
		for i := range *loads + 1 {
			urls := p.urls(i)
			t0 := time.Now()
			for _, u := range urls {
				if err := fetchOK(ctx, hc, url+u); err != nil {
					return err
				}
			}
			lat = append(lat, time.Since(t0))
			if i == 0 {
				sample = urls
			}
		}
		f := pageFigures{Page: p.name, Requests: sample, ColdMs: ms(lat[0]), Loads: *loads}
		rest := lat[1:]
		slices.Sort(rest)
		f.P50Ms, f.P99Ms, f.MaxMs = ms(rest[len(rest)/2]), ms(rest[len(rest)*99/100]), ms(rest[len(rest)-1])
		fig.Pages = append(fig.Pages, f)
		fmt.Fprintf(out, "bench explorer: %-18s cold %7.1f ms, p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms over %d loads\n", p.name, f.ColdMs, f.P50Ms, f.P99Ms, f.MaxMs, f.Loads)
	}
	if *asJSON {
		if err := json.NewEncoder(result).Encode(fig); err != nil {
			return err
		}
	}
	if *serve {
		fmt.Fprintf(out, "bench explorer: serving the explorer at %s/explorer and ClickHouse at http://127.0.0.1:%d until interrupted\n", url, c.Dev.CHHTTPPort)
		<-ctx.Done()
	}
	return nil
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())/10) / 100 }

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
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

// seedNetwork writes what the pipeline would have: the registry of devices
// (device d owned by owners[d % len], of one of four kinds, in one of 300
// towns), then for each epoch every device's score with its parts, and three
// rejected readings of every hundredth device (through the readings table,
// so epoch_rejections is fed by its view), and the epoch closed and scored.
func seedNetwork(ctx context.Context, conn driver.Conn, owners []common.Address, devices int, first uint64, epochs int, length time.Duration) error {
	rng := rand.New(rand.NewPCG(7, 7))
	type town struct{ lat, lon float64 }
	towns := make([]town, 300)
	for i := range towns {
		towns[i] = town{rng.Float64()*110 - 45, rng.Float64()*340 - 170}
	}
	kinds := []string{"RESOURCE_KIND_WEATHER", "RESOURCE_KIND_ENERGY", "RESOURCE_KIND_HOTSPOT", "RESOURCE_KIND_BANDWIDTH"}
	const chunk = 200_000
	for from := 0; from < devices; from += chunk {
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO devices (device_id, public_key, kind, owner, lat_e7, lon_e7, registered_at, active, kafka_offset)")
		if err != nil {
			return err
		}
		for d := from; d < min(from+chunk, devices); d++ {
			t := towns[rng.IntN(len(towns))]
			la, lo := t.lat+rng.NormFloat64()*0.1, t.lon+rng.NormFloat64()*0.1
			if err := batch.Append("bench-"+strconv.Itoa(d), "", kinds[d%4], owners[d%len(owners)].Hex(), int32(la*1e7), int32(lo*1e7), time.Now(), true, uint64(d)); err != nil {
				batch.Abort()
				return err
			}
		}
		if err := batch.Send(); err != nil {
			return err
		}
	}
	settings := " SETTINGS geotoh3_argument_order = 'lat_lon'"
	for e := first; e < first+uint64(epochs); e++ {
		if err := conn.Exec(ctx, `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, frauds, score,
			complete, moving, quality, drift_m, trust, area, occupied, crowding)
			SELECT ?, device_id, owner, kind, 360, u, 1000, geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 8), 1, 0, u * 1000, u, 3, 10000, 20, 10000,
			       geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 6), 1, 10000
			FROM (SELECT device_id, owner, kind, lat_e7, lon_e7, 1 + cityHash64(device_id, ?) % 360 AS u FROM devices)`+settings, e, e); err != nil {
			return err
		}
		start := time.UnixMilli(int64(e) * length.Milliseconds()).UTC()
		if err := conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, lat_e7, lon_e7, received_at, status, reason, detail, kafka_topic)
			SELECT device_id, n, ? + toIntervalSecond(n), ?, kind, owner, lat_e7, lon_e7, ? + toIntervalSecond(n), 'rejected',
			       ['OUT_OF_RANGE', 'RATE_EXCEEDED', 'LOCATION_DRIFT'][n + 1], 'bench: a made-up rejection', 'bench'
			FROM devices ARRAY JOIN [0, 1, 2] AS n WHERE toUInt64(substring(device_id, 7)) % 100 = 7`, start, e, start); err != nil {
			return err
		}
		if err := conn.Exec(ctx, "INSERT INTO epochs VALUES (?, ?, ?, now64(3))", e, start, start.Add(length)); err != nil {
			return err
		}
		if err := conn.Exec(ctx, "INSERT INTO scored_epochs VALUES (?, now64(3))", e); err != nil {
			return err
		}
	}
	return nil
}
