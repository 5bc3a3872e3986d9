package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldmint/fieldmint/aggregator"
)

// TestCheckFiles: a file whose bytes changed, one gone and one the manifest
// leaves out are each named; files as written pass.
func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{Format: Format, Epoch: 9}
	for _, name := range []string{ReadingsFile, DevicesFile, ScoresFile, EvidenceFile, EpochsFile, CutFile, SettlementsFile, LeavesFile, TreeFile, ScoringFile} {
		f, err := writeFile(dir, name, []byte("contents of "+name))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, f)
	}
	if d := CheckFiles(dir, m); len(d) != 0 {
		t.Fatalf("files as written: %v", d)
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
