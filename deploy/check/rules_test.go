package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `json:"alert"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRules: promtool (Prometheus's own, built from the version this
// module requires; `go tool promtool` runs the same by hand) finds the rules valid and passes their unit tests,
// deploy/monitoring/alerts_test.yaml; every alert is tested firing, and its
// runbook link names a section of docs/operations.md that exists.
func TestAlertRules(t *testing.T) {
	// Built without service discovery (Prometheus's remove_all_sd tag):
	// `test rules` needs none, and the cloud SDKs would take minutes to
	// compile on two cores.
	promtool := filepath.Join(t.TempDir(), "promtool")
	build := exec.Command("go", "build", "-tags", "remove_all_sd", "-o", promtool, "github.com/prometheus/prometheus/cmd/promtool")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building promtool: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"check", "rules", "../helm/fieldmint/files/alerts.yaml"},
		{"test", "rules", "../monitoring/alerts_test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}

	var rules ruleFile
	readYAML(t, "../helm/fieldmint/files/alerts.yaml", &rules)
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	readYAML(t, "../monitoring/alerts_test.yaml", &tests)
	fired := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fired[a.Alertname] = true
			}
		}
	}
	ops, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var headings []string
	for _, line := range strings.Split(string(ops), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			headings = append(headings, strings.ToLower(strings.TrimSpace(h)))
		}
	}
	var n int
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if !fired[r.Alert] {
				t.Errorf("%s: no test expects it to fire", r.Alert)
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook"], "docs/operations.md#")
			if !ok || !slices.Contains(headings, anchor) {
				t.Errorf("%s: runbook %q is not a section of docs/operations.md", r.Alert, r.Annotations["runbook"])
			}
		}
	}
	if n < 10 {
		t.Fatalf("%d alerts read; the file's shape changed", n)
	}
}
