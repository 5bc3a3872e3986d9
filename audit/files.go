package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// The files of an export, beside its manifest.
const (
	ReadingsFile    = "readings.parquet"
	DevicesFile     = "devices.parquet"
	MakersFile      = "makers.parquet"
	ScoresFile      = "device_scores.parquet"
	EvidenceFile    = "stream_evidence.parquet"
	EpochsFile      = "epochs.parquet"
	CutFile         = "epoch_cut.parquet"
	SettlementsFile = "settlements.parquet"
	LeavesFile      = "reward_leaves.parquet"
	TreeFile        = "tree.json"      // the epoch's tree, OpenZeppelin standard-v1 dump
	BaseTreeFile    = "base-tree.json" // the tree of the epoch it builds on (absent for the first)
	ScoringFile     = "scoring.yaml"   // the scoring policy, every field written
	ManifestFile    = "manifest.json"
)

// Format names the export's layout; verify-epoch refuses another.
const Format = "fieldmint-epoch-export/v1"

// Manifest describes an export: what it holds and each file's hash.
type Manifest struct {
	Format string `json:"format"`
	Epoch  uint64 `json:"epoch"`
	// BaseEpoch is the epoch whose cumulative totals this one builds on
	// (BaseTreeFile); 0 with no base tree: the first paid epoch.
	BaseEpoch uint64 `json:"baseEpoch"`
	// FirstEpoch and LastEpoch bound the readings exported: every epoch the
	// scores read (the evidence window, the witnesses' beacons, the
	// fraud-class rejections of probation and hold).
	FirstEpoch    uint64 `json:"firstEpoch"`
	LastEpoch     uint64 `json:"lastEpoch"`
	RejectedTopic string `json:"rejectedTopic"` // the topic the cut is of
	Files         []File `json:"files"`
}

// File is one file of an export.
type File struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows,omitempty"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// writeParquet writes rows to dir/name and returns its entry.
func writeParquet[T any](dir, name string, rows []T) (File, error) {
	return streamParquet(dir, name, func(w *parquet.GenericWriter[T]) (int64, error) {
		_, err := w.Write(rows)
		return int64(len(rows)), err
	})
}

// streamParquet writes dir/name with the rows fill writes (zstd, the
// writer's defaults otherwise: the same rows give the same bytes), hashing
// and counting the bytes as they go, and returns its entry.
func streamParquet[T any](dir, name string, fill func(w *parquet.GenericWriter[T]) (rows int64, err error)) (File, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n := &counter{w: io.MultiWriter(f, h)}
	w := parquet.NewGenericWriter[T](n, parquet.Compression(&parquet.Zstd))
	rows, err := fill(w)
	if err := errors.Join(err, w.Close(), f.Close()); err != nil {
		return File{}, fmt.Errorf("%s: %w", name, err)
	}
	return File{Name: name, Rows: rows, Bytes: n.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeFile writes raw to dir/name and returns its entry.
func writeFile(dir, name string, raw []byte) (File, error) {
	if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(raw)
	return File{Name: name, Bytes: int64(len(raw)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// readParquet reads every row of dir/name.
func readParquet[T any](dir, name string) ([]T, error) {
	rows, err := parquet.ReadFile[T](filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("verify: %w (is %s an export? fieldmint export --epoch N --out DIR writes one)", err, dir)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("verify: %s: %w", ManifestFile, err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("verify: %s: format %q, this fieldmint reads %q", ManifestFile, m.Format, Format)
	}
	return m, nil
}

// CheckFiles compares every file the manifest lists with its hash and
// size, and returns what differs, file by file. A file the export must
// have that the manifest does not list is a difference too.
func CheckFiles(dir string, m Manifest) []string {
	var diffs []string
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Name] = true
		if filepath.Base(f.Name) != f.Name {
			diffs = append(diffs, fmt.Sprintf("file %s: the manifest names a file outside the export", f.Name))
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("file %s: %v", f.Name, err))
			continue
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 || int64(len(raw)) != f.Bytes {
			diffs = append(diffs, fmt.Sprintf("file %s: sha256 %s (%d bytes), the manifest says %s (%d bytes)", f.Name, got, len(raw), f.SHA256, f.Bytes))
		}
	}
	required := []string{ReadingsFile, DevicesFile, MakersFile, ScoresFile, EvidenceFile, EpochsFile, CutFile, SettlementsFile, LeavesFile, TreeFile, ScoringFile}
	if m.BaseEpoch > 0 {
		required = append(required, BaseTreeFile)
	}
	for _, name := range required {
		if !listed[name] {
			diffs = append(diffs, fmt.Sprintf("file %s: not in the manifest", name))
		}
	}
	slices.Sort(diffs)
	return diffs
}
