package killtest

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/api/wire"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/chain"
	"github.com/fieldmint/fieldmint/internal/testenv"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/settler/claim"
)

// TestProductionTopology runs a deployment as an operator would on one
// machine: `fieldmint broker` and `fieldmint clickhouse`, anvil as the
// external chain (a block a second), the contracts deployed by `fieldmint
// deploy-contracts` with a timelock, `fieldmint migrate`, then every role as
// its own process: two ingest, two validators, two aggregators, one
// settler, two proof API replicas. Devices register through one ingest and
// stream through the other; each role is killed once on the way (and
// supervised back). At the end every reading answered 2xx is stored once,
// every epoch's scores and root are the ones the readings call for, the
// last root is active on chain, and an owner claims with Foundry's cast,
// using the calldata the second API replica serves.
func TestProductionTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a deployment for about a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rpc, _ := testenv.Anvil(t, "--block-time", "1")
	started := time.Now()
	p := newPipelineOn(t, ctx, &production{rpc: rpc, timelock: 3 * time.Second})
	ingest2, api2, mqtt2 := port(t), port(t), port(t)
	// Each role serves its metrics on a port of its own, as in a cluster.
	var metricsURLs []string
	withMetrics := func(env ...string) []string {
		addr := fmt.Sprintf("127.0.0.1:%d", port(t))
		metricsURLs = append(metricsURLs, "http://"+addr+"/metrics")
		return append(env, "FIELDMINT_TELEMETRY_METRICSLISTEN="+addr)
	}
	roles := []*proc{
		p.startEnv("ingest-1", withMetrics(), "ingest"),
		p.startEnv("ingest-2", withMetrics(fmt.Sprintf("FIELDMINT_INGEST_LISTEN=127.0.0.1:%d", ingest2), fmt.Sprintf("FIELDMINT_INGEST_MQTTLISTEN=127.0.0.1:%d", mqtt2)), "ingest"),
		p.startEnv("validate-1", withMetrics("FIELDMINT_VALIDATE_INSTANCEID=v1"), "validate"),
		p.startEnv("validate-2", withMetrics("FIELDMINT_VALIDATE_INSTANCEID=v2"), "validate"),
		p.startEnv("aggregate-1", withMetrics(), "aggregate"),
		p.startEnv("aggregate-2", withMetrics(), "aggregate"),
		p.startEnv("settle", withMetrics(), "settle"),
		p.startEnv("api-1", withMetrics(), "api"),
		p.startEnv("api-2", withMetrics(fmt.Sprintf("FIELDMINT_SETTLE_APILISTEN=127.0.0.1:%d", api2)), "api"),
	}
	// Registrations through the second ingest; readings through the first,
	// once it has the devices from the registry topic.
	streamURL := p.url
	p.url = fmt.Sprintf("http://127.0.0.1:%d", ingest2)
	p.register()
	p.url, p.sdk.URL = streamURL, streamURL
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, func() error {
		for i := range p.keys {
			resp, err := http.Get(fmt.Sprintf("%s/v1/devices/ws-%02d", streamURL, i))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("ingest-1 does not know ws-%02d yet (%d)", i, resp.StatusCode)
			}
		}
		return nil
	})
	// Each role killed once, one every few steps, and supervised back.
	restarts := 0
	p.stream(func(step int) {
		if step%5 == 2 && step/5 < len(roles) {
			r := roles[step/5]
			r.Kill()
			restarts++
			t.Logf("step %d: kill -9 %s", step, r.Name())
		}
	})
	p.verify()
	t.Logf("first active root and every check after %s; %d roles restarted once each", time.Since(started).Round(time.Second), restarts)
	if restarts != len(roles) {
		t.Fatalf("%d roles restarted, want all %d", restarts, len(roles))
	}

	// An owner claims what the second API replica says, with cast.
	owner, key := p.owners[0], p.ownerKeys[0]
	testenv.Fund(t, p.eclient, owner)
	// The API follows the chain: the active root reaches it within a block.
	var proof *wire.RewardProof
	var want *big.Int
	testenv.WaitFor(t, time.Minute, "something to claim for "+owner.Hex()+" at the second API replica", func() bool {
		var err error
		if proof, err = claim.FetchProof(ctx, fmt.Sprintf("http://127.0.0.1:%d", api2), owner); err != nil {
			return false
		}
		var ok bool
		want, ok = new(big.Int).SetString(proof.Claimable, 10)
		return ok && want.Sign() > 0 && proof.ClaimCalldata != ""
	})
	cast := exec.CommandContext(ctx, testenv.FoundryBin(t, "cast"), "send", "--rpc-url", rpc, "--private-key", "0x"+hex.EncodeToString(crypto.FromECDSA(key)),
		proof.Distributor, proof.ClaimCalldata)
	if out, err := cast.CombinedOutput(); err != nil {
		t.Fatalf("cast send: %v\n%s", err, out)
	}
	got, err := chain.TokenBalance(ctx, p.eclient, p.contracts.Token, owner)
	if err != nil || got.Cmp(want) != 0 {
		t.Fatalf("after the claim %s holds %v tokens (%v), want %s", owner.Hex(), got, err, want)
	}
	t.Logf("%s claimed %s base units with cast", owner.Hex(), want)

	forgedOverEachProtocol(t, ctx, p, ingest2, mqtt2)
	checkMetricsExposed(t, metricsURLs)
}

// forgedOverEachProtocol: a device connects over MQTT to the second ingest
// and publishes a reading signed by another key, then sends it on a gRPC
// stream, and a network server posts an uplink with a wrong token; each is
// refused as docs/api.md says, and each protocol's metrics get exposed.
func forgedOverEachProtocol(t *testing.T, ctx context.Context, p *pipeline, ingest2, mqtt2 int) {
	// Over MQTT: acknowledged (MQTT 3.1.1) and dropped.
	dev := client.NewDevice("ws-00", pb.ResourceKind_RESOURCE_KIND_WEATHER, p.keys[0])
	m, err := client.DialMQTT(ctx, dev, client.MQTTOptions{Broker: fmt.Sprintf("tcp://127.0.0.1:%d", mqtt2)})
	if err != nil {
		t.Fatal(err)
	}
	_, stranger, _ := ed25519.GenerateKey(nil)
	forged, _ := pb.SignV2(&pb.Reading{DeviceId: "ws-00", Seq: 1 << 40, EventTimeMs: time.Now().UnixMilli(), Kind: pb.ResourceKind_RESOURCE_KIND_WEATHER,
		Measurements: map[string]int64{"temperature_c": 20_000}}, stranger)
	if err := m.Send(ctx, []*pb.SignedReadingV2{forged}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	// The same forged reading on a gRPC stream to the second ingest: refused
	// BAD_SIGNATURE in its acknowledgement, and the gRPC metrics exposed.
	st := client.NewGRPC(client.GRPCOptions{URL: fmt.Sprintf("http://127.0.0.1:%d", ingest2)}).Stream(ctx, 0)
	ack, err := st.Send(ctx, []*pb.SignedReadingV2{forged})
	if err != nil {
		t.Fatal(err)
	}
	var refused *client.Error
	if _, err := ack.Wait(ctx); !errors.As(err, &refused) || refused.Code != "BAD_SIGNATURE" {
		t.Fatalf("a forged reading over a gRPC stream: %v, want BAD_SIGNATURE", err)
	}
	st.Close(ctx)
	// A ChirpStack uplink posted with a token no network server has:
	// 401 BAD_TOKEN, and the LoRaWAN metric exposed.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/v1/lorawan/chirpstack?event=up", ingest2), strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer not-a-network-servers-token")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("an uplink with a wrong token: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
}

// namedMetrics returns the metric names the given dashboard and rule files
// use in their queries: fieldmint's and otelhttp's.
func namedMetrics(t *testing.T, files ...string) []string {
	re := regexp.MustCompile(`\b(?:fieldmint|http_server)_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllString(string(raw), -1) {
			seen[m] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 15 {
		t.Fatalf("found only %d metric names in %v", len(names), files)
	}
	return names
}

// checkMetricsExposed: every metric the dashboard and the alert rules name
// is exposed by a running role (one of metricsURLs).
func checkMetricsExposed(t *testing.T, metricsURLs []string) {
	named := namedMetrics(t, "../deploy/helm/fieldmint/files/alerts.yaml", "../deploy/helm/fieldmint/files/dashboards/fieldmint.json")
	testenv.Eventually(t, time.Minute, time.Second, func() error {
		exposed := map[string]bool{}
		for _, u := range metricsURLs {
			resp, err := http.Get(u)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(body), "\n") {
				if name, _, ok := strings.Cut(line, "{"); ok && !strings.HasPrefix(line, "#") {
					exposed[name] = true
				} else if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
					exposed[name] = true
				}
			}
		}
		var missing []string
		for _, name := range named {
			if !exposed[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("named by the dashboard or the alerts but exposed by no role: %v", missing)
		}
		return nil
	})
	t.Logf("the %d metrics the dashboard and the alerts name are all exposed", len(named))
}
