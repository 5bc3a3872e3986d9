// Package simulate is `fieldmint simulate`: a labelled fleet of honest and
// cheating devices sent against a running stack, and the detection report
// that joins the simulator's ground truth with what ClickHouse and the
// settler recorded: per strategy, readings sent, rejected by reason, reward
// received, and the reward the same devices would have received had
// nothing been detected.
package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// Config of a simulation.
type Config struct {
	URL           string        `yaml:"url" help:"ingest endpoint to send to"`
	Network       string        `yaml:"network" help:"the endpoint's ingest.network (owners sign registrations for it)"`
	Devices       int           `yaml:"devices" help:"simulated devices, of four kinds"`
	Owners        int           `yaml:"owners" help:"owners the devices belong to (keys derived from the seed)"`
	FraudPercent  int           `yaml:"fraudPercent" help:"share of devices that cheat, 0-100, handed the strategies in turn"`
	Interval      time.Duration `yaml:"interval" help:"time between a device's readings (2s or more)"`
	Duration      time.Duration `yaml:"duration" help:"how long to send"`
	Seed          string        `yaml:"seed" help:"keys, places and roles derive from it: the same seed, the same fleet"`
	Report        string        `yaml:"report" help:"write the detection report here (JSON) after the run; empty: print it only"`
	SettleTimeout time.Duration `yaml:"settleTimeout" help:"how long to wait after the run for its epochs to be settled"`
	MakerFile     string        `yaml:"makerFile" help:"JSON file with the maker that attests the devices ({id, privateKey}, or dev.json); empty: the dev stack's maker"`
	Maker         client.Maker  `yaml:"-"`
	// Scoring is the aggregator's policy (aggregate.scoringFile), to score
	// the honest devices again without the cheaters.
	Scoring aggregator.Scoring `yaml:"-"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{URL: "http://127.0.0.1:8080", Network: "fieldmint", Devices: 200, Owners: 8, FraudPercent: 25, Interval: 5 * time.Second,
		Duration: 3 * time.Minute, Seed: "simulate", SettleTimeout: 5 * time.Minute}
}

// Row is one strategy's line of the report. Rewards are in the token's base
// units, as decimal strings (they exceed 64 bits).
type Row struct {
	Strategy         string            `json:"strategy"`
	Devices          int               `json:"devices"`
	Sent             uint64            `json:"sent"`              // readings ingest accepted and the validators decided
	RefusedAtIngest  uint64            `json:"refused_at_ingest"` // readings ingest refused (forged, ...), over the whole run
	Valid            uint64            `json:"valid"`
	Rejected         map[string]uint64 `json:"rejected"` // by the validators' reason code (and the aggregator's LATE)
	Reward           string            `json:"reward"`
	UndetectedReward string            `json:"undetected_reward"`
	// Paid is what the settler paid the strategy's devices (their share of
	// each epoch's emission by device_scores), Fair what as many honest
	// physical devices of the same kinds were paid in the same run (a
	// fabrication, which stands for no physical device, against one honest
	// device), and Gain Paid/Fair in basis points (10,000: a fair reward).
	Paid            string `json:"paid"`
	Fair            string `json:"fair"`
	PhysicalDevices int    `json:"physical_devices"`
	GainBasisPoints int64  `json:"gain_basis_points"`
	// RewardBasisPoints is Reward as a share of UndetectedReward, in
	// hundredths of a percent (integer: 12 means 0.12%).
	RewardBasisPoints int64 `json:"reward_basis_points"`
	// FalseRejectPPM (honest devices only): readings the validators rejected
	// for fraud, per million decided.
	FalseRejectPPM *int64 `json:"false_reject_ppm,omitempty"`
	// GoalBasisPoints is the most gain the strategy may have: 10,100 (1.01x)
	// for devices that stand for physical ones, 100 (1% of an honest
	// device's pay) for fabrications; Met says whether it held.
	GoalBasisPoints int64 `json:"goal_basis_points"`
	Met             bool  `json:"met"`

	reward, undetected *big.Int
}

// Report is the detection report.
type Report struct {
	Epochs   []uint64 `json:"epochs"` // settled epochs the run covered
	Emission string   `json:"emission"`
	// HonestLossBasisPoints: the honest devices' scores in the run against
	// their scores without the cheating (each physical device a cheat
	// stands for there once, no fabrication), in basis points lost (goal:
	// at most 10, 0.1%). HonestShareBasisPoints: the same against the
	// honest devices alone, which also counts fair sharing with the
	// cheaters' physical devices.
	HonestLossBasisPoints  int64             `json:"honest_loss_basis_points"`
	HonestShareBasisPoints int64             `json:"honest_share_lost_basis_points"`
	Strategies             []Row             `json:"strategies"`
	Devices                map[string]string `json:"devices"` // ground truth: device -> strategy
}

// ownerKeys derives the owners' keys from the seed.
func ownerKeys(seed string, n int) []client.Owner {
	out := make([]client.Owner, n)
	for i := range out {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("fieldmint-simulate/%s/owner/%d", seed, i))))
		if err != nil {
			panic(err) // a keccak output is a valid key with overwhelming probability
		}
		out[i] = client.OwnerKey(k)
	}
	return out
}

// Run registers the fleet, sends for cfg.Duration, waits for the run's
// epochs to be settled, and returns the report (also written to
// cfg.Report, and printed to out).
func Run(ctx context.Context, cfg Config, conn driver.Conn, epochLength time.Duration, out io.Writer, log *slog.Logger) (*Report, error) {
	if cfg.Devices <= 0 || cfg.Owners <= 0 || cfg.Duration <= 0 || cfg.URL == "" {
		return nil, errors.New("simulate: url, devices, owners and duration are required")
	}
	if cfg.Maker.Key == nil {
		return nil, errors.New("simulate: a maker registered with the network must attest the devices (simulate.makerFile)")
	}
	f, err := fleet.New(fleet.Config{Devices: cfg.Devices, Owners: ownerKeys(cfg.Seed, cfg.Owners), Maker: cfg.Maker, Interval: cfg.Interval,
		FraudPercent: cfg.FraudPercent, Seed: cfg.Seed}, log)
	if err != nil {
		return nil, err
	}
	c := &client.Client{URL: cfg.URL, Network: cfg.Network}
	fmt.Fprintf(out, "simulate: registering %d devices of %d owners at %s ...\n", cfg.Devices, cfg.Owners, cfg.URL)
	if err := f.Register(ctx, c); err != nil {
		return nil, fmt.Errorf("simulate: register: %w", err)
	}
	roles := map[fleet.Strategy]int{}
	for _, d := range f.Devices {
		roles[d.Strategy]++
	}
	fmt.Fprintf(out, "simulate: %d honest devices and %d cheating (%s) send a reading every %s for %s\n",
		roles[fleet.Honest], cfg.Devices-roles[fleet.Honest], strategyCounts(roles), cfg.Interval, cfg.Duration)
	start := time.Now()
	// The fleet runs on while the last epoch is settled: epochs close when
	// later readings show their end has passed, as on a live network.
	rctx, stopFleet := context.WithCancel(ctx)
	defer stopFleet()
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- f.Run(rctx, c) }()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	end := time.After(cfg.Duration)
wait:
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-fleetDone:
			return nil, fmt.Errorf("simulate: fleet stopped: %v", err)
		case <-progress.C:
			fmt.Fprintf(out, "  [%3.0fs] %d readings accepted by ingest, %d refused\n", time.Since(start).Seconds(), f.Stats.Sent.Load(), f.Stats.Refused.Load())
		case <-end:
			break wait
		}
	}
	ms := epochLength.Milliseconds()
	first, last := uint64(start.UnixMilli()/ms), uint64(time.Now().UnixMilli()/ms)
	fmt.Fprintf(out, "simulate: sent for %s; the fleet goes on until epochs %d..%d are settled ...\n", cfg.Duration, first, last)
	if err := waitSettled(ctx, conn, last, cfg.SettleTimeout); err != nil {
		return nil, err
	}
	stopFleet()
	<-fleetDone
	rep, err := Build(ctx, conn, f, cfg.Scoring, first, last, int64(last+1)*ms)
	if err != nil {
		return nil, err
	}
	if cfg.Report != "" {
		raw, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.Report, append(raw, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	rep.Print(out)
	return rep, nil
}

func strategyCounts(roles map[fleet.Strategy]int) string {
	var parts []string
	for _, s := range fleet.Cheats {
		if roles[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, roles[s]))
		}
	}
	return strings.Join(parts, ", ")
}

// waitSettled waits until an epoch at or after last is settled: its root
// proposed, or carried by a later one (epochs are settled in order).
func waitSettled(ctx context.Context, conn driver.Conn, last uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM settlements_latest WHERE epoch >= ? AND status IN ('superseded', 'proposed', 'active', 'final')", last).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("simulate: epoch %d not settled within %s (is the settler running?)", last, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// notFraud are the rejections that are no verdict on the device: LATE (the
// pipeline's timing), UNDECODABLE (a producer bug). They count in no
// reward, detected or not.
var notFraud = map[string]bool{"LATE": true, "UNDECODABLE": true}

// Build joins the fleet's ground truth with ClickHouse for the settled
// epochs first..last. A device's reward in an epoch is its share of the
// epoch's emission by score, in integers (floor), as the settler splits it
// between owners; the undetected reward is the same split had every
// reading the validators rejected for fraud been valid.
//
// Readings count by the epoch they claim: those of first..last, and those
// dated later that ingest received before cutoffMs (dated into the future).
func Build(ctx context.Context, conn driver.Conn, f *fleet.Fleet, scoring aggregator.Scoring, first, last uint64, cutoffMs int64) (*Report, error) {
	epochs := map[uint64]*epochInfo{}
	rows, err := conn.Query(ctx, "SELECT epoch, emission FROM settlements_latest WHERE epoch BETWEEN ? AND ? AND status IN ('superseded', 'proposed', 'active', 'final') ORDER BY epoch", first, last)
	if err != nil {
		return nil, err
	}
	rep := &Report{Devices: map[string]string{}}
	emission := new(big.Int)
	for rows.Next() {
		var e uint64
		em := new(big.Int)
		if err := rows.Scan(&e, &em); err != nil {
			rows.Close()
			return nil, err
		}
		epochs[e] = &epochInfo{emission: em, score: map[string]uint64{}, cfScore: map[string]uint64{}}
		rep.Epochs = append(rep.Epochs, e)
		emission.Add(emission, em)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	rep.Emission = emission.String()

	byDevice := map[string]*fleet.Device{}
	for _, d := range f.Devices {
		byDevice[d.ID] = d
		rep.Devices[d.ID] = string(d.Strategy)
	}
	rowsOf := map[fleet.Strategy]*Row{}
	row := func(s fleet.Strategy) *Row {
		r := rowsOf[s]
		if r == nil {
			r = &Row{Strategy: string(s), Rejected: map[string]uint64{}, reward: new(big.Int), undetected: new(big.Int)}
			rowsOf[s] = r
		}
		return r
	}
	for _, d := range f.Devices {
		row(d.Strategy).Devices++
	}
	for id, c := range f.Counts() {
		if d := byDevice[id]; d != nil {
			row(d.Strategy).RefusedAtIngest += c.Refused
		}
	}
	// Every decision on the fleet's devices in the run's epochs (by event
	// time; a reading dated into the future counts in the epoch it claims).
	rows, err = conn.Query(ctx, `SELECT epoch, device_id, status, reason, sum(score), count() FROM readings
		WHERE epoch BETWEEN ? AND ? OR (epoch > ? AND received_at < fromUnixTimestamp64Milli(?))
		GROUP BY epoch, device_id, status, reason`, first, last, last, cutoffMs)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e, score, n uint64
		var id, status, reason string
		if err := rows.Scan(&e, &id, &status, &reason, &score, &n); err != nil {
			rows.Close()
			return nil, err
		}
		d := byDevice[id]
		if d == nil {
			continue // not ours
		}
		r := row(d.Strategy)
		r.Sent += n
		if status == "valid" {
			r.Valid += n
		} else {
			r.Rejected[reason] += n
		}
		ep := epochs[e]
		if ep == nil {
			continue // not settled in the run
		}
		switch {
		case status == "valid":
			ep.score[id] += score
			ep.cfScore[id] += score
		case !notFraud[reason]:
			ep.cfScore[id] += n // a rejected reading would have scored 1, as every kind's readings do
		}
	}
	rows.Close()
	// Every device's score shares an epoch's emission, the fleet's or not.
	rows, err = conn.Query(ctx, `SELECT epoch, sumIf(score, status = 'valid'), countIf(status = 'rejected' AND reason NOT IN ('LATE', 'UNDECODABLE'))
		FROM readings WHERE epoch BETWEEN ? AND ? GROUP BY epoch`, first, last)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e, total, cf uint64
		if err := rows.Scan(&e, &total, &cf); err != nil {
			rows.Close()
			return nil, err
		}
		if ep := epochs[e]; ep != nil {
			ep.total, ep.undetected = total, total+cf
		}
	}
	rows.Close()
	share := func(em *big.Int, part, whole uint64) *big.Int {
		if whole == 0 {
			return new(big.Int)
		}
		x := new(big.Int).Mul(em, new(big.Int).SetUint64(part))
		return x.Quo(x, new(big.Int).SetUint64(whole))
	}
	for _, ep := range epochs {
		for id, d := range byDevice {
			r := row(d.Strategy)
			r.reward.Add(r.reward, share(ep.emission, ep.score[id], ep.total))
			r.undetected.Add(r.undetected, share(ep.emission, ep.cfScore[id], ep.undetected))
		}
	}
	paid, err := paidByDevice(ctx, conn, epochEmissions(epochs))
	if err != nil {
		return nil, err
	}
	fairGain(rowsOf, f.Devices, paid)
	if rep.HonestLossBasisPoints, err = honestLoss(ctx, conn, rep.Epochs, f.Devices, scoring, true); err != nil {
		return nil, err
	}
	if rep.HonestShareBasisPoints, err = honestLoss(ctx, conn, rep.Epochs, f.Devices, scoring, false); err != nil {
		return nil, err
	}
	if rep.HonestShareBasisPoints, err = honestLoss(ctx, conn, rep.Epochs, f.Devices, scoring, false); err != nil {
		return nil, err
	}
	for _, s := range append([]fleet.Strategy{fleet.Honest}, fleet.Cheats...) {
		r := rowsOf[s]
		if r == nil {
			continue
		}
		r.Reward, r.UndetectedReward = r.reward.String(), r.undetected.String()
		if r.undetected.Sign() > 0 {
			bp := new(big.Int).Mul(r.reward, big.NewInt(10_000))
			r.RewardBasisPoints = bp.Quo(bp, r.undetected).Int64()
		}
		if s == fleet.Honest {
			var fraud, decided uint64
			for reason, n := range r.Rejected {
				if !notFraud[reason] {
					fraud += n
				}
			}
			decided = r.Valid + fraud
			ppm := int64(0)
			if decided > 0 {
				ppm = int64(fraud * 1_000_000 / decided)
			}
			r.FalseRejectPPM = &ppm
		}
		rep.Strategies = append(rep.Strategies, *r)
	}
	return rep, nil
}

type epochInfo struct {
	emission          *big.Int
	total, undetected uint64
	score, cfScore    map[string]uint64
}

// Print writes the report as a table.
func (rep *Report) Print(out io.Writer) {
	fmt.Fprintf(out, "detection report: epochs %v, emission %s base units\n", rep.Epochs, rep.Emission)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "strategy\tdevices\tsent\trefused\tvalid\trejected\tpaid\tfair\tgain\tgoal\ttop reasons\t")
	for _, r := range rep.Strategies {
		var rejected uint64
		type rc struct {
			reason string
			n      uint64
		}
		var reasons []rc
		for reason, n := range r.Rejected {
			rejected += n
			reasons = append(reasons, rc{reason, n})
		}
		sort.Slice(reasons, func(i, j int) bool {
			return reasons[i].n > reasons[j].n || (reasons[i].n == reasons[j].n && reasons[i].reason < reasons[j].reason)
		})
		var top []string
		for i, x := range reasons {
			if i == 3 {
				break
			}
			top = append(top, fmt.Sprintf("%s %d", x.reason, x.n))
		}
		gain := fmt.Sprintf("%d.%04dx", r.GainBasisPoints/10_000, r.GainBasisPoints%10_000)
		if r.Fair == "0" || r.Fair == "" {
			gain = "-"
		}
		goal := ""
		if r.GoalBasisPoints > 0 {
			goal = fmt.Sprintf("<=%d.%02dx ", r.GoalBasisPoints/10_000, r.GoalBasisPoints%10_000/100) + map[bool]string{true: "met", false: "MISSED"}[r.Met]
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Strategy, r.Devices, r.Sent, r.RefusedAtIngest, r.Valid, rejected,
			tokens(r.Paid), tokens(r.Fair), gain, goal, strings.Join(top, ", "))
	}
	w.Flush()
	for _, r := range rep.Strategies {
		if r.Strategy == string(fleet.Honest) {
			fmt.Fprintf(out, "honest devices: %d readings per million rejected for fraud (goal: at most 1,000); paid %s FMNT\n", *r.FalseRejectPPM, tokens(r.Paid))
			fmt.Fprintf(out, "honest loss: %s%% of the honest devices' scores, against the same devices scored without the cheating (goal: at most 0.10%%); %s%% against the honest devices alone\n",
				basis(rep.HonestLossBasisPoints), basis(rep.HonestShareBasisPoints))
			fmt.Fprintln(out, "paid: by device_scores, as the settler pays; fair: what as many honest physical devices of the kinds were paid (a fabrication: one honest device's); gain: paid / fair (goal: at most 1.01x, a fabrication at most 0.01x)")
		}
	}
}

func basis(bp int64) string { return fmt.Sprintf("%d.%02d", bp/100, bp%100) }

// tokens writes base units (18 decimals) as whole tokens with two decimals.
func tokens(baseUnits string) string {
	v, ok := new(big.Int).SetString(baseUnits, 10)
	if !ok {
		return baseUnits
	}
	cents := v.Quo(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(16), nil)).Int64()
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
