package simulate

// The detection report: the fleet's ground truth joined with what
// ClickHouse and the settler recorded.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// Row is one strategy's line of the report (in a sweep, one variant's: the
// strategy with one value of its parameter). Rewards are in the token's base
// units, as decimal strings (they exceed 64 bits).
type Row struct {
	Strategy        string            `json:"strategy"`
	Variant         string            `json:"variant"`
	Devices         int               `json:"devices"`
	Sent            uint64            `json:"sent"`              // readings ingest accepted and the validators decided
	RefusedAtIngest uint64            `json:"refused_at_ingest"` // readings ingest refused (forged, ...), over the whole run
	Valid           uint64            `json:"valid"`
	Rejected        map[string]uint64 `json:"rejected"` // by the validators' reason code (and the aggregator's LATE)
	// Evidence: the device-epochs whose pay an information check stopped
	// (device_scores.evidence), by reason.
	Evidence         map[string]uint64 `json:"evidence"`
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
	Devices                map[string]string `json:"devices"` // ground truth: device -> strategy (variant, in a sweep)
	// Sweep, in a sweep, is each variant's evidence beside where honest
	// devices sit, and the boundary found.
	Sweep *Sweep `json:"sweep,omitempty"`
}

// Build joins the fleet's ground truth with ClickHouse for the settled
// epochs first..last. A device's reward in an epoch is its share of the
// epoch's emission by valid readings (one point each), in integers (floor),
// as the settler splits it between owners; the undetected reward is the same split had every
// reading the validators rejected for fraud been valid.
//
// Readings count by the epoch they claim: those of first..last, and those
// dated later that ingest received before cutoffMs (dated into the future).
func Build(ctx context.Context, conn driver.Conn, f *fleet.Fleet, scoring aggregator.Scoring, first, last uint64, cutoffMs int64) (*Report, error) {
	rep := &Report{Devices: map[string]string{}}
	epochs, err := settledEpochs(ctx, conn, rep, first, last)
	if err != nil {
		return nil, err
	}

	byDevice := map[string]*fleet.Device{}
	for _, d := range f.Devices {
		byDevice[d.ID] = d
		rep.Devices[d.ID] = d.Variant
	}
	rowsOf := map[string]*Row{}
	row := func(d *fleet.Device) *Row {
		r := rowsOf[d.Variant]
		if r == nil {
			r = &Row{Strategy: string(d.Strategy), Variant: d.Variant, Rejected: map[string]uint64{}, Evidence: map[string]uint64{},
				reward: new(big.Int), undetected: new(big.Int)}
			rowsOf[d.Variant] = r
		}
		return r
	}
	for _, d := range f.Devices {
		row(d).Devices++
	}
	for id, c := range f.Counts() {
		if d := byDevice[id]; d != nil {
			row(d).RefusedAtIngest += c.Refused
		}
	}
	if err := tallyDecisions(ctx, conn, first, last, cutoffMs, byDevice, row, epochs); err != nil {
		return nil, err
	}
	// Every device's valid readings share an epoch's emission, the fleet's or not.
	rows, err := conn.Query(ctx, `SELECT epoch, countIf(status = 'valid'), countIf(status = 'rejected' AND reason NOT IN ?)
		FROM readings WHERE epoch BETWEEN ? AND ? GROUP BY epoch`, tables.BenignReasons(), first, last)
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
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	share := func(em *big.Int, part, whole uint64) *big.Int {
		if whole == 0 {
			return new(big.Int)
		}
		x := new(big.Int).Mul(em, new(big.Int).SetUint64(part))
		return x.Quo(x, new(big.Int).SetUint64(whole))
	}
	for _, ep := range epochs {
		for id, d := range byDevice {
			r := row(d)
			r.reward.Add(r.reward, share(ep.emission, ep.score[id], ep.total))
			r.undetected.Add(r.undetected, share(ep.emission, ep.cfScore[id], ep.undetected))
		}
	}
	paid, stopped, err := paidByDevice(ctx, conn, epochEmissions(epochs))
	if err != nil {
		return nil, err
	}
	for id, reasons := range stopped {
		if d := byDevice[id]; d != nil {
			for reason, n := range reasons {
				row(d).Evidence[reason] += n
			}
		}
	}
	fairGain(rowsOf, f.Devices, paid)
	if rep.HonestLossBasisPoints, err = honestLoss(ctx, conn, rep.Epochs, f.Devices, scoring, true); err != nil {
		return nil, err
	}
	if rep.HonestShareBasisPoints, err = honestLoss(ctx, conn, rep.Epochs, f.Devices, scoring, false); err != nil {
		return nil, err
	}
	for _, label := range f.Labels() {
		if r := rowsOf[label]; r != nil {
			r.finish()
			rep.Strategies = append(rep.Strategies, *r)
		}
	}
	return rep, nil
}

// tallyDecisions counts every decision on the fleet's devices in the run's
// epochs (by event time; a reading dated into the future counts in the
// epoch it claims) into their rows, and their valid readings (a point
// each), with and without the fraud detected, into the settled epochs.
func tallyDecisions(ctx context.Context, conn driver.Conn, first, last uint64, cutoffMs int64, byDevice map[string]*fleet.Device,
	row func(*fleet.Device) *Row, epochs map[uint64]*epochInfo) error {
	rows, err := conn.Query(ctx, `SELECT epoch, device_id, status, reason, count() FROM readings
		WHERE epoch BETWEEN ? AND ? OR (epoch > ? AND received_at < fromUnixTimestamp64Milli(?))
		GROUP BY epoch, device_id, status, reason`, first, last, last, cutoffMs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e, n uint64
		var id, status, reason string
		if err := rows.Scan(&e, &id, &status, &reason, &n); err != nil {
			return err
		}
		d := byDevice[id]
		if d == nil {
			continue // not ours
		}
		r := row(d)
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
			ep.score[id] += n
			ep.cfScore[id] += n
		case tables.IsFraud(reason): // the catalog's benign rejections (a retry, LATE, UNDECODABLE) count in no reward, detected or not
			ep.cfScore[id] += n // a rejected reading would have counted 1, as valid ones do
		}
	}
	return rows.Err()
}

// settledEpochs reads the run's settled epochs and their emission into
// rep, and returns them by epoch.
func settledEpochs(ctx context.Context, conn driver.Conn, rep *Report, first, last uint64) (map[uint64]*epochInfo, error) {
	posted, err := tables.PostedEmissions(ctx, conn, first, last)
	if err != nil {
		return nil, err
	}
	epochs := map[uint64]*epochInfo{}
	emission := new(big.Int)
	for _, e := range slices.Sorted(maps.Keys(posted)) {
		epochs[e] = &epochInfo{emission: posted[e], score: map[string]uint64{}, cfScore: map[string]uint64{}}
		rep.Epochs = append(rep.Epochs, e)
		emission.Add(emission, posted[e])
	}
	rep.Emission = emission.String()
	return epochs, nil
}

// finish fills a row's decimal rewards, its reward share, and for the
// honest devices the readings rejected for fraud per million.
func (r *Row) finish() {
	r.Reward, r.UndetectedReward = r.reward.String(), r.undetected.String()
	if r.undetected.Sign() > 0 {
		bp := new(big.Int).Mul(r.reward, big.NewInt(10_000))
		r.RewardBasisPoints = bp.Quo(bp, r.undetected).Int64()
	}
	if r.Strategy != string(fleet.Honest) {
		return
	}
	var fraud uint64
	for reason, n := range r.Rejected {
		if tables.IsFraud(reason) {
			fraud += n
		}
	}
	ppm := int64(0)
	if decided := r.Valid + fraud; decided > 0 {
		ppm = int64(fraud * 1_000_000 / decided)
	}
	r.FalseRejectPPM = &ppm
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
	fmt.Fprintln(w, "strategy\tdevices\tsent\trefused\tvalid\trejected\tstopped\tpaid\tfair\tgain\tgoal\ttop reasons\t")
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
		var stopped uint64
		for reason, n := range r.Evidence { // device-epochs, not readings
			stopped += n
			reasons = append(reasons, rc{reason + " (epochs)", n})
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
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.Variant, r.Devices, r.Sent, r.RefusedAtIngest, r.Valid, rejected, stopped,
			tokens(r.Paid), tokens(r.Fair), gain, goal, strings.Join(top, ", "))
	}
	w.Flush()
	for _, r := range rep.Strategies {
		if r.Strategy == string(fleet.Honest) {
			fmt.Fprintf(out, "honest devices: %d readings per million rejected for fraud (goal: at most 1,000); paid %s FMNT\n", *r.FalseRejectPPM, tokens(r.Paid))
			fmt.Fprintf(out, "honest loss: %s%% of the honest devices' scores, against the same devices scored without the cheating (goal: at most 0.10%%); %s%% against the honest devices alone\n",
				basis(rep.HonestLossBasisPoints), basis(rep.HonestShareBasisPoints))
			fmt.Fprintln(out, "stopped: device-epochs whose pay an information check stopped (device_scores.evidence); paid: by device_scores, as the settler pays; fair: what as many honest physical devices of the kinds were paid (a fabrication: one honest device's); gain: paid / fair (goal: at most 1.01x, a fabrication at most 0.01x)")
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
