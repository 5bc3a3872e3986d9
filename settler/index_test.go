package settler_test

import (
	"context"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// TestIndexerReadsInRangesAndResumes indexes the distributor's events in
// ranges of three blocks, as a hosted endpoint that limits eth_getLogs would
// force, and checks that the index holds exactly the logs the chain has,
// decoded (a claim's account and amount), and that a later pass, or a new
// indexer after a restart, resumes where the last one stopped and writes
// nothing twice.
// distributorEvents are the signatures of the events the settler indexes,
// written out: the test does not take them from the code it checks.
var distributorEvents = map[string]string{
	settler.EventRootProposed:  "RootProposed(uint64,bytes32,uint256,uint64)",
	settler.EventRootActivated: "RootActivated(uint64,bytes32,uint256)",
	settler.EventRootRevoked:   "RootRevoked(uint64,bytes32)",
	settler.EventClaimed:       "Claimed(address,uint256,uint256)",
}

func TestIndexerReadsInRangesAndResumes(t *testing.T) {
	e := settlertest.New(t, 0)
	ctx := context.Background()
	settler.SetLogRange(e.Svc, 3)
	claimer, _ := crypto.GenerateKey()
	e.Fund(t, crypto.PubkeyToAddress(claimer.PublicKey))
	e.Scores(t, 10, map[string]uint64{alice: 3, bob: 1})
	e.Settle(t, 10)
	for i := 0; i < 7; i++ {
		e.DC.Commit() // blocks without events between the ranges that have some
	}
	e.Scores(t, 11, map[string]uint64{alice: 1})
	e.Settle(t, 11)
	p := settlertest.Proof(t, e.API(t), alice)
	e.Send(t, claimer, common.FromHex(p.ClaimCalldata))
	e.Step(t)

	// The events the settler follows (not RootSigned or SignersChanged).
	var topics []common.Hash
	for _, name := range []string{settler.EventRootProposed, settler.EventRootActivated, settler.EventRootRevoked, settler.EventClaimed} {
		topics = append(topics, crypto.Keccak256Hash([]byte(distributorEvents[name])))
	}
	logs, err := e.Client.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{e.Contracts.Distributor}, Topics: [][]common.Hash{topics}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string, args ...any) (n uint64) {
		if err := e.Conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT count() FROM chain_events FINAL WHERE removed = 0"); n != uint64(len(logs)) || n != 5 {
		t.Fatalf("%d events indexed, the chain has %d logs (want 5: two proposals, two activations, a claim)", n, len(logs))
	}
	var account, amount string
	if err := e.Conn.QueryRow(ctx, "SELECT account, toString(amount) FROM claims").Scan(&account, &amount); err != nil || account != common.HexToAddress(alice).Hex() || amount != "1750" {
		t.Fatalf("claims view: %s %s (%v), want alice's 1750", account, amount, err)
	}
	rows := count("SELECT count() FROM chain_events")
	e.Step(t)
	if err := settler.SyncAsRestarted(ctx, e.Svc, 3); err != nil {
		t.Fatal(err)
	}
	if n := count("SELECT count() FROM chain_events"); n != rows {
		t.Fatalf("a later pass and a restarted indexer wrote %d event rows again", n-rows)
	}
}
