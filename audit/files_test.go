package audit

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/aggregator"
	pb "github.com/fieldmint/fieldmint/schemas/fieldmintpb"
)

// TestCheckFiles: a file whose bytes changed, one gone and one the manifest
// leaves out are each named; files as written pass.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{Format: Format, Epoch: 9}
	for _, name := range []string{ReadingsFile, DevicesFile, MakersFile, ScoresFile, EvidenceFile, EpochsFile, CutFile, SettlementsFile, LeavesFile, TreeFile, ScoringFile} {
		f, err := writeFile(dir, name, []byte("contents of "+name))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, f)
	}
	if d := CheckFiles(dir, m); len(d) != 0 {
		t.Fatalf("files as written: %v", d)
	}
	// A manifest that names a file outside the export is refused, whatever its hash.
	outside := m
	outside.Files = append(append([]File(nil), m.Files...), File{Name: "../secret", SHA256: "00"})
	if d := CheckFiles(dir, outside); len(d) != 1 || d[0] != "file ../secret: the manifest names a file outside the export" {
		t.Errorf("a file outside the export: %q", d)
	}
	os.WriteFile(filepath.Join(dir, DevicesFile), []byte("contents of devices.parqueT"), 0o644)
	os.Remove(filepath.Join(dir, TreeFile))
	m.Files = m.Files[:len(m.Files)-1] // scoring.yaml left out
	d := CheckFiles(dir, m)
	want := []string{"file " + DevicesFile + ": sha256 ", "file " + ScoringFile + ": not in the manifest", "file " + TreeFile + ": "}
	if len(d) != len(want) {
		t.Fatalf("differences %q, want %d", d, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(d[i], want[i]) {
			t.Errorf("difference %d: %q, want it to start %q", i, d[i], want[i])
		}
	}
}

// TestWindow: the readings exported reach back over the probation and the
// evidence window, and ahead over the hold and the window.
func TestWindow(t *testing.T) {
	s := aggregator.DefaultScoring()
	s.Probation, s.Hold = 2, 2
	s.Information.Back, s.Information.Ahead = 0, 0
	if first, last := window(s, 60_000, 100); first != 98 || last != 102 {
		t.Errorf("checks off: %d..%d, want 98..102", first, last)
	}
	s.Information.Back, s.Information.Ahead = 5*time.Minute, 90*time.Second
	if first, last := window(s, 60_000, 100); first != 95 || last != 102 {
		t.Errorf("5m back, 90s ahead: %d..%d, want 95..102", first, last)
	}
	s.Hold = 0
	if first, last := window(s, 60_000, 100); first != 95 || last != 102 {
		t.Errorf("no hold: %d..%d, want 95..102 (the window's end is in epoch 102)", first, last)
	}
}

// TestAttestationFault: a device's attestation holds under its maker's key
// for its key and kind, and is named when the kind, the key, the maker or the
// signature is not the one attested.
func TestAttestationFault(t *testing.T) {
	makerPub, makerKey, _ := ed25519.GenerateKey(nil)
	devicePub, _, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	a := pb.Attest("acme", makerKey, devicePub, pb.ResourceKind_RESOURCE_KIND_WEATHER)
	good := Device{DeviceID: "d", PublicKey: hex.EncodeToString(devicePub), Kind: "RESOURCE_KIND_WEATHER", MakerID: "acme", Attestation: hex.EncodeToString(a.Signature)}
	makers := map[string]string{"acme": hex.EncodeToString(makerPub)}
	if why := attestationFault(good, makers); why != "" {
		t.Fatalf("an attested device: %s", why)
	}
	for name, d := range map[string]Device{
		"another kind":  func() Device { d := good; d.Kind = "RESOURCE_KIND_ENERGY"; return d }(),
		"another key":   func() Device { d := good; d.PublicKey = hex.EncodeToString(otherPub); return d }(),
		"another maker": func() Device { d := good; d.MakerID = "nobody"; return d }(),
		"a bit flipped": func() Device { d := good; d.Attestation = "00" + d.Attestation[2:]; return d }(),
	} {
		if why := attestationFault(d, makers); why == "" {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestReadManifest: a directory without a manifest, one that does not parse,
// and one of another format each get an error that says what to do.
func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "fieldmint export --epoch N --out DIR") {
		t.Errorf("no manifest: %v", err)
	}
	for body, want := range map[string]string{
		"{":                                "manifest.json",
		`{"format":"fieldmint-export/v0"}`: `format "fieldmint-export/v0", this fieldmint reads "` + Format + `"`,
	} {
		os.WriteFile(filepath.Join(dir, ManifestFile), []byte(body), 0o644)
		if _, err := ReadManifest(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
}

// FuzzBaseTotals: whatever base-tree.json holds, reading it is an error or
// totals, never a panic (an export comes from someone else).
func FuzzBaseTotals(f *testing.F) {
	f.Add(`{"format":"standard-v1","leafEncoding":["address","uint256"],"tree":["0x00"],"values":[{"value":["0x0000000000000000000000000000000000000001","5"],"treeIndex":0}]}`)
	f.Add(`{"leafEncoding":["address","uint256"],"values":[{"value":[1]},{"value":["0x01","-1"]},{"value":null}]}`)
	f.Add(`{"leafEncoding":["address","uint256"],"values":[{"value":["0x0000000000000000000000000000000000000001","1157920892373161954235709850086879078532699846656405640394575840079131296399360"]}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, BaseTreeFile), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		totals, _, err := baseTotals(dir)
		if err == nil {
			for a, v := range totals {
				if v.Sign() < 0 || v.BitLen() > 256 {
					t.Fatalf("%s: total %s accepted", a, v)
				}
			}
		}
	})
}
