// What a kill test checks after the stream: every reading answered 2xx
// stored once, the scores and roots those of a clean run, and a replay of
// the log that computes the same.

package killtest

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/schemas/bindings/distributor"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/merkle"
)

// verify waits for every epoch to be posted, then checks ClickHouse and the
// chain against what the sent readings call for.
func (p *pipeline) verify() {
	epochs := uint64(p.steps / 10)
	wantScores, wantValid, wantOut := p.wantFromSent(epochs)
	conn, err := ch.Open(&ch.Options{Addr: []string{fmt.Sprintf("127.0.0.1:%d", p.chTCP)}, Auth: ch.Auth{Database: "killtest"}})
	if err != nil {
		p.t.Fatal(err)
	}
	defer conn.Close()
	v := &verifier{p: p, conn: conn, epochs: epochs}
	v.waitSettled()
	v.checkOnce(wantValid, wantOut)
	v.checkRoots(wantScores)
	v.checkChain()
}

// wantFromSent is what the sent readings call for (docs/scoring.md): a
// device earns the weather weight for each distinct 5 s interval of the
// 10 s epoch with a valid reading (steps 0-4 and 5-9 of each epoch), unless
// one of its readings of the epoch was rejected (OUT_OF_RANGE is
// fraud-class; this test's policy has no probation); each stands in a cell
// of its own. It returns each epoch's scores by owner, and the valid and
// OUT_OF_RANGE readings.
func (p *pipeline) wantFromSent(epochs uint64) ([]map[common.Address]uint64, int, int) {
	scoring := aggregator.DefaultScoring().Kinds[pb.ResourceKind_RESOURCE_KIND_WEATHER]
	wantScores := make([]map[common.Address]uint64, int(epochs))
	wantValid, wantOut := 0, 0
	for e := range wantScores {
		wantScores[e] = map[common.Address]uint64{}
	}
	perInterval := int(scoring.Interval / time.Second)
	for dev := 0; dev < devices; dev++ {
		for e := 0; e < int(epochs); e++ {
			forfeited := false
			intervals := map[int]bool{}
			for step := e * 10; step < e*10+10; step++ {
				if outOfRange(dev, step) {
					forfeited = true
					wantOut++
				} else {
					wantValid++
					intervals[step%10/perInterval] = true
				}
			}
			if !forfeited {
				wantScores[e][p.owners[ownerOf(dev)]] += uint64(len(intervals)) * scoring.Weight
			}
		}
	}
	for dev := 0; dev < devices; dev++ {
		if outOfRange(dev, p.tail()) {
			wantOut++
		}
	}

	return wantScores, wantValid, wantOut
}

// verifier checks one pipeline's ClickHouse and chain.
type verifier struct {
	p      *pipeline
	conn   driver.Conn
	epochs uint64
}

func (v *verifier) count(q string, args ...any) (n uint64) {
	if err := reread(v.p.ctx, func() error { return v.conn.QueryRow(v.p.ctx, q, args...).Scan(&n) }); err != nil {
		v.p.fail("%s: %v", q, err)
	}
	return n
}

// settlements reads the newest settlement of the run's epochs.
func (v *verifier) settlements() []tables.Settlement {
	var out []tables.Settlement
	if err := reread(v.p.ctx, func() (err error) {
		out, err = tables.Latest(v.p.ctx, v.conn, "WHERE epoch >= ? AND epoch < ? ORDER BY epoch", v.p.firstEpoch, v.p.firstEpoch+v.epochs)
		return err
	}); err != nil {
		v.p.fail("settlements: %v", err)
	}
	return out
}

// waitSettled waits until every epoch is settled (its root on chain, or
// carried by a later root that is), the last one's root on chain.
func (v *verifier) waitSettled() {
	p, epochs := v.p, v.epochs
	testenv.WaitFor(p.t, time.Until(deadlineOf(p.ctx)), fmt.Sprintf("epochs %d..%d all settled, the last one's root active", p.firstEpoch, p.firstEpoch+epochs-1), func() bool {
		sets := v.settlements()
		posted := 0
		for _, s := range sets {
			if tables.Posted.Has(s.State) {
				posted++
			}
		}
		last := len(sets) > 0 && sets[len(sets)-1].Epoch == p.firstEpoch+epochs-1 && (sets[len(sets)-1].State == tables.Active || sets[len(sets)-1].State == tables.Final)
		return uint64(posted) == epochs && last
	})
}

// checkOnce: one decision per reading (a reading sent twice because its
// answer was lost is stored once more as DUPLICATE, and only so), each
// Kafka record stored once, and the valid and rejected counts sent.
func (v *verifier) checkOnce(wantValid, wantOut int) {
	p, t, ctx, conn, count := v.p, v.p.t, v.p.ctx, v.conn, v.count
	total := uint64((p.steps + 1) * devices)
	if n := count("SELECT count() FROM (SELECT DISTINCT device_id, seq FROM readings)"); n != total {
		p.fail("%d distinct readings in ClickHouse, want %d", n, total)
	}
	if n := count("SELECT count() FROM readings WHERE reason != 'DUPLICATE'"); n != total {
		var twice []string
		rows, err := conn.Query(ctx, `SELECT device_id, seq, groupArray(concat(reason, ' @', toString(kafka_partition), '/', toString(kafka_offset), ' ', detail))
			FROM readings WHERE reason != 'DUPLICATE' GROUP BY device_id, seq HAVING count() > 1 LIMIT 5`)
		if err == nil {
			for rows.Next() {
				var d string
				var seq uint64
				var decisions []string
				rows.Scan(&d, &seq, &decisions)
				twice = append(twice, fmt.Sprintf("%s/%d: %q", d, seq, decisions))
			}
			if err := rows.Err(); err != nil {
				twice = append(twice, "(read cut short: "+err.Error()+")")
			}
			rows.Close()
		}
		p.fail("%d decisions in ClickHouse, want one per reading: %d; decided twice: %s", n, total, strings.Join(twice, "; "))
	}
	if n := count("SELECT count() FROM (SELECT kafka_topic, kafka_partition, kafka_offset FROM readings GROUP BY ALL HAVING count() > 1)"); n != 0 {
		p.fail("%d Kafka records stored twice", n)
	}
	if n := count("SELECT count() FROM readings WHERE status = 'valid' AND seq <= ?", p.steps); n != uint64(wantValid) {
		var reasons []string
		rows, err := conn.Query(ctx, "SELECT reason, count() FROM readings GROUP BY reason ORDER BY reason")
		if err == nil {
			for rows.Next() {
				var r string
				var c uint64
				rows.Scan(&r, &c)
				reasons = append(reasons, fmt.Sprintf("%q: %d", r, c))
			}
			if err := rows.Err(); err != nil {
				reasons = append(reasons, "(read cut short: "+err.Error()+")")
			}
			rows.Close()
		}
		p.fail("%d valid readings, want %d (by reason: %s)", n, wantValid, strings.Join(reasons, ", "))
	}
	if n := count("SELECT count() FROM readings WHERE reason = 'OUT_OF_RANGE'"); n != uint64(wantOut) {
		p.fail("%d OUT_OF_RANGE rejections, want %d", n, wantOut)
	}
	t.Logf("%d readings stored once each; %d retried deliveries stored as DUPLICATE; %d batches answered 429/503 with Retry-After and retried",
		total, count("SELECT count() FROM readings WHERE reason = 'DUPLICATE'"), p.refusals.Load())

}

// checkRoots: per-epoch scores and roots, those the sent readings call for.
func (v *verifier) checkRoots(wantScores []map[common.Address]uint64) {
	p, t, ctx, conn, epochs := v.p, v.p.t, v.p.ctx, v.conn, v.epochs
	cumulative := map[common.Address]*big.Int{}
	for i := 0; i < int(epochs); i++ {
		e := p.firstEpoch + uint64(i)
		got := map[common.Address]uint64{}
		if err := reread(ctx, func() error {
			clear(got)
			rows, err := conn.Query(ctx, "SELECT owner, sum(score) FROM device_scores FINAL WHERE epoch = ? GROUP BY owner HAVING sum(score) > 0", e)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var o string
				var s uint64
				if err := rows.Scan(&o, &s); err != nil {
					return err
				}
				got[common.HexToAddress(o)] = s
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		var scores []settler.Score
		for o, s := range wantScores[i] {
			if got[o] != s {
				p.fail("epoch %d: owner %s scored %d, want %d", e, o.Hex(), got[o], s)
			}
			scores = append(scores, settler.Score{Account: o, Score: s})
		}
		if len(got) != len(wantScores[i]) {
			p.fail("epoch %d: %d owners scored, want %d", e, len(got), len(wantScores[i]))
		}
		shares, err := settler.Split(big.NewInt(emission), scores)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shares {
			if cumulative[sh.Account] == nil {
				cumulative[sh.Account] = new(big.Int)
			}
			cumulative[sh.Account].Add(cumulative[sh.Account], sh.Amount)
		}
		var rewards []merkle.Reward
		for a, c := range cumulative {
			rewards = append(rewards, merkle.Reward{Account: a, Amount: new(big.Int).Set(c)})
		}
		tree, err := merkle.OfRewards(rewards)
		if err != nil {
			t.Fatal(err)
		}
		var root string
		if err := reread(ctx, func() error {
			return conn.QueryRow(ctx, "SELECT root FROM settlements_latest WHERE epoch = ?", e).Scan(&root)
		}); err != nil {
			t.Fatal(err)
		}
		if common.HexToHash(root) != tree.Root() {
			p.fail("epoch %d: posted root %s, want %s", e, root, tree.Root().Hex())
		}
	}
}

// checkChain: each epoch closed once, and its root proposed at most once:
// the chain holds the last one, and the poster sent one transaction per
// proposal or activation; verify-epoch agrees.
func (v *verifier) checkChain() {
	p, t, ctx, conn, epochs, count := v.p, v.p.t, v.p.ctx, v.conn, v.epochs, v.count
	if n := count("SELECT count() FROM epochs WHERE epoch >= ? AND epoch < ?", p.firstEpoch, p.firstEpoch+epochs); n != epochs {
		p.fail("%d epoch-closed rows for %d epochs", n, epochs)
	}
	d := distributor.NewRewardsDistributor()
	onChain, err := bind.Call(d.Instance(p.eclient, p.contracts.Distributor), nil, d.PackRoot(), d.UnpackRoot)
	if err != nil {
		t.Fatal(err)
	}
	var lastRoot string
	if err := reread(ctx, func() error {
		return conn.QueryRow(ctx, "SELECT root FROM settlements_latest WHERE epoch = ?", p.firstEpoch+epochs-1).Scan(&lastRoot)
	}); err != nil {
		t.Fatal(err)
	}
	if common.Hash(onChain) != common.HexToHash(lastRoot) {
		p.fail("chain root %x, want the last epoch's %s", onChain, lastRoot)
	}
	proposals := count("SELECT count() FROM chain_events FINAL WHERE removed = 0 AND event = 'RootProposed'")
	if n := count("SELECT count(DISTINCT epoch) FROM chain_events FINAL WHERE removed = 0 AND event = 'RootProposed'"); n != proposals || n > epochs || n == 0 {
		p.fail("%d roots proposed for %d distinct epochs (of %d): an epoch was proposed twice", proposals, n, epochs)
	}
	// Behind a timelock the settler also activates due roots: a transaction
	// of its own, unless a proposal activated the one before in passing.
	txs := count("SELECT count(DISTINCT tx_hash) FROM chain_events FINAL WHERE removed = 0 AND event IN ('RootProposed', 'RootActivated')")
	if n, _ := p.eclient.NonceAt(ctx, p.poster, nil); n != txs {
		p.fail("the poster sent %d transactions for %d proposals and activations (%d proposals)", n, txs, proposals)
	}
	// verify-epoch, recomputing every epoch up to the one asked from the
	// readings, agrees with the stored trees and every root the distributor
	// logged: asked for each epoch of a short run, for the last of a long
	// one (which recomputes them all once).
	from := p.firstEpoch
	if epochs > 10 {
		from = p.firstEpoch + epochs - 1
	}
	for e := from; e < p.firstEpoch+epochs; e++ {
		v, err := settler.VerifyEpoch(ctx, conn, e, settler.RootsFromLogs(p.eclient, p.contracts.Distributor), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		// A superseded epoch never reached the chain on its own: a later
		// root carried its amounts.
		st, _, err := tables.SettlementOf(ctx, conn, e)
		if err != nil {
			t.Fatal(err)
		}
		superseded := st.State == tables.Superseded
		if len(v.Differences) > 0 || len(v.Chain) != int(e-p.firstEpoch)+1 || (v.OnChain == nil) != superseded {
			p.fail("verify-epoch %d: %d epochs recomputed, differences %q", e, len(v.Chain), v.Differences)
		}
	}
}

// deadlineOf is ctx's deadline (a minute from now without one).
func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}

// replayAndCompare rebuilds a fresh database from the Kafka log with
// 'fieldmint replay' and checks it holds what the live pipeline wrote:
// decisions, scores, cumulative rewards and roots.
func (p *pipeline) replayAndCompare() {
	cmd := exec.CommandContext(p.ctx, p.bin, "replay", "--clickhouse.database", "replayed")
	cmd.Env = append(os.Environ(), p.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.fail("replay: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "replay:") || strings.HasPrefix(line, "epoch ") {
			p.t.Log(line)
		}
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{fmt.Sprintf("127.0.0.1:%d", p.chTCP)}})
	if err != nil {
		p.t.Fatal(err)
	}
	defer conn.Close()
	// dump returns a query's rows as sorted lines.
	dump := func(q, db string) string {
		rows, err := conn.Query(p.ctx, "SELECT toString(tuple(*)) FROM ("+fmt.Sprintf(q, db)+")")
		if err != nil {
			p.fail("%s: %v", q, err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				p.fail("%s: %v", q, err)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			p.fail("%s: %v", q, err)
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	for _, q := range []string{
		"SELECT status, reason, count() FROM %s.readings GROUP BY ALL",
		"SELECT epoch, owner, count(), sum(cityHash64(reading_bytes, signature, wire)) FROM %s.readings WHERE status = 'valid' GROUP BY ALL",
		"SELECT DISTINCT epoch FROM %s.epochs",
		"SELECT * FROM %s.device_scores FINAL",
		"SELECT * FROM %s.stream_evidence FINAL",
		"SELECT DISTINCT epoch FROM %s.scored_epochs",
		"SELECT epoch, mapSort(rejected_offsets) FROM %s.epoch_cuts FINAL",
		"SELECT epoch, account, amount, cumulative FROM %s.reward_leaves FINAL",
		"SELECT epoch, root, total, accounts, tree FROM %s.settlements_latest",
	} {
		live, replayed := dump(q, "killtest"), dump(q, "replayed")
		if live != replayed || live == "" {
			p.fail("%s\nlive:\n%s\nreplayed:\n%s", q, live, replayed)
		}
	}
}
