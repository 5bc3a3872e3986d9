package devstack

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/roles"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/simulate"
	"github.com/fieldmint/fieldmint/simulate/fleet"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestSimulateReport runs `fieldmint simulate` against the whole pipeline
// (kfake, ClickHouse, a dev chain) with half of 80 devices cheating, one
// strategy each, and checks the detection report: each strategy caught by
// the check meant for it, those with nothing honest in them paid nothing,
// honest devices not rejected, and the rewards adding up to the emission.
func TestSimulateReport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stack := startPipeline(t, ctx, 1, nil, nil)
	c := stack.Config
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn, err := clickhouse.Dial(ctx, c.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sim := simulate.Config{URL: stack.Info().IngestURL, Network: c.Ingest.Network, Devices: 80, Owners: 4, FraudPercent: 50,
		Interval: 2 * time.Second, Duration: 25 * time.Second, Seed: "test", SettleTimeout: time.Minute, Maker: DevMaker(), Scoring: aggregator.DefaultScoring()}
	var out strings.Builder
	rep, err := simulate.Run(ctx, sim, conn, c.Aggregate.EpochLength, &out, log)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	rows := map[string]simulate.Row{}
	paid := new(big.Int)
	for _, r := range rep.Strategies {
		rows[r.Strategy] = r
		v, _ := new(big.Int).SetString(r.Reward, 10)
		paid.Add(paid, v)
	}
	honest := rows["honest"]
	if honest.Valid == 0 || honest.FalseRejectPPM == nil || *honest.FalseRejectPPM > 1_000 {
		t.Errorf("honest devices: %d valid, %v per million rejected %v (goal: at most 1,000)", honest.Valid, honest.FalseRejectPPM, honest.Rejected)
	}
	// Each strategy is caught by what it does.
	for strategy, reason := range map[string]string{
		"replay": "DUPLICATE", "clock": "CLOCK_FUTURE", "inflate": "OUT_OF_RANGE", "spoof": "LOCATION_DRIFT",
		"clone": "CLONED_STREAM", "sybil": "SYBIL_CLUSTER", "witness": "WITNESS_", "flood": "RATE_EXCEEDED",
	} {
		r, ok := rows[strategy]
		if !ok {
			t.Errorf("no %s devices in the report", strategy)
			continue
		}
		caught := uint64(0)
		for code, n := range r.Rejected {
			if strings.HasPrefix(code, reason) {
				caught += n
			}
		}
		if caught == 0 {
			t.Errorf("%s: no %s rejections (%v)", strategy, reason, r.Rejected)
		}
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
	if dust.Sign() < 0 || dust.Cmp(big.NewInt(int64(80*len(rep.Epochs)))) > 0 {
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
	if left := new(big.Int).Sub(emission, settled); left.Sign() < 0 || left.Cmp(big.NewInt(int64(80*len(rep.Epochs)))) > 0 {
		t.Errorf("paid %s of emission %s", settled, emission)
	}
	if rows["honest"].Paid == "0" || rows["honest"].GainBasisPoints != 10_000 {
		t.Errorf("honest: paid %s, gain %d bp; want paid and exactly 1x (10,000 bp)", rows["honest"].Paid, rows["honest"].GainBasisPoints)
	}
	// Nor are the fabrications that pay nothing by construction: made-up
	// values (quality 0, whether or not STUCK_SENSOR fired yet), a device
	// without a known maker (never registered). (A replayer's real first
	// readings are forfeited only once its duplicates outnumber them
	// fourfold before the epoch is scored: in a run this short, not always.)
	for _, s := range []string{"clock", "inflate", "forge", "constant", "dither", "counterfeit"} {
		if r := rows[s]; r.Paid != "0" || r.GainBasisPoints != 0 {
			t.Errorf("%s: paid %s (gain %d bp), want nothing", s, r.Paid, r.GainBasisPoints)
		}
	}
	if c := rows["counterfeit"]; c.Valid != 0 || c.RefusedAtIngest == 0 {
		t.Errorf("counterfeit: %d valid, %d refused at ingest", c.Valid, c.RefusedAtIngest)
	}
	// verify-epoch scores the last epoch's devices of every kind (counters,
	// witnesses) again and finds the stored rows, tree and root.
	var verified strings.Builder
	last := rep.Epochs[len(rep.Epochs)-1]
	if err := roles.RunVerifyEpoch(ctx, c.Config, []string{strconv.FormatUint(last, 10)}, &verified, log); err != nil {
		t.Errorf("verify-epoch %d: %v\n%s", last, err, verified.String())
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
