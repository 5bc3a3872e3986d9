package clickhouse_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/proto"

	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/config"
	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestTLS: a TLS listener in front of a real server's native port, as
// ClickHouse Cloud's endpoint is (the embedded server cannot listen on TLS
// itself: chDB serves plain TCP and HTTP only), is reached with
// clickhouse.tls and the listener's CA, and a query runs through it; without
// TLS, or trusting another CA, the connection fails.
func TestTLS(t *testing.T) {
	certFile, keyFile, _ := testenv.SelfSigned(t)
	otherCA, _, _ := testenv.SelfSigned(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv := testenv.ClickHouse(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go terminate(ln, srv.TCPAddr)

	good := clickhouse.Config{Addr: ln.Addr().String(), Database: "tls_test", Username: "default", TLS: config.TLS{Enabled: true, CAFile: certFile}}
	conn, err := clickhouse.Dial(ctx, good)
	if err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 over TLS: %d %v", one, err)
	}

	// The aggregator's block writer goes over TLS too.
	if err := conn.Exec(ctx, "CREATE TABLE tls_ins (a UInt64) ENGINE = MergeTree ORDER BY a"); err != nil {
		t.Fatal(err)
	}
	w := clickhouse.NewInserter(good)
	defer w.Close()
	col := proto.ColUInt64{1, 2, 3}
	if err := w.Insert(ctx, "tls_ins", proto.Input{{Name: "a", Data: &col}}, nil); err != nil {
		t.Fatalf("INSERT over TLS: %v", err)
	}
	var stored uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM tls_ins").Scan(&stored); err != nil || stored != 3 {
		t.Fatalf("tls_ins holds %d rows after the INSERT over TLS, want 3 (%v)", stored, err)
	}

	plain := good
	plain.TLS = config.TLS{}
	untrusted := good
	untrusted.TLS.CAFile = otherCA
	for name, c := range map[string]clickhouse.Config{"no TLS": plain, "another CA": untrusted} {
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		w := clickhouse.NewInserter(c)
		if err := w.Insert(short, "tls_ins", proto.Input{{Name: "a", Data: &col}}, nil); err == nil {
			t.Errorf("%s: the block writer inserted", name)
		}
		cancel()
		w.Close()
		short, cancel = context.WithTimeout(ctx, 10*time.Second)
		conn, err := clickhouse.Dial(short, c)
		cancel()
		if err == nil {
			conn.Close()
			t.Errorf("%s: connected", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if name == "another CA" && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v, want a certificate error", name, err)
		}
	}
}

// terminate serves ln's TLS connections by relaying them to addr in clear,
// until ln is closed.
func terminate(ln net.Listener, addr string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer up.Close()
			go io.Copy(up, c)
			io.Copy(c, up)
		}()
	}
}
