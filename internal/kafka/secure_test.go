package kafka

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/config"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestTLSAndSCRAM: against a broker that listens only on TLS and wants
// SCRAM-SHA-512, a client configured with the broker's CA and the user's
// password creates the topics and reads back what it wrote; a wrong
// password, or no TLS, gets no further than the handshake.
func TestTLSAndSCRAM(t *testing.T) {
	certFile, keyFile, _ := testenv.SelfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	brokers := testenv.Kafka(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "fieldmint", "s3cret-pass"))
	good := Config{Brokers: brokers, TopicPrefix: "sec.", Partitions: 1,
		TLS:  config.TLS{Enabled: true, CAFile: certFile},
		SASL: SASL{Mechanism: "SCRAM-SHA-512", User: "fieldmint", Password: "s3cret-pass"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, good); err != nil {
		t.Fatalf("topics over TLS and SCRAM: %v", err)
	}
	cl, err := kgo.NewClient(append(good.Opts(), kgo.ConsumeTopics(good.Topics().Epochs))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: good.Topics().Epochs, Value: []byte("over tls")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if fs := cl.PollFetches(ctx); fs.Err() != nil || fs.NumRecords() != 1 || string(fs.Records()[0].Value) != "over tls" {
		t.Fatalf("read back %v %v", fs.Err(), fs.Records())
	}

	wrongPass := good
	wrongPass.SASL.Password = "not-it"
	noTLS := good
	noTLS.TLS = config.TLS{}
	for name, c := range map[string]Config{"wrong password": wrongPass, "no TLS": noTLS} {
		short, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := EnsureTopics(short, c)
		cancel()
		t.Logf("%s: %v", name, err)
		if err == nil {
			t.Errorf("%s: topics created", name)
		} else if strings.Contains(err.Error(), "not-it") || strings.Contains(err.Error(), "s3cret-pass") {
			t.Errorf("%s: the error shows a password: %v", name, err)
		}
	}
}

// TestSecureConfigRefused: settings that cannot work are refused before
// any dial, with what to fix.
func TestSecureConfigRefused(t *testing.T) {
	base := Config{Brokers: []string{"127.0.0.1:9092"}, Partitions: 1}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.SASL = SASL{Mechanism: "GSSAPI"} }, "want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{func(c *Config) { c.SASL = SASL{User: "u", Password: "p"} }, "without a mechanism"},
		{func(c *Config) { c.SASL = SASL{Mechanism: "PLAIN", User: "u", Password: "p"} }, "enable kafka.tls"},
		{func(c *Config) { c.TLS = config.TLS{CAFile: "/ca.pem"} }, "tls.enabled is false"},
		{func(c *Config) { c.TLS = config.TLS{Enabled: true, CAFile: "/nonexistent/ca.pem"} }, "caFile"},
		{func(c *Config) { c.TLS = config.TLS{Enabled: true, CertFile: "/c.pem"} }, "certFile and keyFile go together"},
		{func(c *Config) { c.ReadyMaxLag = -1 }, "readyMaxLag"},
	} {
		c := base
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error saying %q", c, err, tc.want)
		}
	}
}
