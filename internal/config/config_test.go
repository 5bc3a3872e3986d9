package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type sub struct {
	Brokers []string      `yaml:"brokers" help:"seed brokers"`
	Timeout time.Duration `yaml:"timeout" help:"timeout"`
	Secret  string        `yaml:"secret" help:"a secret" secret:"true"`
}

type root struct {
	Kafka sub `yaml:"kafka"`
	Other struct {
		N    int   `yaml:"n" help:"a number"`
		Flag bool  `yaml:"flag" help:"a switch"`
		Repl int16 `yaml:"repl" help:"a small number (kafka.replication is an int16)"`
		Res  uint8 `yaml:"res" help:"a byte"`
	} `yaml:"other"`
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("kafka:\n  brokers: [a:1, b:2]\n  timeout: 3s\nother:\n  n: 4\n"), 0o644)
	t.Setenv("FIELDMINT_KAFKA_TIMEOUT", "5s")
	t.Setenv("FIELDMINT_OTHER_N", "6")
	t.Setenv("FIELDMINT_OTHER_REPL", "3")
	cfg := root{}
	cfg.Other.N = 1
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	if err := Load(fs, &cfg, nil, []string{"--config", file, "--other.n=7", "--other.flag", "--other.res=9"}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Kafka.Brokers, ",") != "a:1,b:2" {
		t.Errorf("brokers from file: %v", cfg.Kafka.Brokers)
	}
	if cfg.Kafka.Timeout != 5*time.Second {
		t.Errorf("env must override file: %v", cfg.Kafka.Timeout)
	}
	if cfg.Other.N != 7 || !cfg.Other.Flag {
		t.Errorf("flags must override env: %+v", cfg.Other)
	}
	if cfg.Other.Repl != 3 || cfg.Other.Res != 9 {
		t.Errorf("int16 from env, uint8 from a flag: %+v", cfg.Other)
	}
}

func TestUnknownKeyAndBadValues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("kafka:\n  brokerz: [a]\n"), 0o644)
	if err := Load(flag.NewFlagSet("x", flag.ContinueOnError), &root{}, nil, []string{"--config=" + file}); err == nil || !strings.Contains(err.Error(), "brokerz") {
		t.Fatalf("unknown key: %v", err)
	}
	t.Setenv("FIELDMINT_OTHER_N", "seven")
	if err := Load(flag.NewFlagSet("x", flag.ContinueOnError), &root{}, nil, nil); err == nil || !strings.Contains(err.Error(), "FIELDMINT_OTHER_N") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestSectionsAndSecretHelp(t *testing.T) {
	cfg := root{Kafka: sub{Secret: "hunter2"}}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	if err := Load(fs, &cfg, []string{"kafka"}, nil); err != nil {
		t.Fatal(err)
	}
	if fs.Lookup("other.n") != nil {
		t.Error("section not asked for was registered")
	}
	fs.PrintDefaults()
	if strings.Contains(out.String(), "hunter2") {
		t.Error("secret printed in help")
	}
	if !strings.Contains(out.String(), "FIELDMINT_KAFKA_BROKERS") {
		t.Errorf("help does not name the env variable:\n%s", out.String())
	}
}

// TestEnvFile: FIELDMINT_ENV_FILE's lines count as environment variables,
// over the config file and under the real environment and flags; a line
// that is not FIELDMINT_NAME=value is refused with its number.
func TestEnvFile(t *testing.T) {
	dir := t.TempDir()
	file, envFile := filepath.Join(dir, "c.yaml"), filepath.Join(dir, "contracts.env")
	os.WriteFile(file, []byte("other:\n  n: 4\n  repl: 1\n"), 0o644)
	os.WriteFile(envFile, []byte("# written by deploy-contracts\nFIELDMINT_OTHER_N=5\n\nFIELDMINT_OTHER_REPL=2\nFIELDMINT_KAFKA_BROKERS=x:1,y:2\n"), 0o644)
	t.Setenv("FIELDMINT_ENV_FILE", envFile)
	t.Setenv("FIELDMINT_OTHER_REPL", "3")
	cfg := root{}
	if err := Load(flag.NewFlagSet("x", flag.ContinueOnError), &cfg, nil, []string{"--config", file, "--kafka.brokers=z:3"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Other.N != 5 || cfg.Other.Repl != 3 || strings.Join(cfg.Kafka.Brokers, ",") != "z:3" {
		t.Errorf("n %d (want 5: the env file over the config file), repl %d (want 3: the environment over the env file), brokers %v (want z:3: the flag)",
			cfg.Other.N, cfg.Other.Repl, cfg.Kafka.Brokers)
	}
	os.WriteFile(envFile, []byte("FIELDMINT_OTHER_N=5\nPATH=/bin\n"), 0o644)
	err := Load(flag.NewFlagSet("x", flag.ContinueOnError), &root{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("a line that is not FIELDMINT_NAME=value: %v", err)
	}
}
