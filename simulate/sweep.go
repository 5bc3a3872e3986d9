package simulate

// The sweep (--simulate.sweep STRATEGY[:PARAM]): one run in which the
// strategy's cheaters each take one value of a parameter, raised in steps,
// and a table of what each value earned and what the information checks
// found, beside the closest any honest device came to the same checks.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// Sweep is a sweep's result.
type Sweep struct {
	Strategy string       `json:"strategy"`
	Param    string       `json:"param"`
	Unit     string       `json:"unit"`
	Fixed    string       `json:"fixed,omitempty"` // the other parameters held (--simulate.sweepFixed)
	Values   []SweepValue `json:"values"`
	// Honest is, per check, the closest an honest device came to it in the
	// run (the highest statistic, or for kurtosis and clock spread the
	// lowest), over every honest device and epoch, compared with an honest
	// device (an original found tracked by its copy is not counted).
	Honest map[string]CheckStat `json:"honest"`
	// Escapes are the values at which the strategy earned more than its
	// goal; none means the checks held at every value.
	Escapes []float64 `json:"escapes"`
}

// SweepValue is one value's line.
type SweepValue struct {
	Value           float64              `json:"value"`
	Variant         string               `json:"variant"`
	GainBasisPoints int64                `json:"gain_basis_points"`
	Met             bool                 `json:"met"`
	Checks          map[string]CheckStat `json:"checks"` // per check: the variant's devices' median, and how often it stopped them
}

// CheckStat is a check's statistic (aggregator.Finding.Value: thousandths
// of a standard error, basis points of a ceiling, thousandths of kurtosis,
// milliseconds of spread) and the share of device-epochs it stopped.
type CheckStat struct {
	Value     int64 `json:"value"`
	FlaggedBP int64 `json:"flagged_basis_points"`
	Samples   int   `json:"samples"` // device-epochs judged
}

// sweepChecks are the checks each parameterized strategy meets.
var sweepChecks = map[fleet.Strategy][]string{
	fleet.NearCopy:    {aggregator.ReasonTracked, aggregator.ReasonNoisy},
	fleet.Loop:        {aggregator.ReasonLooped, aggregator.ReasonNoisy},
	fleet.CounterCopy: {aggregator.ReasonTracked},
	fleet.CounterLoop: {aggregator.ReasonLooped},
	fleet.WitnessLoop: {aggregator.ReasonLooped},
	fleet.MultiKind:   {aggregator.ReasonSharedClock, aggregator.ReasonGenerated},
}

// sweepDefaults are the values a sweep raises each parameter through, and
// the parameter's unit.
var sweepDefaults = map[string]struct {
	values []float64
	unit   string
}{
	"nearcopy:noise":     {[]float64{0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3}, "grid steps (0.1 °C, 1 %, 0.1 hPa)"},
	"nearcopy:delay":     {[]float64{300, 1500, 5000, 15000, 60000, 120000, 300000}, "ms"},
	"loop:length":        {[]float64{12, 24, 36, 60, 90, 120, 180}, "readings"},
	"loop:jitter":        {[]float64{0, 0.25, 0.5, 0.75, 1, 1.5, 2}, "grid steps"},
	"countercopy:noise":  {[]float64{5, 20, 50, 100, 200, 500}, "W"},
	"countercopy:delay":  {[]float64{300, 1500, 5000, 15000, 60000, 120000, 300000}, "ms"},
	"counterloop:length": {[]float64{12, 24, 36, 60, 90, 120}, "readings"},
	"counterloop:jitter": {[]float64{5, 20, 50, 100, 200}, "W"},
	"witnessloop:length": {[]float64{6, 12, 24, 48, 96}, "reports"},
	"multikind:jitter":   {[]float64{0, 2, 5, 10, 50, 200}, "ms"},
}

// sweepVariants parses STRATEGY[:PARAM] and the values (a comma list, or
// the parameter's defaults) into the variants to hand out.
func sweepVariants(spec, values, fixed string) ([]fleet.Variant, fleet.Strategy, string, error) {
	name, param, _ := strings.Cut(spec, ":")
	s := fleet.Strategy(name)
	param, err := fleet.SweepParam(s, param)
	if err != nil {
		return nil, "", "", err
	}
	base, err := fixedParams(s, param, fixed)
	if err != nil {
		return nil, "", "", err
	}
	vs := sweepDefaults[name+":"+param].values
	if values != "" {
		vs = nil
		for _, f := range strings.Split(values, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v < 0 {
				return nil, "", "", fmt.Errorf("simulate: sweepValues: %q is not a number of 0 or more", f)
			}
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	var out []fleet.Variant
	for _, v := range vs {
		out = append(out, fleet.WithBase(s, base, param, v))
	}
	return out, s, param, nil
}

// fixedParams is the strategy's parameters with those --simulate.sweepFixed
// names (NAME=VALUE, comma-separated) held at their values, the rest at
// their defaults: a delay swept at a copy's low noise, say.
func fixedParams(s fleet.Strategy, swept, fixed string) (fleet.Params, error) {
	p := fleet.DefaultParams(s)
	if strings.TrimSpace(fixed) == "" {
		return p, nil
	}
	for _, kv := range strings.Split(fixed, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			return p, fmt.Errorf("simulate: sweepFixed: %q: want NAME=VALUE", kv)
		}
		name, err := fleet.SweepParam(s, k)
		if err != nil {
			return p, fmt.Errorf("simulate: sweepFixed: %w", err)
		}
		if name == swept {
			return p, fmt.Errorf("simulate: sweepFixed: %s is the parameter swept", name)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 {
			return p, fmt.Errorf("simulate: sweepFixed: %q: the value must be a number of 0 or more", kv)
		}
		p = p.Set(name, f)
	}
	return p, nil
}

// buildSweep reads the run's evidence for the sweep's table.
func buildSweep(ctx context.Context, conn driver.Conn, rep *Report, variants []fleet.Variant, s fleet.Strategy, param string) (*Sweep, error) {
	checks := sweepChecks[s]
	rows, err := conn.Query(ctx, "SELECT device_id, reason, value, flagged, other FROM stream_evidence FINAL WHERE has(?, epoch) AND has(?, reason)", rep.Epochs, checks)
	if err != nil {
		return nil, fmt.Errorf("simulate: read stream_evidence: %w", err)
	}
	defer rows.Close()
	type acc struct {
		values  []int64
		flagged int64
	}
	byVariant := map[string]map[string]*acc{}
	for rows.Next() {
		var device, reason, other string
		var value int64
		var flagged bool
		if err := rows.Scan(&device, &reason, &value, &flagged, &other); err != nil {
			return nil, err
		}
		label := rep.Devices[device]
		if label == string(fleet.Honest) && other != "" && rep.Devices[other] != string(fleet.Honest) {
			continue // an original tracked by its copy: not where honest neighbours sit
		}
		if byVariant[label] == nil {
			byVariant[label] = map[string]*acc{}
		}
		a := byVariant[label][reason]
		if a == nil {
			a = &acc{}
			byVariant[label][reason] = a
		}
		a.values = append(a.values, value)
		if flagged {
			a.flagged++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	stat := func(a *acc, nearest bool, lowIsNear bool) CheckStat {
		if a == nil || len(a.values) == 0 {
			return CheckStat{}
		}
		slices.Sort(a.values)
		v := a.values[len(a.values)/2]
		if nearest {
			v = a.values[len(a.values)-1]
			if lowIsNear {
				v = a.values[0]
			}
		}
		return CheckStat{Value: v, FlaggedBP: a.flagged * 10_000 / int64(len(a.values)), Samples: len(a.values)}
	}
	lowIsNear := map[string]bool{aggregator.ReasonGenerated: true, aggregator.ReasonSharedClock: true}
	sw := &Sweep{Strategy: string(s), Param: param, Unit: sweepDefaults[string(s)+":"+param].unit, Honest: map[string]CheckStat{}, Escapes: []float64{}}
	for _, c := range checks {
		sw.Honest[c] = stat(byVariant[string(fleet.Honest)][c], true, lowIsNear[c])
	}
	rowOf := map[string]Row{}
	for _, r := range rep.Strategies {
		rowOf[r.Variant] = r
	}
	for _, v := range variants {
		value, _ := strconv.ParseFloat(v.Label[strings.LastIndex(v.Label, "=")+1:], 64)
		r := rowOf[v.Label]
		sv := SweepValue{Value: value, Variant: v.Label, GainBasisPoints: r.GainBasisPoints, Met: r.Met, Checks: map[string]CheckStat{}}
		for _, c := range checks {
			sv.Checks[c] = stat(byVariant[v.Label][c], false, false)
		}
		if !r.Met {
			sw.Escapes = append(sw.Escapes, value)
		}
		sw.Values = append(sw.Values, sv)
	}
	return sw, nil
}

// statText writes a check's statistic in its unit.
func statText(check string, v int64) string {
	switch check {
	case aggregator.ReasonNoisy:
		return fmt.Sprintf("%d%% of ceiling", v/100)
	case aggregator.ReasonGenerated:
		return fmt.Sprintf("kurtosis %d.%03d", v/1000, v%1000)
	case aggregator.ReasonSharedClock:
		return fmt.Sprintf("spread %d ms", v)
	}
	return fmt.Sprintf("z %d.%03d", v/1000, v%1000)
}

// Print writes the sweep's table.
func (sw *Sweep) Print(out io.Writer) {
	held := ""
	if sw.Fixed != "" {
		held = ", holding " + sw.Fixed
	}
	fmt.Fprintf(out, "sweep: %s, raising %s (%s)%s\n", sw.Strategy, sw.Param, sw.Unit, held)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{sw.Param, "gain", "goal"}
	checks := sweepChecks[fleet.Strategy(sw.Strategy)]
	for _, c := range checks {
		head = append(head, c+" (median, epochs stopped)")
	}
	fmt.Fprintln(w, strings.Join(head, "\t")+"\t")
	for _, v := range sw.Values {
		line := []string{strconv.FormatFloat(v.Value, 'f', -1, 64), fmt.Sprintf("%d.%04dx", v.GainBasisPoints/10_000, v.GainBasisPoints%10_000),
			map[bool]string{true: "met", false: "MISSED"}[v.Met]}
		for _, c := range checks {
			st := v.Checks[c]
			line = append(line, fmt.Sprintf("%s (%d%%)", statText(c, st.Value), st.FlaggedBP/100))
		}
		fmt.Fprintln(w, strings.Join(line, "\t")+"\t")
	}
	w.Flush()
	var near []string
	for _, c := range checks {
		st := sw.Honest[c]
		near = append(near, fmt.Sprintf("%s %s (%d device-epochs, %d%% stopped)", c, statText(c, st.Value), st.Samples, st.FlaggedBP/100))
	}
	fmt.Fprintf(out, "honest devices, the nearest any came: %s\n", strings.Join(near, "; "))
	if len(sw.Escapes) == 0 {
		fmt.Fprintln(out, "boundary: none: at every value the strategy earned at most its goal")
	} else {
		fmt.Fprintf(out, "boundary: the strategy earned more than its goal at %s = %v\n", sw.Param, sw.Escapes)
	}
}
