package devstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/fieldmint/fieldmint/audit"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/roles"
	"github.com/fieldmint/fieldmint/schemas/tables"
)

// checkExport: `fieldmint export` writes the epoch's dataset, the same
// bytes twice; verify-epoch --from, on a copy in a fresh directory, with
// ClickHouse and Kafka addresses that reach nothing, recomputes the root and
// finds the chain's; a reading's value changed in the files (its manifest
// hash updated) fails naming that reading; a byte changed alone fails
// naming the file.
func checkExport(t *testing.T, ctx context.Context, c roles.Config, epoch uint64, log *slog.Logger) {
	t.Helper()
	exported, again := exportTwice(t, ctx, c, epoch, log)
	checkScheduledExport(t, ctx, c, log)
	m, err := audit.ReadManifest(exported)
	if err != nil {
		t.Fatal(err)
	}
	if m.BaseEpoch == 0 || len(m.Files) != 12 {
		t.Errorf("manifest: base epoch %d, %d files; want a base and 12 files", m.BaseEpoch, len(m.Files))
	}
	for _, f := range append(m.Files, audit.File{Name: audit.ManifestFile}) {
		a, _ := os.ReadFile(filepath.Join(exported, f.Name))
		b, _ := os.ReadFile(filepath.Join(again, f.Name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: exported twice, %d and %d bytes that differ", f.Name, len(a), len(b))
		}
	}

	// The auditor's side: the files alone, the chain, and nothing of the operator's.
	defer func(prev func(context.Context) (string, func(), error)) { roles.EmbeddedClickHouse = prev }(roles.EmbeddedClickHouse)
	roles.EmbeddedClickHouse = VerifierClickHouse
	auditor := c
	auditor.ClickHouse.Addr, auditor.Kafka.Brokers = "127.0.0.1:1", []string{"127.0.0.1:1"}
	auditor.Settle.RPC, auditor.Settle.Distributor = "", ""
	flags := roles.VerifyOptions{RPC: c.Settle.RPC, Distributor: c.Settle.Distributor}
	verify := func(dir string) (string, error) {
		var report strings.Builder
		o := flags
		o.From = dir
		err := roles.RunVerifyEpochWith(ctx, auditor, o, []string{strconv.FormatUint(epoch, 10)}, &report, log)
		return report.String(), err
	}
	report, err := verify(copyDir(t, exported))
	if err != nil || !strings.Contains(report, "root on chain   ") || !strings.Contains(report, "ok: ") ||
		!strings.Contains(report, "attestations    ") || strings.Contains(report, "unchecked") {
		t.Fatalf("verify-epoch --from: %v\n%s", err, report)
	}
	t.Logf("verify-epoch --from:\n%s", report)

	// One reading's value changed, and the manifest made to agree.
	tampered := copyDir(t, exported)
	rows, err := parquet.ReadFile[audit.Reading](filepath.Join(tampered, audit.ReadingsFile))
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rows, func(r audit.Reading) bool { return r.Epoch == epoch && r.Status == "valid" && len(r.Measurements) > 0 })
	if i < 0 {
		t.Fatal("no valid reading with measurements in the export")
	}
	for k := range rows[i].Measurements {
		rows[i].Measurements[k]++
		break
	}
	if err := parquet.WriteFile(filepath.Join(tampered, audit.ReadingsFile), rows, parquet.Compression(&parquet.Zstd)); err != nil {
		t.Fatal(err)
	}
	rehash(t, tampered, audit.ReadingsFile)
	want := "first difference: epoch " + strconv.FormatUint(epoch, 10) + ": 1 valid readings are not what their devices signed (the first: " +
		rows[i].DeviceID + " #" + strconv.FormatUint(rows[i].Seq, 10) + ": column measurements does not match the signed bytes)"
	if report, err := verify(tampered); !errors.Is(err, roles.ErrMismatch) || !strings.Contains(report, want) {
		t.Errorf("a reading changed: %v\n%s\nwant %q", err, report, want)
	}

	// A device's kind changed in the registry's file: its maker attested another.
	reregistered := copyDir(t, exported)
	devices, err := parquet.ReadFile[audit.Device](filepath.Join(reregistered, audit.DevicesFile))
	if err != nil {
		t.Fatal(err)
	}
	d := slices.IndexFunc(devices, func(d audit.Device) bool { return d.DeviceID == rows[i].DeviceID })
	if d < 0 {
		t.Fatalf("device %s not in %s", rows[i].DeviceID, audit.DevicesFile)
	}
	devices[d].Kind = "RESOURCE_KIND_BANDWIDTH"
	if devices[d].Kind == rows[i].Kind {
		devices[d].Kind = "RESOURCE_KIND_ENERGY"
	}
	if err := parquet.WriteFile(filepath.Join(reregistered, audit.DevicesFile), devices, parquet.Compression(&parquet.Zstd)); err != nil {
		t.Fatal(err)
	}
	rehash(t, reregistered, audit.DevicesFile)
	want = "first difference: device " + rows[i].DeviceID + ": its attestation does not verify under maker "
	if report, err := verify(reregistered); !errors.Is(err, roles.ErrMismatch) || !strings.Contains(report, want) {
		t.Errorf("a device's kind changed: %v\n%s\nwant %q", err, report, want)
	}

	// One byte of a file changed, the manifest left as it was.
	flipped := copyDir(t, exported)
	path := filepath.Join(flipped, audit.DevicesFile)
	raw, _ := os.ReadFile(path)
	raw[len(raw)/2] ^= 0x01
	os.WriteFile(path, raw, 0o644)
	if report, err := verify(flipped); !errors.Is(err, roles.ErrMismatch) || !strings.Contains(report, "first difference: file "+audit.DevicesFile+": sha256 ") {
		t.Errorf("a byte changed: %v\n%s", err, report)
	}
}

// exportTwice exports the epoch twice, into two fresh directories.
//
// The stack runs on, and a settlement's state with it (active, then final
// once its activation is settle.confirmations blocks deep; the export
// carries the epoch's and its base's): two exports are the same bytes when
// no state moved between them, so a pair during which one moved is taken
// again.
func exportTwice(t *testing.T, ctx context.Context, c roles.Config, epoch uint64, log *slog.Logger) (exported, again string) {
	t.Helper()
	conn, err := clickhouse.Dial(ctx, c.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	states := func() string {
		base, err := tables.BuildsOn(ctx, conn, epoch)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range []uint64{base, epoch} {
			st, _, err := tables.SettlementOf(ctx, conn, e)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d %s", e, st.State))
		}
		return strings.Join(out, ", ")
	}
	for attempt := 1; ; attempt++ {
		before := states()
		var out strings.Builder
		exported, again = filepath.Join(t.TempDir(), "export"), filepath.Join(t.TempDir(), "again")
		if err := roles.RunExport(ctx, c, roles.ExportOptions{Epoch: epoch, Out: exported}, &out, log); err != nil {
			t.Fatalf("export: %v\n%s", err, out.String())
		}
		t.Logf("export:\n%s", out.String())
		if err := roles.RunExport(ctx, c, roles.ExportOptions{Epoch: epoch, Out: again}, &out, log); err != nil {
			t.Fatal(err)
		}
		after := states()
		if after == before || attempt == 3 {
			break
		}
		t.Logf("settlements moved during the two exports (%s, then %s): exporting again", before, after)
	}
	return exported, again
}

// checkScheduledExport: export --final, as the Helm chart's CronJob runs it,
// exports the newest final epoch into a directory named for it, and a run
// that finds that epoch's export writes nothing.
func checkScheduledExport(t *testing.T, ctx context.Context, c roles.Config, log *slog.Logger) {
	t.Helper()
	var out strings.Builder
	// Epochs keep becoming final while the test runs, so a run exports a
	// newer one or finds the last one's export; one of five must find it.
	scheduled, last, skipped := filepath.Join(t.TempDir(), "epoch-{epoch}"), uint64(0), false
	for run := 1; run <= 5 && !skipped; run++ {
		out.Reset()
		if err := roles.RunExport(ctx, c, roles.ExportOptions{Final: true, Out: scheduled}, &out, log); err != nil {
			t.Fatalf("export --final: %v\n%s", err, out.String())
		}
		var e uint64
		fmt.Sscanf(out.String(), "export: epoch %d", &e)
		switch {
		case strings.Contains(out.String(), "no epoch is final yet"):
			t.Errorf("export --final: no epoch is final in this run:\n%s", out.String())
			skipped = true
		case strings.Contains(out.String(), "is exported already"):
			skipped = e == last
		case e <= last || !strings.Contains(out.String(), "ok: 12 files"):
			t.Fatalf("export --final, run %d after epoch %d:\n%s", run, last, out.String())
		}
		last = e
	}
	if !skipped {
		t.Errorf("export --final never found its last export (epoch %d)", last)
	}
}

// copyDir copies the files of dir into a fresh directory.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// rehash sets name's hash and size in dir's manifest to the file's.
func rehash(t *testing.T, dir, name string) {
	t.Helper()
	m, err := audit.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, name))
	sum := sha256.Sum256(raw)
	for i := range m.Files {
		if m.Files[i].Name == name {
			m.Files[i].SHA256, m.Files[i].Bytes = hex.EncodeToString(sum[:]), int64(len(raw))
		}
	}
	out, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, audit.ManifestFile), out, 0o644); err != nil {
		t.Fatal(err)
	}
}
