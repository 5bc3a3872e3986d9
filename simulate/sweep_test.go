package simulate

import (
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// TestSweepFixed: --simulate.sweepFixed holds the strategy's other
// parameters through the sweep, and refuses what is not one of them.
func TestSweepFixed(t *testing.T) {
	variants, _, param, err := sweepVariants("nearcopy:delay", "300,60000", "noise=0.5")
	if err != nil || param != "delay" || len(variants) != 2 {
		t.Fatalf("sweepVariants: %v, %q, %d variants", err, param, len(variants))
	}
	for i, want := range []time.Duration{300 * time.Millisecond, time.Minute} {
		if p := variants[i].Params; p.Noise != 0.5 || p.Delay != want {
			t.Errorf("variant %d: %+v; want noise 0.5, delay %v", i, p, want)
		}
	}
	// Without it, the other parameters keep their defaults.
	variants, _, _, err = sweepVariants("nearcopy:delay", "300", "")
	if err != nil || variants[0].Params.Noise != fleet.DefaultParams(fleet.NearCopy).Noise {
		t.Errorf("no sweepFixed: %v, %+v", err, variants[0].Params)
	}
	for fixed, want := range map[string]string{
		"delay=5":    "the parameter swept",
		"length=3":   `no parameter "length"`,
		"noise":      "NAME=VALUE",
		"noise=-1":   "0 or more",
		"noise=half": "0 or more",
	} {
		if _, _, _, err := sweepVariants("nearcopy:delay", "", fixed); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("sweepFixed %q: %v; want an error saying %q", fixed, err, want)
		}
	}
}
