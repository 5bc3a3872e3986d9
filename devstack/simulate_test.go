package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/roles"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/simulate"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// TestSimulateReport runs `fieldmint simulate` against the whole pipeline
// (kfake, ClickHouse, a dev chain) with half of 100 devices cheating, one
// strategy each, and the information checks on (over windows scaled to a
// run of two and a half minutes), and checks the detection report: each
// strategy caught by the check meant for it, those with nothing honest in
// them paid nothing, honest devices neither rejected nor stopped, and the
// rewards adding up to the emission. verify-epoch then recomputes the last
// epoch, evidence included, and a replay of the log into a fresh database
// finds every score and every finding the live pipeline stored.
func TestSimulateReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	scoring := filepath.Join(t.TempDir(), "scoring.yaml")
	// Readings every 2 s; evidence windows of three minutes before an epoch
	// and a minute after (the loops record 72 s, and are folded over three
	// periods); copies up to 30 s late.
	policy := "kinds:\n  weather: {interval: 2s}\n  energy: {interval: 2s}\n  bandwidth: {interval: 2s}\n  hotspot: {interval: 2s}\n" +
		"information: {back: 3m, ahead: 1m, minPeriod: 40s, maxLag: 30s}\n"
	if err := os.WriteFile(scoring, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	stack := startPipeline(t, ctx, 1, func(c *Config) { c.Aggregate.ScoringFile = scoring }, nil)
	c := stack.Config
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn, err := clickhouse.Dial(ctx, c.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	policyLoaded, err := aggregator.LoadScoring(scoring)
	if err != nil {
		t.Fatal(err)
	}
	sim := simulate.Config{URL: stack.Info().IngestURL, Network: c.Ingest.Network, Devices: 100, Owners: 4, FraudPercent: 50,
		Interval: 2 * time.Second, Duration: 150 * time.Second, Seed: "test", SettleTimeout: 3 * time.Minute, Maker: DevMaker(), Scoring: policyLoaded}
	var out strings.Builder
	rep, err := simulate.Run(ctx, sim, conn, c.Aggregate.EpochLength, &out, log)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	rows := map[string]simulate.Row{}
	for _, r := range rep.Strategies {
		rows[r.Strategy] = r
	}
	checkCaught(t, rep, rows)
	checkPaid(t, rep, rows)
	// verify-epoch scores the last epoch's devices of every kind (counters,
	// witnesses) again, with the evidence, and finds the stored rows, tree
	// and root.
	var verified strings.Builder
	last := rep.Epochs[len(rep.Epochs)-1]
	if err := roles.RunVerifyEpoch(ctx, c.Config, []string{strconv.FormatUint(last, 10)}, &verified, log); err != nil {
		t.Errorf("verify-epoch %d: %v\n%s", last, err, verified.String())
	}
	checkExport(t, ctx, c.Config, last, log)
	replayFindsTheSame(t, ctx, c.Config, conn, rep.Epochs, log)
}

// checkCaught: honest devices neither rejected for fraud nor stopped, and
// each strategy caught by what it does: a validator's rejection, or an
// information check at epoch close.
func checkCaught(t *testing.T, rep *simulate.Report, rows map[string]simulate.Row) {
	t.Helper()
	honest := rows["honest"]
	if honest.Valid == 0 || honest.FalseRejectPPM == nil || *honest.FalseRejectPPM > 1_000 {
		t.Errorf("honest devices: %d valid, %v per million rejected %v (goal: at most 1,000)", honest.Valid, honest.FalseRejectPPM, honest.Rejected)
	}
	if len(honest.Evidence) != 0 || rep.HonestLossBasisPoints > 10 {
		t.Errorf("honest devices stopped %v, honest loss %d bp (goal: none, at most 10)", honest.Evidence, rep.HonestLossBasisPoints)
	}
	for strategy, reasons := range map[string][]string{
		"replay": {"DUPLICATE"}, "clock": {"CLOCK_FUTURE"}, "inflate": {"OUT_OF_RANGE"}, "spoof": {"LOCATION_DRIFT"},
		"clone": {"CLONED_STREAM"}, "sybil": {"CLONED_STREAM"}, "witness": {"WITNESS_"}, "flood": {"RATE_EXCEEDED"},
		"nearcopy": {aggregator.ReasonTracked, aggregator.ReasonNoisy}, "loop": {aggregator.ReasonLooped},
		"countercopy": {aggregator.ReasonTracked, aggregator.ReasonNoisy}, "counterloop": {aggregator.ReasonLooped},
		"witnessloop": {aggregator.ReasonLooped}, "multikind": {aggregator.ReasonSharedClock, aggregator.ReasonGenerated},
	} {
		r, ok := rows[strategy]
		if !ok {
			t.Errorf("no %s devices in the report", strategy)
			continue
		}
		caught := uint64(0)
		for _, reason := range reasons {
			for code, n := range r.Rejected {
				if strings.HasPrefix(code, reason) {
					caught += n
				}
			}
			caught += r.Evidence[reason]
		}
		if caught == 0 {
			t.Errorf("%s: no %v (rejected %v, stopped %v)", strategy, reasons, r.Rejected, r.Evidence)
		}
	}
}

// checkPaid: the rewards add up to the emission, honest devices are paid
// exactly fair, and cheats with nothing honest in them are paid nothing.
func checkPaid(t *testing.T, rep *simulate.Report, rows map[string]simulate.Row) {
	t.Helper()
	paid := new(big.Int)
	for _, r := range rep.Strategies {
		v, _ := new(big.Int).SetString(r.Reward, 10)
		paid.Add(paid, v)
	}
	// Cheats with nothing honest in them earn nothing.
	for _, s := range []string{"clock", "inflate", "spoof", "witness"} {
		if r := rows[s]; r.Reward != "0" || r.Valid != 0 {
			t.Errorf("%s: %d valid readings, reward %s", s, r.Valid, r.Reward)
		}
	}
	if f := rows["forge"]; f.Valid != 0 || f.RefusedAtIngest == 0 {
		t.Errorf("forge: %d valid, %d refused at ingest", f.Valid, f.RefusedAtIngest)
	}
	// The devices' rewards are the emission, less the floor of each share.
	emission, _ := new(big.Int).SetString(rep.Emission, 10)
	dust := new(big.Int).Sub(emission, paid)
	if dust.Sign() < 0 || dust.Cmp(big.NewInt(int64(100*len(rep.Epochs)))) > 0 {
		t.Errorf("rewards %s of emission %s: %s left over", paid, emission, dust)
	}
	// What the settler paid (device_scores) adds up the same way, honest
	// devices are paid, and the strategies with nothing honest in them are
	// paid nothing: their gain is 0.
	settled := new(big.Int)
	for _, r := range rep.Strategies {
		v, ok := new(big.Int).SetString(r.Paid, 10)
		if !ok {
			t.Fatalf("%s: paid %q", r.Strategy, r.Paid)
		}
		settled.Add(settled, v)
	}
	if left := new(big.Int).Sub(emission, settled); left.Sign() < 0 || left.Cmp(big.NewInt(int64(100*len(rep.Epochs)))) > 0 {
		t.Errorf("paid %s of emission %s", settled, emission)
	}
	if rows["honest"].Paid == "0" || rows["honest"].GainBasisPoints != 10_000 {
		t.Errorf("honest: paid %s, gain %d bp; want paid and exactly 1x (10,000 bp)", rows["honest"].Paid, rows["honest"].GainBasisPoints)
	}
	// Nor are the fabrications that pay nothing by construction: made-up
	// values (quality 0, whether or not STUCK_SENSOR fired yet), a device
	// without a known maker (never registered). (A replayer's real first
	// readings are forfeited only once its duplicates outnumber them
	// fourfold before the epoch is scored, and a loop's first pass only once
	// it repeats within the evidence window: in a run this short, not
	// always.)
	for _, s := range []string{"clock", "inflate", "forge", "constant", "dither", "counterfeit"} {
		if r := rows[s]; r.Paid != "0" || r.GainBasisPoints != 0 {
			t.Errorf("%s: paid %s (gain %d bp), want nothing", s, r.Paid, r.GainBasisPoints)
		}
	}
	// Copies, noisy or not, are stopped once their window holds enough
	// changes to compare (minSamples): the run's first epoch or two may
	// pay them, the rest must not. A fifth of fair at most.
	for _, s := range []string{"nearcopy", "countercopy"} {
		if r := rows[s]; r.GainBasisPoints > 2_000 {
			t.Errorf("%s: paid %s (gain %d bp), want at most a fifth of fair", s, r.Paid, r.GainBasisPoints)
		}
	}
	if c := rows["counterfeit"]; c.Valid != 0 || c.RefusedAtIngest == 0 {
		t.Errorf("counterfeit: %d valid, %d refused at ingest", c.Valid, c.RefusedAtIngest)
	}
}

// replayFindsTheSame rebuilds a fresh database from the Kafka log with
// `fieldmint replay` and compares its scores and findings of the epochs
// with the live ones: the information checks reproduce bit for bit.
func replayFindsTheSame(t *testing.T, ctx context.Context, c roles.Config, live driver.Conn, epochs []uint64, log *slog.Logger) {
	t.Helper()
	rc := c
	rc.ClickHouse.Database = "replayed"
	if err := roles.RunReplay(ctx, rc, io.Discard, log); err != nil {
		t.Fatalf("replay: %v", err)
	}
	for _, q := range []string{
		"SELECT * FROM %s.device_scores FINAL WHERE has(?, epoch)",
		"SELECT * FROM %s.stream_evidence FINAL WHERE has(?, epoch)",
	} {
		dump := func(db string) []string {
			rows, err := live.Query(ctx, "SELECT toString(tuple(*)) FROM ("+fmt.Sprintf(q, db)+")", epochs)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				out = append(out, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(out)
			return out
		}
		l, r := dump(c.ClickHouse.Database), dump("replayed")
		if len(l) == 0 || !slices.Equal(l, r) {
			t.Errorf("%s: live has %d rows, the replay %d, or they differ", q, len(l), len(r))
		}
	}
}

// TestFleetRegistersAgainAfterAHop: the dev fleet registers its devices at
// every start; a hopper that moved in the last run is registered where it
// moved to, and registering it at home again (a second move, refused
// MOVED_TOO_SOON) must not stop the start, as it did `fieldmint dev` on its
// third start in a data directory.
func TestFleetRegistersAgainAfterAHop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stack := startPipeline(t, ctx, 2, nil, nil)
	newFleet := func() *fleet.Fleet {
		f, err := fleet.New(fleet.Config{Devices: 40, Owners: stack.OwnerSigners(), Maker: DevMaker(), Interval: 2 * time.Second, FraudPercent: 50, Seed: "hop"},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	c := &client.Client{URL: stack.Info().IngestURL, Network: stack.Config.Ingest.Network}
	f := newFleet()
	hoppers := 0
	for _, d := range f.Devices {
		if d.Strategy == fleet.Hopper {
			hoppers++
		}
	}
	if hoppers == 0 {
		t.Fatal("no hopper in the fleet")
	}
	if err := f.Register(ctx, c); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 7 { // hoppers hop every third tick, once they have sent three readings
		f.Tick(ctx, c, now.Add(time.Duration(i)*2*time.Second))
	}
	moved := 0
	for _, d := range f.Devices {
		if d.Strategy != fleet.Hopper {
			continue
		}
		resp, err := http.Get(c.URL + "/v1/devices/" + d.ID)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var dev pb.Device
		if err := protojson.Unmarshal(body, &dev); err != nil {
			t.Fatalf("GET /v1/devices/%s: %v: %s", d.ID, err, body)
		}
		if dev.GetMovedAtMs() != 0 {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no hopper moved")
	}
	if err := newFleet().Register(ctx, c); err != nil {
		t.Fatalf("registering the fleet again after %d hoppers moved: %v", moved, err)
	}
}
