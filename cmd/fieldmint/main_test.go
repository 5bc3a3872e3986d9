package main

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/internal/config"
)

func TestCLIErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"nope"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `unknown command "nope"`) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run([]string{"validate", "--validate.maxFuture", "soon"}, &out, &errOut); err == nil {
		t.Fatal("bad duration accepted")
	}
	errOut.Reset()
	if err := run([]string{"settle", "--help"}, &out, &errOut); err != flag.ErrHelp {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(errOut.String(), "FIELDMINT_SETTLE_POSTERKEY") || !strings.Contains(errOut.String(), "-settle.distributor") {
		t.Fatalf("settle --help does not explain its options:\n%s", errOut.String())
	}
	// A positional argument before or after the options reaches the command,
	// and the options after it are still parsed (a bad one is refused).
	for _, args := range [][]string{{"verify-epoch", "seven", "--log.level", "warn"}, {"verify-epoch", "--log.level", "warn", "seven"}} {
		if err := run(args, &out, &errOut); err == nil || !strings.Contains(err.Error(), `"seven" is not an epoch number`) {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := run([]string{"verify-epoch", "7", "--log.level", "loud"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "log.level") {
		t.Errorf("an option after the epoch was not parsed: %v", err)
	}
	if err := run([]string{"ingest", "extra"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("ingest extra: %v", err)
	}
}

// The configuration the Helm chart ships (values.yaml's config, which the
// chart writes into the roles' config file) must load: unknown keys are
// errors, so a renamed option breaks this test, not a deployment.
func TestDeployConfigLoads(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/helm/fieldmint/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil || len(values.Config) == 0 {
		t.Fatalf("no config in values.yaml: %v", err)
	}
	out, err := yaml.Marshal(values.Config)
	if err != nil {
		t.Fatal(err)
	}
	cfgYAML := string(out)
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte(cfgYAML), 0o644)
	for _, role := range append(slices.Collect(maps.Keys(toolSections)), "dev", "ingest", "validate", "aggregate", "settle", "api") {
		cfg := devstack.Defaults()
		if err := config.Load(flag.NewFlagSet(role, flag.ContinueOnError), &cfg, sectionsOf(role), []string{"--config", path}); err != nil {
			t.Errorf("%s: %v", role, err)
		}
		if cfg.Kafka.Partitions != 12 || cfg.Kafka.Replication != 3 || !cfg.Kafka.TLS.Enabled || cfg.Kafka.SASL.Mechanism != "SCRAM-SHA-512" {
			t.Errorf("%s: kafka settings not read: %+v", role, cfg.Kafka)
		}
	}
}

// TestCheckConfig: --check-config validates what the role would, from the
// environment too, and says what to fix.
func TestCheckConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	t.Setenv("FIELDMINT_KAFKA_REPLICATION", "3")
	if err := run([]string{"validate", "--check-config"}, &out, &errOut); err != nil || out.String() != "validate: configuration ok\n" {
		t.Fatalf("validate --check-config with FIELDMINT_KAFKA_REPLICATION=3: %v %q", err, out.String())
	}
	t.Setenv("FIELDMINT_KAFKA_REPLICATION", "-2")
	if err := run([]string{"validate", "--check-config"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "replication") {
		t.Fatalf("replication -2 accepted: %v", err)
	}
	t.Setenv("FIELDMINT_KAFKA_REPLICATION", "")
	os.Unsetenv("FIELDMINT_KAFKA_REPLICATION")
	// The proof API needs a distributor but no key; the settler needs both.
	// Its own section's, or the settle section's (one chain, one
	// distributor), and the deprecated settle.apiListen still works.
	for _, args := range [][]string{
		{"--api.distributor", "0x1111111111111111111111111111111111111111"},
		{"--settle.distributor", "0x1111111111111111111111111111111111111111"},
		{"--settle.distributor", "0x1111111111111111111111111111111111111111", "--settle.apiListen", "127.0.0.1:9999"},
	} {
		out.Reset()
		if err := run(append([]string{"api", "--check-config"}, args...), &out, &errOut); err != nil || out.String() != "api: configuration ok\n" {
			t.Fatalf("api --check-config %v: %v %q", args, err, out.String())
		}
	}
	if err := run([]string{"settle", "--check-config", "--settle.distributor", "0x1111111111111111111111111111111111111111"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "posterKey") {
		t.Fatalf("settle without a key: %v", err)
	}
	if err := run([]string{"api", "--check-config"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "distributor") {
		t.Fatalf("api without a distributor: %v", err)
	}
}
