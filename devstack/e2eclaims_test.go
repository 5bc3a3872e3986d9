package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/roles"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/claim"
)

// claimAll has every owner claim: the two paid get exactly their share,
// once; the cheat's owner nothing.
func (e *e2e) claimAll() {
	t, info := e.t, e.info
	var lastClaim uint64 // the block of the last claim
	for i, o := range e.stack.Owners {
		key, err := chain.ParseKey(o.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		res, err := claim.Run(e.ctx, claim.Options{API: info.APIURL, RPC: info.RPCURL, Key: key})
		want := e.want[e.owners[i]]
		if want == nil {
			if err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
				t.Errorf("owner %d (the cheat's) claim: %v %+v, want NOT_FOUND: a forfeited epoch pays nothing", i, err, res)
			}
			continue
		}
		if err != nil {
			t.Fatalf("owner %d claim: %v", i, err)
		}
		lastClaim = max(lastClaim, res.Block)
		if res.Balance.Cmp(want) != 0 || res.Paid.Cmp(want) != 0 {
			t.Errorf("owner %d: balance %s, paid %s, want %s", i, res.Balance, res.Paid, want)
		}
		if _, err := claim.Run(e.ctx, claim.Options{API: info.APIURL, RPC: info.RPCURL, Key: key}); !errors.Is(err, claim.ErrNothingToClaim) {
			t.Errorf("owner %d second claim: %v, want nothing to claim", i, err)
		}
	}
	// The proof API follows the chain's Claimed events: from the block of
	// the last claim on, nothing is left to claim.
	for i, o := range e.owners[:2] {
		var body wire.RewardProof
		testenv.WaitFor(t, 30*time.Second, "the proof API's answer at the last claim's block", func() bool {
			resp, err := http.Get(info.APIURL + "/v1/rewards/" + o.Hex())
			if err != nil {
				t.Fatal(err)
			}
			body = wire.RewardProof{}
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			return body.Block >= lastClaim
		})
		if body.Claimed != e.want[o].String() || body.Claimable != "0" || body.CumulativeAmount != e.want[o].String() {
			t.Errorf("owner %d after claiming: %+v, want claimed %s and claimable 0", i, body, e.want[o])
		}
	}
}

// checkVerifyEpoch: verify-epoch recomputes the epoch from the readings and
// finds the stored tree and the root on chain equal to it; once a reading
// is slipped into ClickHouse, it names the difference.
func (e *e2e) checkVerifyEpoch(got settler.Settled) {
	t, ctx := e.t, e.ctx
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	epoch := strconv.FormatUint(e.epoch, 10)
	var report strings.Builder
	if err := roles.RunVerifyEpoch(ctx, e.stack.Config.Config, []string{epoch}, &report, log); err != nil {
		t.Fatalf("verify-epoch: %v\n%s", err, report.String())
	}
	t.Logf("verify-epoch:\n%s", report.String())
	if !strings.Contains(report.String(), "root on chain   "+got.Root.Hex()) || !strings.Contains(report.String(), "ok: ") {
		t.Errorf("verify-epoch report:\n%s", report.String())
	}
	// Two readings a second apart whose temperature moves: 2 intervals.
	for i := int64(1); i <= 2; i++ {
		if err := e.conn.Exec(ctx, `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, status, kafka_topic, kafka_offset)
			VALUES ('intruder', ?, fromUnixTimestamp64Milli(?), ?, 'RESOURCE_KIND_WEATHER', ?, ?, 'valid', 'forged', 0)`,
			i, e.at(i), e.epoch, e.owners[2].Hex(), map[string]int64{"temperature_c": 20_000 + 500*i}); err != nil {
			t.Fatal(err)
		}
	}
	report.Reset()
	if err := roles.RunVerifyEpoch(ctx, e.stack.Config.Config, []string{epoch}, &report, log); !errors.Is(err, roles.ErrMismatch) ||
		!strings.Contains(report.String(), "first difference: epoch "+epoch+": device intruder scores 2000 by its readings, but has no stored score") ||
		!strings.Contains(report.String(), "  stored root     "+got.Root.Hex()) || strings.Contains(report.String(), "recomputed root "+got.Root.Hex()) ||
		!strings.Contains(report.String(), "2 stored before readings kept them") {
		t.Errorf("verify-epoch after tampering: %v\n%s", err, report.String())
	}
	t.Logf("verify-epoch after tampering:\n%s", report.String())
}

func mustClient(t *testing.T, ctx context.Context, s *Stack) *ethclient.Client {
	cl, err := s.Chain.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
