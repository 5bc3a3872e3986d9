package main

import (
	"bytes"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fieldmint/fieldmint/devstack"
	"github.com/fieldmint/fieldmint/internal/config"
)

func TestReadRewards(t *testing.T) {
	good := "address,amount\n# comment\n0x1111111111111111111111111111111111111111, 5\n\n\"0x2222222222222222222222222222222222222222\",\"7\"\r\n0x3333333333333333333333333333333333333333,123456789012345678901234567890"
	rs, err := readRewards(strings.NewReader(good))
	if err != nil || len(rs) != 3 || rs[0].Amount.Int64() != 5 || rs[1].Amount.Int64() != 7 || rs[2].Amount.String() != "123456789012345678901234567890" {
		t.Fatalf("%v %v", rs, err)
	}
	bad := []struct{ in, want string }{
		{"0x12,5\n", "line 1: \"0x12\" is not an address"},
		{"0x1111111111111111111111111111111111111111,1.5\n", "line 1: amount \"1.5\""},
		{"0x1111111111111111111111111111111111111111,-1\n", "amount \"-1\""},
		{"0x1111111111111111111111111111111111111111\n", "want \"address,amount\""},
		{"0x1111111111111111111111111111111111111111,1\n0x1111111111111111111111111111111111111111,2\n", "line 2: 0x1111111111111111111111111111111111111111 already listed on line 1"},
		{"address,amount\n", "no address,amount lines"},
		{"0x1111111111111111111111111111111111111111,1,2\n", "want \"address,amount\", got 3 fields"},
		// Two addresses sharing their first 8 bytes are two accounts; the
		// second listed again is a duplicate.
		{"0x1111111111111111aaaaaaaaaaaaaaaaaaaaaaaa,1\n0x1111111111111111bbbbbbbbbbbbbbbbbbbbbbbb,2\n0x1111111111111111bbbbbbbbbbbbbbbbbbbbbbbb,3\n", "already listed on line 2"},
	}
	for _, b := range bad {
		if _, err := readRewards(strings.NewReader(b.in)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: error %v, want it to contain %q", b.in, err, b.want)
		}
	}
}

// TestParseAmount: the 128-bit fast path and big.Int's parser agree on
// every width, and anything that is not a uint256 in decimal is refused.
func TestParseAmount(t *testing.T) {
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	good := []string{"0", "5", "007", "18446744073709551615", "18446744073709551616", strings.Repeat("9", 38), strings.Repeat("9", 39), max256.String()}
	for _, s := range good {
		var v big.Int
		want, _ := new(big.Int).SetString(s, 10)
		if !parseAmount(&v, []byte(s)) || v.Cmp(want) != 0 {
			t.Errorf("%s: got %s", s, &v)
		}
	}
	for _, s := range []string{"", "1.5", "-1", "+1", "1e3", "0x10", " 1", new(big.Int).Add(max256, big.NewInt(1)).String(), "12a"} {
		if parseAmount(new(big.Int), []byte(s)) {
			t.Errorf("%q accepted", s)
		}
	}
}

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
	for role, sections := range roleSections {
		cfg := devstack.Defaults()
		if err := config.Load(flag.NewFlagSet(role, flag.ContinueOnError), &cfg, sections, []string{"--config", path}); err != nil {
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
	out.Reset()
	if err := run([]string{"api", "--check-config", "--settle.distributor", "0x1111111111111111111111111111111111111111"}, &out, &errOut); err != nil {
		t.Fatalf("api --check-config: %v", err)
	}
	if err := run([]string{"api", "--check-config"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "distributor") {
		t.Fatalf("api without a distributor: %v", err)
	}
}
