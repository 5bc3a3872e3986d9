package explorer

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/fieldmint/fieldmint/api"
	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// get asks the API for path and decodes its JSON into out (when not nil),
// returning the status and the X-Cache header.
func get(t *testing.T, api *api.Server, path string, out any) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if out != nil && rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, rec.Body)
		}
	}
	if out != nil && rec.Code != 200 {
		var e struct{ Code string }
		json.Unmarshal(rec.Body.Bytes(), &e)
		return rec.Code, e.Code
	}
	return rec.Code, rec.Header().Get("X-Cache")
}

// h3 is the H3 cell of (lat, lon) at res, as ClickHouse computes it.
func h3(t *testing.T, e *settlertest.Env, lat, lon float64, res int) uint64 {
	var c uint64
	ctx := ch.Context(context.Background(), ch.WithSettings(ch.Settings{"geotoh3_argument_order": "lat_lon"}))
	if err := e.Conn.QueryRow(ctx, "SELECT geoToH3(?, ?, ?)", lat, lon, res).Scan(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// withExplorer returns e's proof API with the explorer mounted.
func withExplorer(t *testing.T, e *settlertest.Env) *api.Server {
	srv := e.API(t)
	srv.Explorer = New(e.Conn, srv)
	return srv
}

// TestExplorerAnswers: the explorer's JSON says what ClickHouse and the
// chain hold, under a real timelock (a root pending while another is
// active), and caches an epoch's answers only until its settlement moves.
func TestExplorerAnswers(t *testing.T) {
	e := settlertest.New(t, 4)
	api := withExplorer(t, e)
	lisbon, porto := h3(t, e, 38.7, -9.1, 8), h3(t, e, 41.15, -8.61, 8)
	seedExplorerEpoch(t, e, lisbon, porto)
	e.Settle(t, 10)
	e.StepUntil(t, 10, tables.Active)
	e.Scores(t, 11, map[string]uint64{alice: 1}) // 1000 more for alice, pending under the timelock
	e.Settle(t, 11)

	var d DeviceAnswer
	if code, _ := get(t, api, "/v1/explorer/devices/ws-a", &d); code != 200 {
		t.Fatalf("device ws-a: %d", code)
	}
	want := ScoreParts{Uptime: 4, Weight: 1000, Complete: 4, Moving: 3, Quality: 10000, DriftM: 12, Trust: 10000, Cell: cellHex(lisbon),
		Sharing: 2, Area: "1", Occupied: 1, Crowding: 10000, Score: 2000}
	if len(d.Epochs) != 1 || d.Epochs[0].Parts == nil || *d.Epochs[0].Parts != want || d.Epochs[0].Valid != 5 || d.Device.State != "active" ||
		d.Device.Owner != alice || d.Formula != "docs/scoring.md" {
		t.Fatalf("device ws-a: %+v, parts %+v, want %+v", d, d.Epochs[0].Parts, want)
	}
	// Alice's leaf pays 750 for a score of 3000; ws-a earned 2000 of it.
	if ep := d.Epochs[0]; ep.Reward != "500" || ep.OwnerReward != "750" || ep.OwnerScore != 3000 || ep.Settlement != "active" {
		t.Errorf("ws-a's reward: %+v, want 500 of its owner's 750, active", ep)
	}
	if len(d.Epochs[0].TrustedBy) != 0 {
		t.Errorf("ws-a signed every reading, the explorer says %v were trusted by a network server", d.Epochs[0].TrustedBy)
	}
	var hs DeviceAnswer
	if get(t, api, "/v1/explorer/devices/hs-a", &hs); len(hs.Epochs) != 1 || len(hs.Epochs[0].TrustedBy) != 1 || hs.Epochs[0].TrustedBy["cs-eu"] != 3 {
		t.Errorf("hs-a's readings trusted by a network server: %+v, want 3 by cs-eu", hs.Epochs)
	}
	var b DeviceAnswer
	get(t, api, "/v1/explorer/devices/ws-b", &b)
	if b.Device.State != "denylisted" || b.Device.DeniedReason != "clone ring" || b.Device.DeniedBy != alice {
		t.Errorf("ws-b should be denylisted for a clone ring by %s: %+v", alice, b.Device)
	}
	if len(b.Epochs) != 1 || b.Epochs[0].Rejected["OUT_OF_RANGE"] != 2 || b.Epochs[0].Reward != "250" || len(b.Rejections) != 2 ||
		b.Rejections[0].Detail != "temperature_c 99000 above 60000" || b.Rejections[0].Reason != "OUT_OF_RANGE" {
		t.Errorf("ws-b's epochs and evidence: %+v %+v", b.Epochs, b.Rejections)
	}
	var rej struct{ Rejections []RejectedReading }
	if get(t, api, "/v1/explorer/devices/ws-b/rejections?epoch=10&reason=OUT_OF_RANGE&limit=1", &rej); len(rej.Rejections) != 1 || rej.Rejections[0].Seq != 2 {
		t.Errorf("ws-b's newest OUT_OF_RANGE rejection: %+v", rej)
	}

	// Alice's page: what the proof API says she may claim, and the pending root.
	var o OwnerAnswer
	get(t, api, "/v1/explorer/owners/"+alice, &o)
	p := settlertest.Proof(t, api, alice)
	if o.Claim == nil || o.Claim.Claimable != p.Claimable || p.Claimable != "750" || o.Claim.Pending == nil || o.Claim.Pending.Epoch != 11 ||
		o.Claim.Pending.More != "1000" || o.Claim.Pending.ActivatesAtUnix == 0 {
		t.Errorf("alice's claim: %+v (proof API: %+v)", o.Claim, p)
	}
	if len(o.Devices) != 2 || o.Devices[0].DeviceID != "hs-a" || o.Devices[1].DeviceID != "ws-a" {
		t.Errorf("alice's devices: %+v", o.Devices)
	}
	if len(o.Epochs) != 2 || o.Epochs[0].Epoch != 11 || o.Epochs[0].Reward != "1000" || o.Epochs[0].Cumulative != "1750" || o.Epochs[0].Settlement != "proposed" ||
		o.Epochs[1].Epoch != 10 || o.Epochs[1].Reward != "750" || o.Epochs[1].Score != 3000 {
		t.Errorf("alice's epochs: %+v", o.Epochs)
	}

	checkExplorerMap(t, api, lisbon)
	var ep EpochAnswer
	get(t, api, "/v1/explorer/epochs/10", &ep)
	if ep.Settlement == nil || ep.Settlement.Status != "active" || ep.Devices != 3 || ep.Paid != 3 || ep.Owners != 2 || ep.Valid != 16 ||
		ep.Rejected != 2 || ep.Score != 4000 || len(ep.Kinds) != 2 || ep.Kinds[0].Kind != "RESOURCE_KIND_HOTSPOT" || ep.Kinds[0].Reward != "250" ||
		ep.Kinds[1].Reward != "750" || len(ep.Reasons) != 1 || ep.Reasons[0] != (ReasonCount{"OUT_OF_RANGE", 2, 1}) || ep.Tree != "/v1/epochs/10/tree" {
		t.Errorf("epoch 10: %+v %+v", ep, ep.Settlement)
	}
	// Epoch 11 is cached while proposed, and answered afresh once active.
	var e11 MapAnswer
	get(t, api, "/v1/explorer/map?epoch=11", &e11)
	if _, cache := get(t, api, "/v1/explorer/map?epoch=11", &e11); cache != "hit" || e11.Status != "proposed" {
		t.Errorf("epoch 11 while proposed: %s %s", cache, e11.Status)
	}
	e.StepUntil(t, 11, tables.Active)
	if _, cache := get(t, api, "/v1/explorer/map?epoch=11", &e11); cache != "miss" || e11.Status != "active" {
		t.Errorf("epoch 11 once active: %s %s, want a fresh answer", cache, e11.Status)
	}

	checkExplorerRefusals(t, api)
	explorerFindings(t, e, api)
}

// seedExplorerEpoch writes epoch 10 as the pipeline would: alice's weather
// station scores 2000 and her hotspot 1000; bob's station, in the same cell
// as alice's, 1000 (1000 tokens: alice 750, bob 250); two of bob's readings
// rejected, reported from Lisbon; the registry, bob's station denylisted.
func seedExplorerEpoch(t *testing.T, e *settlertest.Env, lisbon, porto uint64) {
	row := `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, cell, sharing, frauds, score,
		complete, moving, quality, drift_m, trust, witnessed, delivered, area, occupied, crowding) VALUES `
	e.Exec(t, row+`(10, 'ws-a', ?, 'RESOURCE_KIND_WEATHER', 5, 4, 1000, ?, 2, 0, 2000, 4, 3, 10000, 12, 10000, 0, 0, 1, 1, 10000),
		(10, 'hs-a', ?, 'RESOURCE_KIND_HOTSPOT', 7, 6, 1000, ?, 1, 0, 1000, 6, 1, 10000, 40, 10000, 1, 0, 2, 1, 10000),
		(10, 'ws-b', ?, 'RESOURCE_KIND_WEATHER', 4, 4, 1000, ?, 2, 0, 1000, 4, 3, 10000, 350, 2500, 0, 0, 1, 1, 10000)`,
		alice, lisbon, alice, porto, bob, lisbon)
	// Two of bob's readings were rejected, reported from Lisbon.
	for seq := 1; seq <= 2; seq++ {
		e.Exec(t, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, lat_e7, lon_e7, status, reason, detail, kafka_topic)
			VALUES ('ws-b', ?, now64(3), 10, 'RESOURCE_KIND_WEATHER', ?, 387000000, -91000000, 'rejected', 'OUT_OF_RANGE', 'temperature_c 99000 above 60000', 't')`, seq, bob)
	}
	// Three of alice's hotspot's readings came through a LoRaWAN network
	// server without its signature; one it signed.
	for seq, ns := range []string{"cs-eu", "cs-eu", "", "cs-eu"} {
		e.Exec(t, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, status, trusted_by, wire, kafka_topic)
			VALUES ('hs-a', ?, now64(3), 10, 'RESOURCE_KIND_HOTSPOT', ?, 'valid', ?, if(? = '', 2, 3), 't')`, seq+1, alice, ns, ns)
	}
	dev := `INSERT INTO devices (device_id, kind, owner, lat_e7, lon_e7, active, denied, denied_reason, denied_by, kafka_offset) VALUES `
	e.Exec(t, dev+`('ws-a', 'RESOURCE_KIND_WEATHER', ?, 387000000, -91000000, true, false, '', '', 1),
		('hs-a', 'RESOURCE_KIND_HOTSPOT', ?, 411500000, -86100000, true, false, '', '', 2),
		('ws-b', 'RESOURCE_KIND_WEATHER', ?, 387000000, -91000000, true, false, '', '', 3),
		('ws-b', 'RESOURCE_KIND_WEATHER', ?, 387000000, -91000000, true, true, 'clone ring', ?, 4)`, alice, alice, bob, bob, alice)
}

// checkExplorerMap: the Lisbon cell holds ws-a and ws-b, 3000 of 4000, and
// bob's two rejections; its parent at resolution 0 holds everything; boxes
// hold what is in them; a cell lists its devices.
func checkExplorerMap(t *testing.T, api *api.Server, lisbon uint64) {
	var m MapAnswer
	if code, cache := get(t, api, "/v1/explorer/map?epoch=10&res=8", &m); code != 200 || cache != "miss" {
		t.Fatalf("map: %d %s", code, cache)
	}
	cells := map[string]MapCell{}
	for _, c := range m.Cells {
		cells[c.Cell] = c
	}
	if c := cells[cellHex(lisbon)]; len(m.Cells) != 2 || c.Devices != 2 || c.Paid != 2 || c.Score != 3000 || c.Reward != "750" || c.Rejected != 2 ||
		c.RejectedDevices != 1 || len(c.Boundary) != 6 || c.Lat < 38.6 || c.Lat > 38.8 || m.Score != 4000 || m.Emission != "1000" || m.Status != "active" {
		t.Errorf("map at resolution 8: %+v", m)
	}
	if _, cache := get(t, api, "/v1/explorer/map?epoch=10&res=8", &m); cache != "hit" {
		t.Errorf("a scored epoch's map was not cached: %s", cache)
	}
	var coarse MapAnswer
	get(t, api, "/v1/explorer/map?epoch=10&res=0", &coarse)
	if len(coarse.Cells) != 1 || coarse.Cells[0].Score != 4000 || coarse.Cells[0].Devices != 3 {
		t.Errorf("map at resolution 0: %+v", coarse.Cells)
	}
	// A box around Porto holds its cell, at any resolution (from 5, a
	// small box is served by the cells near it only).
	for _, q := range []string{"res=8&bbox=40,-10,42,-8", "res=8&bbox=41.14,-8.62,41.16,-8.60", "res=5&bbox=41,-9,41.3,-8", "res=3&bbox=40,-10,42,-8"} {
		var porto MapAnswer
		if get(t, api, "/v1/explorer/map?epoch=10&"+q, &porto); len(porto.Cells) != 1 || porto.Cells[0].Devices != 1 || porto.Cells[0].Score != 1000 {
			t.Errorf("map %s (Porto): %+v", q, porto.Cells)
		}
	}
	var sea MapAnswer
	if get(t, api, "/v1/explorer/map?epoch=10&res=8&bbox=40,-20,41,-19", &sea); len(sea.Cells) != 0 {
		t.Errorf("map of a box at sea: %+v", sea.Cells)
	}
	var cell CellAnswer
	get(t, api, "/v1/explorer/cells/"+cellHex(lisbon)+"?epoch=10", &cell)
	if len(cell.Devices) != 2 || cell.Devices[0].DeviceID != "ws-a" || cell.Devices[0].Score != 2000 || cell.Devices[1].Rejected != 2 {
		t.Errorf("cell %s: %+v", cellHex(lisbon), cell)
	}

}

// checkExplorerRefusals: bad requests get a 4xx with their code; the map's
// countries come gzipped to a browser that takes it; the docs are served.
func checkExplorerRefusals(t *testing.T, api *api.Server) {
	for path, code := range map[string]string{
		"/v1/explorer/map?epoch=10&res=9":               wire.CodeBadResolution,
		"/v1/explorer/map?epoch=x":                      wire.CodeBadEpoch,
		"/v1/explorer/map?epoch=10&bbox=1,2,3":          wire.CodeBadBBox,
		"/v1/explorer/map?epoch=10&bbox=50,0,40,1":      wire.CodeBadBBox,
		"/v1/explorer/cells/zz?epoch=10":                wire.CodeBadCell,
		"/v1/explorer/cells/123?epoch=10":               wire.CodeBadCell, // hex, not a cell
		"/v1/explorer/devices/a%20b":                    wire.CodeBadDevice,
		"/v1/explorer/devices/nobody":                   wire.CodeNotFound,
		"/v1/explorer/devices/ws-a?limit=0":             wire.CodeBadLimit,
		"/v1/explorer/devices/ws-a/rejections?epoch=-1": wire.CodeBadEpoch,
		"/v1/explorer/owners/0x12":                      wire.CodeBadAddress,
		"/docs/nothing.md":                              wire.CodeNotFound,
	} {
		if status, got := get(t, api, path, &struct{}{}); got != code || status < 400 || status >= 500 {
			t.Errorf("GET %s: %d %s, want %s", path, status, got, code)
		}
	}
	req := httptest.NewRequest("GET", "/explorer/world.json", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	rec := httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, req)
	if zr, err := gzip.NewReader(rec.Body); err != nil || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("world.json: %v %v", err, rec.Header())
	} else if raw, _ := io.ReadAll(zr); !bytes.HasPrefix(raw, []byte(`{"type":"Topology"`)) {
		t.Errorf("world.json gunzipped starts %.40q", raw)
	}
	rec = httptest.NewRecorder()
	api.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/docs/scoring.md", nil))
	if rec.Code != 200 || !bytes.Contains(rec.Body.Bytes(), []byte("score    = 0 unless paid")) {
		t.Errorf("/docs/scoring.md: %d", rec.Code)
	}
}

// explorerFindings: a device the information checks stopped shows which
// check, and the evidence of each check: which device it followed and how
// far behind, which stretch of its own past it repeated.
func explorerFindings(t *testing.T, e *settlertest.Env, api *api.Server) {
	e.Exec(t, `INSERT INTO devices (device_id, kind, owner, lat_e7, lon_e7, active, denied, denied_reason, denied_by, kafka_offset)
		VALUES ('ws-copy', 'RESOURCE_KIND_WEATHER', ?, 388000000, -91000000, true, false, '', '', 5)`, bob)
	e.Exec(t, `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, weight, frauds, evidence, score)
		VALUES (12, 'ws-copy', ?, 'RESOURCE_KIND_WEATHER', 6, 6, 1000, 0, 'TRACKED_STREAM', 0)`, bob)
	e.Exec(t, `INSERT INTO stream_evidence (epoch, device_id, reason, flagged, other, measurement, lag_ms, from_time, to_time, samples, beta_bp, value) VALUES
		(12, 'ws-copy', 'TRACKED_STREAM', true, 'ws-a', 'pressure_hpa', 1500, fromUnixTimestamp64Milli(1000), fromUnixTimestamp64Milli(930000), 180, 9800, 8100),
		(12, 'ws-copy', 'LOOPED_STREAM', false, '', 'temperature_c', 180000, fromUnixTimestamp64Milli(2000), fromUnixTimestamp64Milli(177000), 186, 1200, 2500)`)
	var d DeviceAnswer
	if code, _ := get(t, api, "/v1/explorer/devices/ws-copy", &d); code != 200 || len(d.Epochs) != 1 || d.Epochs[0].Parts == nil {
		t.Fatalf("device ws-copy: %d %+v", code, d)
	}
	ep := d.Epochs[0]
	want := []Finding{
		{Reason: "TRACKED_STREAM", Flagged: true, Other: "ws-a", Measurement: "pressure_hpa", LagMs: 1500, From: "1970-01-01T00:00:01Z", To: "1970-01-01T00:15:30Z", Samples: 180, BetaBP: 9800, Value: 8100},
		{Reason: "LOOPED_STREAM", Measurement: "temperature_c", LagMs: 180000, From: "1970-01-01T00:00:02Z", To: "1970-01-01T00:02:57Z", Samples: 186, BetaBP: 1200, Value: 2500},
	}
	if ep.Parts.Evidence != "TRACKED_STREAM" || ep.Parts.Score != 0 || !slices.Equal(ep.Findings, want) {
		t.Errorf("ws-copy's epoch 12: evidence %q, findings %+v; want TRACKED_STREAM and %+v", ep.Parts.Evidence, ep.Findings, want)
	}
}

func cellHex(cell uint64) string { return strconv.FormatUint(cell, 16) }

// TestExplorerVendorMatchesPackages: the map's data and reader served by the
// API are the pinned npm packages' files (make generate copies them).
func TestExplorerVendorMatchesPackages(t *testing.T) {
	for vendored, pkg := range map[string]string{
		"countries-50m.json":      "world-atlas/countries-50m.json",
		"topojson-client.min.js":  "topojson-client/dist/topojson-client.min.js",
		"LICENSE.world-atlas":     "world-atlas/LICENSE",
		"LICENSE.topojson-client": "topojson-client/LICENSE",
	} {
		want, err := os.ReadFile(filepath.Join("web", "node_modules", pkg))
		if err != nil {
			t.Fatalf("%v: run `make deps` (npm install in explorer/web)", err)
		}
		got, err := explorerFiles.ReadFile("web/vendor/" + vendored)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("web/vendor/%s differs from the npm package's %s: run `make generate`", vendored, pkg)
		}
	}
	var topo struct {
		Type    string
		Objects map[string]json.RawMessage
	}
	raw, _ := explorerFiles.ReadFile("web/vendor/countries-50m.json")
	if err := json.Unmarshal(raw, &topo); err != nil || topo.Type != "Topology" || topo.Objects["countries"] == nil {
		t.Errorf("countries-50m.json is not a TopoJSON topology of countries: %v", err)
	}
}

// FuzzMapQuery: whatever the query, the map's parameters are refused with a
// code or within their ranges (what the SQL is built from).
func FuzzMapQuery(f *testing.F) {
	for _, q := range []string{"res=8&bbox=40,-10,42,-8", "res=9", "bbox=NaN,0,1,1", "bbox=1,2,3", "res=-1", "bbox=-90,-180,90,180", "res=08&bbox=1e2,0,1,1"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		res, b, fail := parseMapQuery(q)
		switch {
		case fail != nil:
			if fail.Status != 400 || (fail.Code != wire.CodeBadResolution && fail.Code != wire.CodeBadBBox) || b != nil {
				t.Fatalf("%q: %+v %v", raw, fail, b)
			}
		case res > 8:
			t.Fatalf("%q: resolution %d", raw, res)
		case b != nil && !(b[0] >= -90 && b[0] <= b[2] && b[2] <= 90 && b[1] >= -180 && b[1] <= b[3] && b[3] <= 180):
			t.Fatalf("%q: box %v", raw, *b)
		case b == nil && q.Get("bbox") != "":
			t.Fatalf("%q: a box given and none read", raw)
		}
	})
}

const (
	alice = settlertest.Alice
	bob   = settlertest.Bob
)
