package roles_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fieldmint/fieldmint/ingest"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/freeport"
	"github.com/fieldmint/fieldmint/internal/testenv"
	"github.com/fieldmint/fieldmint/roles"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
	"github.com/fieldmint/fieldmint/settler"
)

// TestChirpStackUplinkStored: ChirpStack's published uplink example, posted
// by its HTTP integration, goes through ingest, the validators and the
// aggregator into ClickHouse as a valid reading of device
// eui-0101010101010101, marked trusted_by its network server (wire 3, no
// signature) with the uplink's deduplication id, frame counter and
// receiving gateway; an uplink the device signed (fPort 200) is stored as a
// signed reading with its uplink's metadata; verify-epoch's signature check
// verifies the one and counts the other as trusted.
func TestChirpStackUplinkStored(t *testing.T) {
	conn, chCfg := testenv.ClickHouseConn(t)
	cfg := roles.Defaults()
	cfg.Aggregate.EpochLength, cfg.Aggregate.AllowedLateness, cfg.Aggregate.IdleTimeout = 30*time.Second, 5*time.Second, 30*time.Second
	cfg.Aggregate.FlushInterval = 500 * time.Millisecond
	cfg.Kafka.Brokers, cfg.Kafka.TopicPrefix, cfg.Kafka.Partitions = testenv.Kafka(t), "lora.", 1
	cfg.ClickHouse = chCfg
	cfg.Ingest.Listen = freeport.Addr()
	const token = "chirpstack-token-for-the-test"
	cfg.Ingest.NetworkServers = []string{"chirpstack-eu=" + token}
	admin, _ := crypto.GenerateKey()
	cfg.Ingest.Admins = []string{crypto.PubkeyToAddress(admin.PublicKey).Hex()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, run := range []func(context.Context, roles.Config, *slog.Logger) error{roles.RunIngest, roles.RunValidate, roles.RunAggregate} {
		testenv.Go(t, func(ctx context.Context) error { return run(ctx, cfg, log) })
	}
	ctx := context.Background()
	sdk := &client.Client{URL: "http://" + cfg.Ingest.Listen, Network: cfg.Ingest.Network}
	const id = "eui-0101010101010101"
	d, key := registerHotspot(t, sdk, admin, id)

	example, err := os.ReadFile("../ingest/testdata/chirpstack/uplink.json")
	if err != nil {
		t.Fatal(err)
	}
	ev := &pb.ChirpStackUplinkEvent{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(example, ev); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Truncate(time.Millisecond)
	ev.Time = timestamppb.New(at) // the example's 2022 would be CLOCK_STALE
	asJSON, _ := protojson.Marshal(ev)
	post(t, sdk.URL, token, "application/json", asJSON)
	sr, _ := pb.SignV2(&pb.Reading{DeviceId: id, Seq: uint64(at.UnixMilli()) + 5000, EventTimeMs: at.UnixMilli() + 1000, Kind: d.Kind,
		Measurements: map[string]int64{"rssi_dbm": -80_000}}, key)
	ev.FPort, ev.Data, ev.FCnt, ev.Time = ingest.SignedFPort, mustMarshal(sr), 2, timestamppb.New(at.Add(time.Second))
	post(t, sdk.URL, token, "application/x-protobuf", mustMarshal(ev))

	type stored struct {
		seq                uint64
		status, trustedBy  string
		wire               uint8
		dedup              string
		fCnt               uint32
		fPort              uint8
		gateways           []string
		rssi, snr          []int16
		measurements       map[string]int64
		epoch              uint64
		signature, reading string
	}
	var rows []stored
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, func() error {
		rows = rows[:0]
		rs, err := conn.Query(ctx, `SELECT seq, status, trusted_by, wire, lorawan_deduplication_id, lorawan_f_cnt, lorawan_f_port,
			lorawan_gateways.gateway_id, lorawan_gateways.rssi_dbm, lorawan_gateways.snr_db10, measurements, epoch, signature, reading_bytes
			FROM readings WHERE device_id = ? ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var s stored
			if err := rs.Scan(&s.seq, &s.status, &s.trustedBy, &s.wire, &s.dedup, &s.fCnt, &s.fPort, &s.gateways, &s.rssi, &s.snr, &s.measurements, &s.epoch, &s.signature, &s.reading); err != nil {
				return err
			}
			rows = append(rows, s)
		}
		if err := rs.Err(); err != nil || len(rows) != 2 {
			return fmt.Errorf("%d rows of %s (%v), want 2", len(rows), id, err)
		}
		return nil
	})
	trusted, signed := rows[0], rows[1]
	if trusted.seq != uint64(at.UnixMilli()) || trusted.status != "valid" || trusted.trustedBy != "chirpstack-eu" || trusted.wire != 3 || trusted.signature != "" ||
		trusted.measurements["rssi_dbm"] != -36_000 || trusted.measurements["snr_db"] != 10_500 || trusted.fPort != 1 || trusted.fCnt != 0 {
		t.Errorf("the published example is stored as %+v", trusted)
	}
	if signed.status != "valid" || signed.trustedBy != "" || signed.wire != 2 || len(signed.signature) != 64 || signed.fPort != ingest.SignedFPort || signed.fCnt != 2 ||
		signed.measurements["rssi_dbm"] != -80_000 {
		t.Errorf("the signed uplink is stored as %+v", signed)
	}
	for _, s := range rows {
		if s.dedup != "3ac7e3c4-4401-4b8d-9386-a5c902f9202d" || len(s.gateways) != 1 || s.gateways[0] != "0016c001f153a14c" || s.rssi[0] != -36 || s.snr[0] != 105 {
			t.Errorf("uplink metadata stored as %+v", s)
		}
	}
	// The stored bytes of the trusted reading are the reading ingest made
	// of the uplink.
	r := &pb.Reading{}
	if err := proto.Unmarshal([]byte(trusted.reading), r); err != nil || r.DeviceId != id || r.Seq != trusted.seq {
		t.Errorf("trusted reading's bytes: %v %v", r, err)
	}
	for _, e := range []uint64{trusted.epoch, signed.epoch} {
		sigs, err := settler.CheckSignatures(ctx, conn, e)
		if err != nil {
			t.Fatal(err)
		}
		if sigs.Bad != 0 || sigs.Verified+sigs.Trusted == 0 {
			t.Errorf("epoch %d: signatures %+v", e, sigs)
		}
	}
	if trusted.epoch == signed.epoch {
		if sigs, _ := settler.CheckSignatures(ctx, conn, trusted.epoch); sigs.Verified != 1 || sigs.Trusted != 1 {
			t.Errorf("signatures %+v, want 1 verified and 1 trusted", sigs)
		}
	}
}

// registerHotspot registers a maker and, attested by it, hotspot id.
func registerHotspot(t *testing.T, sdk *client.Client, admin *ecdsa.PrivateKey, id string) (*pb.Device, ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	waitHealthy(t, sdk.URL)
	_, makerKey, _ := ed25519.GenerateKey(nil)
	maker := client.Maker{ID: "m", Key: makerKey}
	if err := sdk.AddMaker(ctx, maker.ID, "a maker", makerKey.Public().(ed25519.PublicKey), client.OwnerKey(admin)); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	ownerKey, _ := crypto.GenerateKey()
	d := &pb.Device{DeviceId: id, PublicKey: key.Public().(ed25519.PublicKey), Kind: pb.ResourceKind_RESOURCE_KIND_HOTSPOT, Location: &pb.Location{LatE7: 387_000_000, LonE7: -91_000_000}}
	if err := sdk.Register(ctx, d, key, maker.Attest(d.PublicKey, d.Kind), client.OwnerKey(ownerKey)); err != nil {
		t.Fatal(err)
	}
	return d, key
}

// waitHealthy waits for ingest at url to answer /healthz.
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, "ingest answering /healthz", func() bool {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}

func post(t *testing.T, url, token, contentType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/lorawan/chirpstack?event=up", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("uplink: %d %s", resp.StatusCode, b)
	}
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
