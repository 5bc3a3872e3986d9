package tables

import (
	"context"
	"math"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

// TestColumnsMatchTheServer holds every column list here to the tables the
// migrations create: a column renamed or reordered there fails here.
func TestColumnsMatchTheServer(t *testing.T) {
	ctx := context.Background()
	conn, _ := testenv.ClickHouseConn(t)
	have := func(table string) []string {
		rows, err := conn.Query(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ? ORDER BY position", table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	split := func(list string) []string {
		var out []string
		for _, c := range strings.Split(list, ",") {
			out = append(out, strings.TrimSpace(c))
		}
		return out
	}
	for _, c := range []struct {
		table, list string
		exact       bool // the list is every column, in order
	}{
		{"device_scores", "epoch, " + ScoreColumns, false},
		{"reward_leaves", LeafColumns, true},
		{"settlements_latest", SettlementColumns, false},
		{"settlement_states", "epoch, version, root, total, emission, accounts, state, reason, tx_hash, block, updated_at", true},
		{"settlement_trees", "epoch, root, tree", true},
		{"settlement_votes", VoteColumns + ", read_at", true},
	} {
		server, want := have(c.table), split(c.list)
		if len(server) == 0 {
			t.Errorf("%s: no such table", c.table)
			continue
		}
		if c.exact && !slices.Equal(server, want) {
			t.Errorf("%s: the server has %v, this package %v", c.table, server, want)
		}
		for _, col := range want {
			if !slices.Contains(server, col) {
				t.Errorf("%s: the server has no column %s (it has %v)", c.table, col, server)
			}
		}
	}
	// A row written through InsertDeviceScores reads back the same through
	// DeviceScores and OwnerScores.
	d := DeviceScore{Epoch: 3, DeviceID: "d1", Owner: "0xA1", Kind: "RESOURCE_KIND_WEATHER", Readings: 5, Uptime: 4, Complete: 3, Moving: 2, Quality: 7500,
		DriftM: 12, Trust: 10000, Witnessed: 1, Delivered: 9, Weight: 1000, Cell: 42, Sharing: 2, Area: 41, Occupied: 1, Crowding: 10000, Frauds: 0, Evidence: "", Score: 1875}
	if err := InsertDeviceScores(ctx, conn, []DeviceScore{d}); err != nil {
		t.Fatal(err)
	}
	if back, err := DeviceScores(ctx, conn, "WHERE epoch = ?", uint64(3)); err != nil || len(back) != 1 || back[0] != d {
		t.Errorf("device_scores round trip: %+v %v, want %+v", back, err, d)
	}
	if n, err := EpochScore(ctx, conn, 3); err != nil || n != 1875 {
		t.Errorf("epoch score: %d %v", n, err)
	}
	if o, err := OwnerScores(ctx, conn, 3); err != nil || len(o) != 1 || o[0] != (OwnerScore{"0xA1", 1875}) {
		t.Errorf("owner scores: %+v %v", o, err)
	}
	// Every Go field of DeviceScore is a column: ScanInto and ScoreColumns
	// have one entry each.
	if n, m := len(new(DeviceScore).ScanInto()), len(split("epoch, "+ScoreColumns)); n != m {
		t.Errorf("DeviceScore scans %d columns, ScoreColumns lists %d", n, m)
	}
}

// TestSettlementsRoundTrip writes states, leaves and a tree through this
// package and reads them back through it, with the state sets' SQL run by
// the server.
func TestSettlementsRoundTrip(t *testing.T) {
	ctx := context.Background()
	conn, _ := testenv.ClickHouseConn(t)
	root := common.HexToHash("0x01")
	s := Settlement{Epoch: 7, Root: root, Total: big.NewInt(1000), Emission: big.NewInt(1000), Accounts: 2, State: Computed, Version: 1}
	for i, st := range []State{Computed, Proposed, Revoked} {
		s.State, s.Version = st, uint64(i+1)
		if err := InsertState(ctx, conn, s); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := SettlementOf(ctx, conn, 7)
	if err != nil || !ok || got.State != Revoked || got.Total.Cmp(big.NewInt(1000)) != 0 || got.Root != root || got.UpdatedAt.IsZero() {
		t.Fatalf("settlement 7: %+v %v %v", got, ok, err)
	}
	if h, ok, err := Hold(ctx, conn); err != nil || !ok || h.Epoch != 7 {
		t.Fatalf("hold: %+v %v %v", h, ok, err)
	}
	if _, ok, err := NewestComputed(ctx, conn, 0, math.MaxUint64); err != nil || ok {
		t.Fatalf("a revoked epoch read as computed: %v %v", ok, err)
	}
	if n, err := PostedSince(ctx, conn, 0); err != nil || n != 0 {
		t.Fatalf("posted: %d %v", n, err)
	}
	if n, err := EverPosted(ctx, conn); err != nil || n != 2 {
		t.Fatalf("states past computed: %d %v, want 2", n, err)
	}
	s.Epoch, s.State, s.Version = 8, Active, 4
	if err := InsertState(ctx, conn, s); err != nil {
		t.Fatal(err)
	}
	if base, err := BuildsOn(ctx, conn, 9); err != nil || base != 8 {
		t.Fatalf("9 builds on %d (%v), want 8 (7 is revoked)", base, err)
	}
	if m, err := NewestIn(ctx, conn, Progress); err != nil || m[Active] != 8 || len(m) != 1 {
		t.Fatalf("newest by state: %v %v", m, err)
	}
	if eps, err := EpochsIn(ctx, conn, Holding, 0); err != nil || !slices.Equal(eps, []uint64{7}) {
		t.Fatalf("holding epochs: %v %v", eps, err)
	}
	if eps, err := EpochsIn(ctx, conn, StateSet{Active, Final}, 8); err != nil || !slices.Equal(eps, []uint64{8}) || !Posted.Has(Active) || Posted.Has(Computed) {
		t.Fatalf("active epochs: %v %v", eps, err)
	}
	if e, err := PostedEmissions(ctx, conn, 0, 10); err != nil || len(e) != 1 || e[8] == nil {
		t.Fatalf("posted emissions: %v %v", e, err)
	}

	leaves := []RewardLeaf{
		{Epoch: 8, Account: common.HexToAddress("0xb0"), Score: 1, Amount: big.NewInt(250), Cumulative: big.NewInt(250)},
		{Epoch: 8, Account: common.HexToAddress("0xa1"), Score: 3, Amount: big.NewInt(750), Cumulative: big.NewInt(1750)},
	}
	if n, err := PaidAccounts(ctx, conn, 8); err != nil || n != 0 {
		t.Fatalf("paid accounts before the leaves: %d %v", n, err)
	}
	for range 2 { // the same token twice: stored once
		if err := InsertLeaves(ctx, conn, "t-8", leaves); err != nil {
			t.Fatal(err)
		}
	}
	back, err := LeavesOf(ctx, conn, 8)
	if err != nil || len(back) != 2 || back[0].Account != leaves[1].Account || back[0].Cumulative.Cmp(big.NewInt(1750)) != 0 {
		t.Fatalf("leaves: %+v %v", back, err)
	}
	if n, err := PaidAccounts(ctx, conn, 8); err != nil || n != 2 {
		t.Fatalf("paid accounts: %d %v, want 2", n, err)
	}
	if err := InsertTree(ctx, conn, 8, root, `{"format":"standard-v1"}`); err != nil {
		t.Fatal(err)
	}
	if tree, ok, err := TreeOf(ctx, conn, 8); err != nil || !ok || !strings.Contains(tree, "standard-v1") {
		t.Fatalf("tree: %q %v %v", tree, ok, err)
	}
	if _, ok, err := TreeOf(ctx, conn, 9); err != nil || ok {
		t.Fatalf("a tree for an epoch without one: %v %v", ok, err)
	}
}

// TestReasonsAreDocumented: every code of the catalog has its row in the
// validators' README (the aggregator's LATE is named there too), each
// once, and the classes split as the README says.
func TestReasonsAreDocumented(t *testing.T) {
	raw, err := os.ReadFile("../../validators/README.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range Reasons {
		if seen[r.Code] {
			t.Errorf("%s twice in the catalog", r.Code)
		}
		seen[r.Code] = true
		if !strings.Contains(string(raw), "`"+r.Code+"`") {
			t.Errorf("validators/README.md never names %s", r.Code)
		}
	}
	if got := BenignReasons(); !slices.Equal(got, []string{"DUPLICATE", "UNDECODABLE", "LATE"}) {
		t.Errorf("benign: %v", got)
	}
	if IsFraud("LATE") || !IsFraud("CLOCK_FUTURE") || !IsFraud("NEVER_HEARD_OF") {
		t.Error("IsFraud disagrees with the catalog")
	}
}
