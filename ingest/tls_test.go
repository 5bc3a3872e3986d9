package ingest

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/fieldmintpb/fieldmintpbconnect"
)

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
	testenv.WaitFor(t, 5*time.Second, "ingest answering /healthz over "+scheme, func() bool {
		resp, err := client.Get(scheme + "://" + cfg.Listen + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	return cfg.Listen
}

// TestTLSAndHTTP2: with a certificate the service speaks HTTPS and HTTP/2;
// without one, HTTP/1.1 and HTTP/2 in clear text (prior knowledge).
func TestTLSAndHTTP2(t *testing.T) {
	certFile, keyFile, pool := testenv.SelfSigned(t)
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
	// gRPC over TLS: a stream opens (HTTP/2 and TLS both needed) and says
	// its window.
	raw := fieldmintpbconnect.NewIngestServiceClient(tlsClient, "https://"+addr, connect.WithGRPC()).Stream(context.Background())
	raw.Send(nil)
	if first, err := raw.Receive(); err != nil || first.Window != uint32(cfg.GRPCWindow) {
		t.Errorf("a gRPC stream over TLS: %v, %v; want window %d", first, err, cfg.GRPCWindow)
	}
	raw.CloseRequest()
	raw.CloseResponse()
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
