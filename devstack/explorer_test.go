package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/net/html"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/claim"
)

// dom is a page as Chromium left it.
type dom struct{ root *html.Node }

func parseDOM(t *testing.T, s string) dom {
	n, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return dom{n}
}

// find returns the first node under n for which match holds, or nil.
func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n == nil {
		return nil
	}
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func withAttr(key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool { return attr(n, key) == val }
}

func text(n *html.Node) string {
	if n == nil {
		return "<missing>"
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// byID is the text of the element with id.
func (d dom) byID(id string) string { return text(find(d.root, withAttr("id", id))) }

// cell is the text of the data-field cell of the row for epoch in the table
// with id table.
func (d dom) cell(table string, epoch uint64, field string) *html.Node {
	row := find(find(d.root, withAttr("id", table)), withAttr("data-epoch", strconv.FormatUint(epoch, 10)))
	return find(row, withAttr("data-field", field))
}

// screenshots is where the explorer's pages are saved as PNGs:
// $FIELDMINT_SCREENSHOTS, or fieldmint-explorer under the temporary
// directory. docs/explorer.md shows the ones in docs/explorer/.
func screenshots(t *testing.T) string {
	dir := os.Getenv("FIELDMINT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "fieldmint-explorer")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestExplorerPages: on a running pipeline with a real timelock, the
// explorer's pages, loaded in headless Chromium, show what ClickHouse and
// the proof API hold: a device's score parts and reward, a denylisting with
// its reason and admin, a rejected reading's evidence one click from its
// device, an owner's claimable amount, an epoch's root, and the map's cells.
func TestExplorerPages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r := runExplorerEpoch(t, ctx)
	info, conn, epoch, at, owner, a, b := r.info, r.conn, r.epoch, r.at, r.owner, r.a, r.b
	adminHex := r.admin.Hex()
	// What the pages must show, from ClickHouse and the proof API.
	var uptime, weight, quality, trust, sharing, crowding, frauds, score, leafScore uint64
	if err := conn.QueryRow(ctx, `SELECT uptime, weight, quality, trust, sharing, crowding, frauds, score FROM device_scores FINAL WHERE epoch = ? AND device_id = ?`,
		epoch, a.id).Scan(&uptime, &weight, &quality, &trust, &sharing, &crowding, &frauds, &score); err != nil {
		t.Fatal(err)
	}
	var leafAmount big.Int
	if err := conn.QueryRow(ctx, "SELECT score, amount FROM reward_leaves FINAL WHERE epoch = ? AND account = ?", epoch, owner.Hex()).Scan(&leafScore, &leafAmount); err != nil {
		t.Fatal(err)
	}
	wantReward := new(big.Int).Div(new(big.Int).Mul(&leafAmount, new(big.Int).SetUint64(score)), new(big.Int).SetUint64(leafScore))
	// The API follows the chain: its answer reaches the epoch's active root
	// within a block.
	var proof wire.RewardProof
	testenv.WaitFor(t, 30*time.Second, fmt.Sprintf("the proof API's answer for epoch %d's root", epoch), func() bool {
		resp, err := http.Get(info.APIURL + "/v1/rewards/" + owner.Hex())
		if err != nil {
			t.Fatal(err)
		}
		proof = wire.RewardProof{}
		json.NewDecoder(resp.Body).Decode(&proof)
		resp.Body.Close()
		return proof.Epoch >= epoch
	})
	// ws-a is the owner's only paid device and E the only paid epoch: its
	// reward is the owner's whole cumulative amount.
	if score == 0 || proof.Epoch != epoch || proof.CumulativeAmount != wantReward.String() {
		t.Fatalf("ws-a scored %d, its reward %s; the proof API says %+v", score, wantReward, proof)
	}
	var detail string
	if err := conn.QueryRow(ctx, "SELECT detail FROM readings WHERE device_id = ? AND status = 'rejected' AND reason = 'OUT_OF_RANGE'", b.id).Scan(&detail); err != nil || detail == "" {
		t.Fatalf("ws-b's rejection: %q %v", detail, err)
	}

	shots := screenshots(t)
	page := func(name, fragment string) dom {
		t.Helper()
		d := parseDOM(t, testenv.Chromium(t, ctx, info.APIURL+"/explorer"+fragment, filepath.Join(shots, name+".png")))
		if s := attr(find(d.root, func(n *html.Node) bool { return n.Data == "body" }), "data-state"); s != "ready" {
			t.Fatalf("page %s: state %q: %s", fragment, s, d.byID("error"))
		}
		return d
	}
	E := strconv.FormatUint(epoch, 10)

	dev := page("device", "#/device/ws-a")
	for field, want := range map[string]string{"uptime": fmt.Sprint(uptime), "weight": fmt.Sprint(weight), "quality": fmt.Sprint(float64(quality)/100) + " %",
		"trust": fmt.Sprint(float64(trust)/100) + " %", "sharing": fmt.Sprint(sharing), "crowding": fmt.Sprint(float64(crowding)/100) + " %",
		"frauds": fmt.Sprint(frauds), "score": fmt.Sprint(score), "settlement": "active"} {
		if got := text(dev.cell("epochs", epoch, field)); got != want {
			t.Errorf("device page, epoch %d, %s: %q, want %q (device_scores)", epoch, field, got, want)
		}
	}
	if got := attr(dev.cell("epochs", epoch, "reward"), "data-base-units"); got != proof.CumulativeAmount {
		t.Errorf("device page reward %s, want the proof API's %s", got, proof.CumulativeAmount)
	}
	if dev.byID("state") != "active" || dev.byID("owner") != owner.Hex() || attr(find(dev.root, withAttr("id", "formula-link")), "href") != "/docs/scoring.md" {
		t.Errorf("device page: state %q, owner %q, formula link %q", dev.byID("state"), dev.byID("owner"), attr(find(dev.root, withAttr("id", "formula-link")), "href"))
	}

	insertFindings(t, ctx, conn, epoch, at(0))
	// ws-b: its rejection is counted in the epoch's row, its evidence shown
	// below, and the count links to the rejections page, which shows it too.
	rejected := page("device-rejected", "#/device/ws-b")
	checkFindings(t, text(find(rejected.root, withAttr("id", "findings"))), at(0))
	evidence := find(rejected.cell("epochs", epoch, "rejected"), withAttr("data-reason", "OUT_OF_RANGE"))
	if text(evidence) != "OUT_OF_RANGE × 1" || !strings.Contains(text(find(rejected.root, withAttr("id", "rejections"))), detail) {
		t.Errorf("ws-b's page: rejected %q; evidence table %q, want %q", text(evidence), text(find(rejected.root, withAttr("id", "rejections"))), detail)
	}
	if href := attr(evidence, "href"); href != "#/device/ws-b/rejections?epoch="+E+"&reason=OUT_OF_RANGE" {
		t.Errorf("the evidence link is %q", href)
	} else if d := page("rejections", href); !strings.Contains(text(find(d.root, withAttr("data-field", "detail"))), detail) {
		t.Errorf("the rejections page does not show the evidence %q", detail)
	}

	denied := page("device-denylisted", "#/device/cheat")
	if denied.byID("state") != "denylisted" || denied.byID("denied-reason") != "replayed its readings" || denied.byID("denied-by") != adminHex {
		t.Errorf("the cheat's page: %q %q %q", denied.byID("state"), denied.byID("denied-reason"), denied.byID("denied-by"))
	}

	o := page("owner", "#/owner/"+owner.Hex())
	if want := tokens(proof.Claimable); o.byID("claimable") != want || o.byID("cumulative") != tokens(proof.CumulativeAmount) {
		t.Errorf("owner page: claimable %q, cumulative %q; want %q and %q (proof API)", o.byID("claimable"), o.byID("cumulative"), want, tokens(proof.CumulativeAmount))
	}
	if attr(find(o.root, withAttr("id", "claim-link")), "href") != "/claim?address="+owner.Hex() || !strings.Contains(o.byID("devices"), "ws-a") {
		t.Errorf("owner page: claim link %q, devices %q", attr(find(o.root, withAttr("id", "claim-link")), "href"), o.byID("devices"))
	}

	ep := page("epoch", "#/epoch/"+E)
	// active, or final once a later root was activated over it
	if st := ep.byID("status"); st != "active" && st != "final" || ep.byID("root") != proof.Root || !strings.Contains(ep.byID("reasons"), "OUT_OF_RANGE") ||
		attr(find(ep.root, withAttr("id", "tree-link")), "href") != "/v1/epochs/"+E+"/tree" {
		t.Errorf("epoch page: status %q, root %q (want %s), reasons %q", ep.byID("status"), ep.byID("root"), proof.Root, ep.byID("reasons"))
	}
	checkVotes(t, ep, info, proof.Root)
	if list := page("epochs", "#/epochs"); !strings.Contains(text(find(list.root, withAttr("data-epoch", E))), proof.Root[:10]) {
		t.Errorf("epochs page: row %q", text(find(list.root, withAttr("data-epoch", E))))
	}

	var cell string
	if err := conn.QueryRow(ctx, "SELECT lower(hex(cell)) FROM device_scores FINAL WHERE epoch = ? AND device_id = ?", epoch, a.id).Scan(&cell); err != nil {
		t.Fatal(err)
	}
	cell = strings.TrimLeft(cell, "0")
	m := page("map", "#/map?epoch="+E+"&cell="+cell)
	if n, _ := strconv.Atoi(attr(find(m.root, withAttr("id", "map")), "data-cells")); n == 0 || m.byID("cell-id") != cell || !strings.Contains(m.byID("cell-devices"), "ws-a") {
		t.Errorf("map page: %d cells drawn, cell %q with %q", n, m.byID("cell-id"), m.byID("cell-devices"))
	}
	t.Logf("screenshots in %s", shots)
}

// explorerRun is an epoch run through the pipeline for TestExplorerPages:
// its root active, the cheat denylisted.
type explorerRun struct {
	info  Info
	conn  driver.Conn
	epoch uint64
	at    func(k int64) int64
	owner common.Address
	admin common.Address
	a, b  device
}

// runExplorerEpoch sends, in a past epoch E, ws-a's (the owner's) 3 valid
// readings, ws-b's 2 valid and one out of range, and the cheat's one valid
// and a replay; moves time on until E's root is active (after a real
// timelock); and has an admin denylist the cheat.
func runExplorerEpoch(t *testing.T, ctx context.Context) *explorerRun {
	settled := make(chan settler.Settled, 20)
	scoring := weatherScoring(t)
	stack := startPipeline(t, ctx, 2, func(cfg *Config) {
		cfg.Settle.EmissionPerEpoch = "5000000000000000000"
		cfg.Aggregate.ScoringFile = scoring
		cfg.Dev.Timelock = 5 * time.Second // roots wait, as in production
		// Two operators, both signing each root: the epoch page shows their votes.
		cfg.Dev.Settlers, cfg.Dev.Threshold = 2, 2
		cfg.Settle.TurnDelay, cfg.Settle.CutMargin = time.Second, 0
	}, func(s settler.Settled) { settled <- s })
	c, info := stack.Config, stack.Info()
	signers := stack.OwnerSigners()
	owner := stack.OwnerAddresses()[0]
	ingest := &client.Client{URL: info.IngestURL}
	a, b, cheat := newDevice("ws-a", 387_000_000), newDevice("ws-b", 388_000_000), newDevice("cheat", 389_000_000)
	ticker := newDevice("ticker", 386_000_000)
	for i, d := range []device{a, b, cheat, ticker} {
		d.register(t, ctx, ingest, signers[i%2])
	}
	length := c.Aggregate.EpochLength.Milliseconds()
	epoch := uint64(time.Now().UnixMilli()/length) - 1
	at := func(k int64) int64 { return int64(epoch)*length + 1000*k }
	send := func(rs ...*pb.SignedReading) {
		t.Helper()
		if _, err := ingest.SendV1(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	send(a.reading(t, 1, at(1), 20_000), a.reading(t, 2, at(2), 20_100), a.reading(t, 3, at(3), 20_200))
	send(b.reading(t, 1, at(1), 19_000), b.reading(t, 2, at(2), 19_100), b.reading(t, 3, at(3), 99_000))
	send(cheat.reading(t, 7, at(1), 18_000), cheat.reading(t, 7, at(4), 35_000))
	// The ticker's readings, out of range, move time on until E's root is
	// active (after the 5 s timelock).
	for seq, active := uint64(100), false; !active; seq++ {
		send(ticker.reading(t, seq, time.Now().UnixMilli(), 99_000))
		select {
		case s := <-settled:
			active = s.Epoch == epoch && s.State == tables.Active
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("epoch never became active")
		}
	}
	admin, err := chain.ParseKey(info.Admin.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.Deny(ctx, cheat.id, "replayed its readings", client.OwnerKey(admin)); err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, func() error {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM devices_current WHERE device_id = ? AND denied AND denied_by = ?", cheat.id, chain.Address(admin).Hex()).Scan(&n); err != nil || n != 1 {
			return fmt.Errorf("the denylisting is not in devices_current yet (%v)", err)
		}
		return nil
	})

	return &explorerRun{info: info, conn: conn, epoch: epoch, at: at, owner: owner, admin: chain.Address(admin), a: a, b: b}
}

// tokens writes base units as the pages do (18 decimals, exactly).
func tokens(base string) string {
	v, _ := new(big.Int).SetString(base, 10)
	return claim.FormatUnits(v, 18) + " FMNT"
}

// insertFindings stores two findings about ws-b, as the aggregator would
// (the checks are off in TestExplorerPages: its readings are a few seconds
// long): its stream followed ws-a's (passed) and repeated its own past
// (stopped its pay), both from start.
func insertFindings(t *testing.T, ctx context.Context, conn driver.Conn, epoch uint64, start int64) {
	t.Helper()
	if err := conn.Exec(ctx, `INSERT INTO stream_evidence (epoch, device_id, reason, flagged, other, measurement, lag_ms, from_time, to_time, samples, beta_bp, value) VALUES
		(?, 'ws-b', 'TRACKED_STREAM', false, 'ws-a', 'temperature_c', 1500, fromUnixTimestamp64Milli(?), fromUnixTimestamp64Milli(?), 120, 4200, 1200),
		(?, 'ws-b', 'LOOPED_STREAM', true, '', 'temperature_c', 180000, fromUnixTimestamp64Milli(?), fromUnixTimestamp64Milli(?), 150, 9100, 9000)`,
		epoch, start, start+600_000, epoch, start, start+175_000); err != nil {
		t.Fatal(err)
	}
}

// checkFindings: the device page shows insertFindings' findings in words:
// which device its stream followed and how far behind, which stretch of its
// own past it repeated, and which stopped its pay.
func checkFindings(t *testing.T, findings string, start int64) {
	t.Helper()
	hms := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04:05") }
	for _, want := range []string{"its temperature_c followed ws-a 1.5 s behind, over " + hms(start) + "–" + hms(start+600_000), "passed",
		"its temperature_c repeated its own readings of " + hms(start) + "–" + hms(start+175_000) + ", 180.0 s later", "stopped its pay"} {
		if !strings.Contains(findings, want) {
			t.Errorf("ws-b's information checks %q: no %q", findings, want)
		}
	}
}

// checkVotes: the epoch page lists every settler's vote, for the root on chain.
func checkVotes(t *testing.T, ep dom, info Info, root string) {
	t.Helper()
	for _, st := range info.Settlers {
		row := text(find(ep.root, withAttr("data-signer", st.Address)))
		if !strings.Contains(row, root[:10]) || !strings.HasSuffix(row, "yes") {
			t.Errorf("epoch page: settler %s's vote %q, want one for root %s", st.Address, row, root)
		}
	}
}
