package quorum_test

import (
	"context"
	"crypto/ecdsa"
	"io"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/fieldmint/fieldmint/internal/kafka"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/settler/quorum"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestExchangeKeepsOnlyWhatChecksOut: of what reaches the votes topic, a
// settler keeps one ballot per signer, epoch and round (the newest), and
// drops a ballot whose signature is another key's, one whose cut does not
// hash to its inputs, one signed for another distributor, and a record that
// is not a ballot at all.
func TestExchangeKeepsOnlyWhatChecksOut(t *testing.T) {
	ctx := context.Background()
	kc := kafka.Config{Brokers: testenv.Kafka(t), TopicPrefix: "x.", Partitions: 2}
	if err := kafka.EnsureTopics(ctx, kc); err != nil {
		t.Fatal(err)
	}
	x, err := quorum.NewExchange(kc, domain, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	a, _ := crypto.GenerateKey()
	b, _ := crypto.GenerateKey()
	ballot := func(key *ecdsa.PrivateKey, root byte, d quorum.Domain) quorum.Ballot {
		cut := quorum.Cut{At: 1_000, Offsets: []int64{3, 5}}
		v := quorum.Vote{Epoch: 7, Root: common.Hash{root}, Total: big.NewInt(10), Inputs: cut.Hash(), Rules: 1, Round: 1}
		sig, err := quorum.Sign(v.Digest(d), key)
		if err != nil {
			t.Fatal(err)
		}
		return quorum.Ballot{Vote: v, Signer: crypto.PubkeyToAddress(key.PublicKey), Signature: sig, Cut: cut}
	}
	first, newest := ballot(a, 1, domain), ballot(a, 2, domain)
	lying := ballot(b, 1, domain)
	lying.Signer = crypto.PubkeyToAddress(a.PublicKey) // b's signature, a's name
	badCut := ballot(b, 1, domain)
	badCut.Cut.Offsets[0]++
	otherDist := ballot(b, 1, quorum.Domain{ChainID: domain.ChainID, Contract: common.HexToAddress("0xdead")})
	for _, bl := range []quorum.Ballot{first, lying, badCut, otherDist, newest} {
		if err := x.Publish(ctx, bl); err != nil {
			t.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(append(kc.Opts(), kgo.DefaultProduceTopic(kc.Topics().Votes))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("junk"), Value: []byte("{not a ballot")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	valid := ballot(b, 1, domain)
	if err := x.Publish(ctx, valid); err != nil {
		t.Fatal(err)
	}
	// The last record published is read once everything before it is.
	testenv.WaitFor(t, 10*time.Second, "the ballots read back", func() bool { return len(x.Ballots(7, 1)) == 2 })
	got := x.Ballots(7, 1)
	if got[0].Signer.Cmp(got[1].Signer) >= 0 {
		t.Fatalf("ballots not ascending by signer: %s, %s", got[0].Signer.Hex(), got[1].Signer.Hex())
	}
	for _, g := range got {
		switch g.Signer {
		case crypto.PubkeyToAddress(a.PublicKey):
			if g.Vote.Root != newest.Vote.Root {
				t.Errorf("a's ballot for root %s, want its newest (%s)", g.Vote.Root.Hex(), newest.Vote.Root.Hex())
			}
		case crypto.PubkeyToAddress(b.PublicKey):
			if g.Vote.Digest(domain) != valid.Vote.Digest(domain) {
				t.Errorf("b's ballot %+v is not its valid one", g.Vote)
			}
		default:
			t.Errorf("a ballot of %s, who signed nothing", g.Signer.Hex())
		}
	}
	if n := len(x.Drain()); n != 3 {
		t.Errorf("%d ballots drained for recording, want the 3 that checked out", n)
	}
}
