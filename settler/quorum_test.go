package settler_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler/quorum"
	"github.com/fieldmint/fieldmint/settler/settlertest"
)

// TestQuorumOfIndependentSettlers: three settlers with their own keys and
// databases, one chain and one broker, two signatures per root.
//   - All agree: the root is posted with two signatures, and every vote
//     names the same cut of the raw log, the one its records define.
//   - One database altered (a score raised): the other two post their root,
//     the altered settler's signature is not in it, and it reports itself
//     outvoted.
//   - One settler gone and the altered one holding: nothing is posted, the
//     remaining settler awaits its quorum, and claims against the old root
//     still pay. When the missing settler returns, one root pays every
//     missed epoch.
func TestQuorumOfIndependentSettlers(t *testing.T) {
	q := settlertest.NewQuorum(t, 3, 2, 300*time.Millisecond)
	a, b, c := q.Settlers[0], q.Settlers[1], q.Settlers[2]
	wantOffsets := produceRaw(t, q, 10)
	honest := map[string]uint64{alice: 3, bob: 1}

	for i := range q.Settlers {
		q.Close(t, i, 10, honest)
	}
	stepUntil(t, q.Settlers, func() bool { return posted(t, a, 10) && posted(t, b, 10) && posted(t, c, 10) })
	if root := a.Roots(t).Root; root != settlertest.RewardsRoot(t, map[string]int64{alice: 750, bob: 250}) {
		t.Fatalf("epoch 10's root %s is not the honest split", root.Hex())
	}
	if got := signersOf(t, a, 10); len(got) != 2 {
		t.Fatalf("epoch 10 was signed by %v, want two signers", got)
	}
	cut := quorum.Cut{At: q.End(10).UnixMilli(), Offsets: wantOffsets}
	// Every settler records the votes it reads; the last may not have voted
	// (the other two posted first).
	stepUntil(t, q.Settlers, func() bool {
		for _, e := range q.Settlers {
			if len(votesOf(t, e, 10)) < 2 {
				return false
			}
		}
		return true
	})
	for i, e := range q.Settlers {
		votes := votesOf(t, e, 10)
		for _, v := range votes {
			if v.Inputs != cut.Hash().Hex() {
				t.Fatalf("settler %d: %s voted on inputs %s, want the cut %v (%s)", i, v.Signer, v.Inputs, cut.Offsets, cut.Hash().Hex())
			}
		}
	}

	// Settler c's database says alice did ten times the work.
	q.Close(t, 0, 11, honest)
	q.Close(t, 1, 11, honest)
	q.Close(t, 2, 11, map[string]uint64{alice: 30, bob: 1})
	stepUntil(t, q.Settlers, func() bool { return posted(t, a, 11) && posted(t, b, 11) && c.State(t, 11) == tables.Outvoted })
	if got := signersOf(t, a, 11); slices.Contains(got, c.Poster) || len(got) != 2 {
		t.Fatalf("epoch 11 was signed by %v: want a's and b's, never the altered settler %s", got, c.Poster.Hex())
	}
	if st := c.Settlement(t, 11); st.Root == a.Roots(t).Root {
		t.Fatal("the altered settler computed the posted root")
	}
	if g, err := c.Svc.RecordGauges(t.Context()); err != nil || !g.Outvoted {
		t.Errorf("the altered settler's gauges: outvoted %v (%v), want true (FieldmintOutvoted)", g.Outvoted, err)
	}
	checkVerifyVotes(t, q)

	// b is gone, c holds: a alone cannot post epoch 12.
	q.Close(t, 0, 12, honest)
	q.Close(t, 2, 12, honest)
	deadline := time.Now().Add(3 * time.Second) // ten turn delays
	for time.Now().Before(deadline) {
		a.Step(t)
		c.Step(t)
	}
	if st := a.State(t, 12); st != tables.AwaitingQuorum {
		t.Fatalf("epoch 12 at the remaining settler is %q, want awaiting_quorum", st)
	}
	if got := a.Roots(t).Epoch; got != 11 {
		t.Fatalf("the chain moved to epoch %d with one signature", got)
	}
	if g, err := a.Svc.RecordGauges(t.Context()); err != nil || g.Awaiting <= 0 || g.Outvoted {
		t.Errorf("the remaining settler's gauges: awaiting %s, outvoted %v (%v); want a wait (FieldmintNoQuorum), not outvoted", g.Awaiting, g.Outvoted, err)
	}
	claimer, _ := crypto.GenerateKey()
	a.Fund(t, crypto.PubkeyToAddress(claimer.PublicKey))
	a.Send(t, claimer, common.FromHex(settlertest.Proof(t, a.API(t), bob).ClaimCalldata))
	if got := a.Balance(t, bob); got.Cmp(big.NewInt(500)) != 0 {
		t.Fatalf("bob claimed %s against epoch 11's root, want 500", got)
	}

	// b returns, having missed 12; 13 closes: one root pays both.
	q.Close(t, 0, 13, honest)
	q.Close(t, 1, 12, honest)
	q.Close(t, 1, 13, honest)
	stepUntil(t, []*settlertest.Env{a, b}, func() bool { return posted(t, a, 13) && posted(t, b, 13) })
	if want := settlertest.RewardsRoot(t, map[string]int64{alice: 3000, bob: 1000}); a.Roots(t).Root != want {
		t.Fatalf("epoch 13's root %s does not pay epochs 10 to 13", a.Roots(t).Root.Hex())
	}
	for _, e := range []*settlertest.Env{a, b} {
		if st := e.State(t, 12); st != tables.Superseded {
			t.Errorf("epoch 12 is %q at %s, want superseded", st, e.Poster.Hex())
		}
	}
	if n := proposals(t, a, 12); n != 0 {
		t.Errorf("epoch 12 was proposed %d times, want never (13 carries it)", n)
	}
	if n := proposals(t, a, 13); n != 1 {
		t.Errorf("epoch 13 was proposed %d times, want once", n)
	}
}

// stepUntil steps every settler in turn until done.
func stepUntil(t *testing.T, envs []*settlertest.Env, done func() bool) {
	t.Helper()
	testenv.WaitFor(t, 60*time.Second, "the settlers to settle", func() bool {
		for _, e := range envs {
			e.Step(t)
		}
		return done()
	})
}

func posted(t *testing.T, e *settlertest.Env, epoch uint64) bool {
	st := e.State(t, epoch)
	return st == tables.Active || st == tables.Final
}

// signersOf reads who signed epoch's proposal from its RootSigned event.
func signersOf(t *testing.T, e *settlertest.Env, epoch uint64) []common.Address {
	t.Helper()
	d := distributor.NewRewardsDistributor()
	logs, err := e.Client.FilterLogs(context.Background(), ethereum.FilterQuery{Addresses: []common.Address{e.Contracts.Distributor}})
	if err != nil {
		t.Fatal(err)
	}
	signers := settlertest.Signers(t, e)
	var out []common.Address
	for _, l := range logs {
		ev, err := d.UnpackRootSignedEvent(&l)
		if err != nil || ev.Epoch != epoch {
			continue
		}
		for i, s := range signers {
			if ev.SignedBy&(1<<i) != 0 {
				out = append(out, s)
			}
		}
	}
	return out
}

// proposals counts epoch's RootProposed events.
func proposals(t *testing.T, e *settlertest.Env, epoch uint64) int {
	t.Helper()
	d := distributor.NewRewardsDistributor()
	logs, err := e.Client.FilterLogs(context.Background(), ethereum.FilterQuery{Addresses: []common.Address{e.Contracts.Distributor}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range logs {
		if ev, err := d.UnpackRootProposedEvent(&l); err == nil && ev.Epoch == epoch {
			n++
		}
	}
	return n
}

func votesOf(t *testing.T, e *settlertest.Env, epoch uint64) []tables.Vote {
	t.Helper()
	v, err := tables.VotesOf(context.Background(), e.Conn, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// produceRaw writes records to the raw topic stamped before and after
// epoch's end, unevenly over the partitions, and returns per partition the
// offset of its first record stamped at or after the end (its end offset
// when none is): the cut as the log defines it.
func produceRaw(t *testing.T, q *settlertest.Quorum, epoch uint64) []int64 {
	t.Helper()
	cl, err := kgo.NewClient(append(q.Kafka.Opts(), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	end := q.End(epoch)
	plan := [][]time.Duration{{-3 * time.Second, -time.Second, time.Second}, {-time.Second}, {0, time.Second}} // per partition, stamp - end
	want := make([]int64, len(plan))
	for p, stamps := range plan {
		want[p] = int64(len(stamps))
		for i, d := range stamps {
			if d >= 0 && want[p] == int64(len(stamps)) {
				want[p] = int64(i)
			}
			r := &kgo.Record{Topic: q.Kafka.Topics().Raw, Partition: int32(p), Value: []byte(fmt.Sprint(i)), Timestamp: end.Add(d)}
			if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return want
}

// checkVerifyVotes: from the three operators' proof APIs, verify-votes
// finds epoch 10's votes agreeing, and shows where epoch 11's differ: the
// root, alice's leaf, and alice's device, scored 30 by the altered settler.
func checkVerifyVotes(t *testing.T, q *settlertest.Quorum) {
	t.Helper()
	var apis []string
	for _, e := range q.Settlers {
		srv := httptest.NewServer(e.API(t).Handler())
		t.Cleanup(srv.Close)
		apis = append(apis, srv.URL)
	}
	var out bytes.Buffer
	if agree, err := quorum.Audit(t.Context(), http.DefaultClient, 10, apis, &out); err != nil || !agree {
		t.Fatalf("epoch 10: agree %v (%v)\n%s", agree, err, out.String())
	}
	out.Reset()
	if agree, err := quorum.Audit(t.Context(), http.DefaultClient, 11, apis, &out); err != nil || agree {
		t.Fatalf("epoch 11: agree %v (%v)\n%s", agree, err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"signed by " + q.Settlers[2].Poster.Hex(),
		"leaf " + strings.ToLower(common.HexToAddress(alice).Hex()) + ": ",
		"device d-" + alice + " (owner " + alice + "): score 30, not 3",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("verify-votes does not say %q:\n%s", want, got)
		}
	}
	t.Logf("fieldmint verify-votes 11:\n%s", got)
}
