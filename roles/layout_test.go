package roles_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goList runs go list in the module with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestLayout holds the layout docs/architecture.md describes: the
// production build (the roles and the stages, and the command built with
// -tags nodev) links no dev node, no embedded broker, no ClickHouse loader,
// no dev stack and no simulator; and nothing under internal/ imports a
// stage, the roles or the dev stack (plumbing sits at the bottom).
func TestLayout(t *testing.T) {
	const m = "github.com/fieldmint/fieldmint/"
	devOnly := []string{
		"github.com/twmb/franz-go/pkg/kfake",
		"github.com/ethereum/go-ethereum/ethclient/simulated",
		m + "internal/devchain",
		m + "internal/chserver",
		m + "devstack",
		m + "simulate",
	}
	deps := goList(t, "-deps", "-tags", "nodev", m+"cmd/fieldmint", m+"roles", m+"ingest/...", m+"validators/...", m+"aggregator/...", m+"settler/...")
	for _, d := range deps {
		for _, bad := range devOnly {
			if d == bad || strings.HasPrefix(d, bad+"/") {
				t.Errorf("the production build links %s", d)
			}
		}
	}
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages: not the build it should be", len(deps))
	}
	above := []string{"ingest", "validators", "aggregator", "settler", "roles", "devstack", "simulate"}
	for _, line := range goList(t, "-f", `{{.ImportPath}} {{join .Imports " "}}`, m+"internal/...") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			for _, a := range above {
				if imp == m+a || strings.HasPrefix(imp, m+a+"/") {
					t.Errorf("%s imports %s: internal/ is plumbing, below the stages", fields[0], imp)
				}
			}
		}
	}
}

// TestFileSizes: no hand-written Go file over 500 lines (generated code,
// marked as such, is left out).
func TestFileSizes(t *testing.T) {
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if generated.Match(raw) {
			return nil
		}
		if n := bytes.Count(raw, []byte("\n")); n > 500 {
			t.Errorf("%s: %d lines; split it along a seam (no hand-written file over 500)", path, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// generated is Go's marker of generated code.
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)
