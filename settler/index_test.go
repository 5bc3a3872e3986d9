package settler

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestIndexerReadsInRangesAndResumes indexes the distributor's events in
// ranges of three blocks, as a hosted endpoint that limits eth_getLogs would
// force, and checks that the index holds exactly the logs the chain has,
// decoded (a claim's account and amount), and that a later pass, or a new
// indexer after a restart, resumes where the last one stopped and writes
// nothing twice.
func TestIndexerReadsInRangesAndResumes(t *testing.T) {
	e := newEnvWithTimelock(t, 0)
	ctx := context.Background()
	e.svc.idx.rangeSize = 3
	claimer, _ := crypto.GenerateKey()
	fund(t, e, crypto.PubkeyToAddress(claimer.PublicKey))
	e.scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	e.settle(t, 10)
	for i := 0; i < 7; i++ {
		e.dc.Commit() // blocks without events between the ranges that have some
	}
	e.scores(t, 11, map[string]uint64{alice: 1})
	e.settle(t, 11)
	p := getProof(t, e.svc.NewAPI(), alice)
	e.send(t, claimer, common.FromHex(p.ClaimCalldata))
	e.step(t)

	logs, err := e.svc.client.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{e.svc.distributor()}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) (n uint64) {
		if err := e.conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT count() FROM chain_events FINAL WHERE removed = 0"); n != uint64(len(logs)) || n != 5 {
		t.Fatalf("%d events indexed, the chain has %d logs (want 5: two proposals, two activations, a claim)", n, len(logs))
	}
	var account, amount string
	if err := e.conn.QueryRow(ctx, "SELECT account, toString(amount) FROM claims").Scan(&account, &amount); err != nil || account != common.HexToAddress(alice).Hex() || amount != "1750" {
		t.Fatalf("claims view: %s %s (%v), want alice's 1750", account, amount, err)
	}
	rows := count("SELECT count() FROM chain_events")
	e.step(t)
	restarted := newIndexer(e.svc.st, e.svc.client, e.svc.distributor(), e.svc.cfg.FromBlock, 3, slog.New(slog.DiscardHandler))
	if _, err := restarted.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count("SELECT count() FROM chain_events"); n != rows {
		t.Fatalf("a later pass and a restarted indexer wrote %d event rows again", n-rows)
	}
}
