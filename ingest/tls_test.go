package ingest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fieldmint test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serve runs the ingest service with cfg until the test ends and returns
// its address once it answers.
func serve(t *testing.T, cfg Config, client *http.Client, scheme string) string {
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "tls.", Partitions: 1}
	if err := kafka.EnsureTopics(context.Background(), kc); err != nil {
		t.Fatal(err)
	}
	cfg.Listen = freeport.Addr()
	svc, err := New(cfg, kc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Go(t, svc.Run)
	for i := 0; ; i++ {
		resp, err := client.Get(scheme + "://" + cfg.Listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			return cfg.Listen
		}
		if i == 100 {
			t.Fatalf("ingest did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTLSAndHTTP2: with a certificate the service speaks HTTPS and HTTP/2;
// without one, HTTP/1.1 and HTTP/2 in clear text (prior knowledge).
func TestTLSAndHTTP2(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	cfg := DefaultConfig()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	addr := serve(t, cfg, tlsClient, "https")
	resp, err := tlsClient.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.TLS == nil {
		t.Errorf("over TLS: %s, TLS %v; want HTTP/2 over TLS", resp.Proto, resp.TLS != nil)
	}
	// Go's TLS server answers plain HTTP with a 400, never with the API.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %d, want 400", resp.StatusCode)
		}
	}

	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	plainAddr := serve(t, DefaultConfig(), &http.Client{}, "http")
	resp, err = (&http.Client{Transport: h2c}).Get("http://" + plainAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("clear text with prior knowledge: %s, want HTTP/2", resp.Proto)
	}

	bad := DefaultConfig()
	bad.TLSCert = certFile
	if bad.Validate() == nil {
		t.Error("a certificate without its key was accepted")
	}
}
