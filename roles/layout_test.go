package roles_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
	// The test fixtures (settler/settlertest) are left out: tests only.
	deps := goList(t, "-deps", "-tags", "nodev", m+"cmd/fieldmint", m+"roles", m+"ingest/...", m+"validators/...", m+"aggregator/...",
		m+"settler", m+"settler/claim", m+"settler/merkle", m+"api/...", m+"explorer", m+"schemas/tables")
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

// TestOneOwnerPerConcern holds the seams between the settler, the proof API
// and the explorer: the settler serves nothing over HTTP and embeds no web
// assets (it imports neither the API nor the explorer); the claimer's
// client links no ClickHouse driver, no settler and no explorer; the API
// mounts the explorer through an interface, so it does not import it.
func TestOneOwnerPerConcern(t *testing.T) {
	const m = "github.com/fieldmint/fieldmint/"
	imports := func(pkg string) []string { return goList(t, "-f", `{{join .Imports "\n"}}`, m+pkg) }
	deps := func(pkg string) []string { return goList(t, "-deps", m+pkg) }
	for _, imp := range imports("settler") {
		if imp == "net/http" || imp == "embed" || strings.HasPrefix(imp, "go.opentelemetry.io/contrib/instrumentation/net/http") {
			t.Errorf("settler imports %s: serving HTTP and web assets is the proof API's and the explorer's", imp)
		}
	}
	for _, d := range deps("settler") {
		if d == m+"api" || d == m+"explorer" || d == m+"docs" {
			t.Errorf("settler links %s", d)
		}
	}
	for _, d := range deps("settler/claim") {
		if strings.HasPrefix(d, "github.com/ClickHouse/") || d == m+"settler" || d == m+"explorer" || d == m+"api" || d == m+"schemas/tables" {
			t.Errorf("the claim client (settler/claim) links %s", d)
		}
	}
	for _, d := range deps("api") {
		if d == m+"explorer" || d == m+"settler" {
			t.Errorf("the proof API links %s", d)
		}
	}
}

// TestFileSizes: no hand-written Go file over 400 lines (generated code,
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
		if n := bytes.Count(raw, []byte("\n")); n > 400 {
			t.Errorf("%s: %d lines; split it along a seam (no hand-written file over 400)", path, n)
		}
		checkFuncLengths(t, path, raw)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The command is flags, a call and a print: what it does lives in the
	// packages it calls.
	if n := cmdLines(t); n >= 800 {
		t.Errorf("cmd/fieldmint has %d lines outside its tests; move what it does into a package (under 800)", n)
	}
}

// cmdLines counts the lines of cmd/fieldmint's non-test Go files.
func cmdLines(t *testing.T) int {
	files, err := filepath.Glob(filepath.Join("..", "cmd", "fieldmint", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(raw, []byte("\n"))
	}
	return n
}

// generated is Go's marker of generated code.
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// checkFuncLengths fails a hand-written function (test functions
// included) longer than 120 lines: a reader should see one whole.
func checkFuncLengths(t *testing.T, path string, src []byte) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > 120 {
			t.Errorf("%s: func %s is %d lines; split it (no function over 120)", path, fn.Name.Name, n)
		}
	}
}

// stringLits returns the string literals of a Go file, unquoted.
func stringLits(t *testing.T, path string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

var (
	statement = regexp.MustCompile(`^\s*(SELECT\s|INSERT\s+INTO\b|WITH\s+\w+\s+AS\b|ALTER\s+TABLE\b|DELETE\s+FROM\b|TRUNCATE\s+TABLE\b|OPTIMIZE\s+TABLE\b)`)
	// A settlement state written into SQL about the settlement tables.
	stateInSQL = regexp.MustCompile(`(?s)settle.*'(computed|superseded|proposed|active|final|revoked|parked)'|'(computed|superseded|proposed|active|final|revoked|parked)'.*settle`)
)

// TestQueriesHaveOneHome: each stage keeps its statements in queries.go
// (the aggregator's scoring query is built in scoresql.go); no SQL outside
// schemas/tables, tests included, names a settlement state.
func TestQueriesHaveOneHome(t *testing.T) {
	home := map[string]bool{"queries.go": true, "scoresql.go": true}
	for _, stage := range []string{"settler", "explorer", "aggregator", "api", "ingest", "validators", "audit"} {
		files, _ := filepath.Glob(filepath.Join("..", stage, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || home[filepath.Base(f)] {
				continue
			}
			for _, s := range stringLits(t, f) {
				if statement.MatchString(s) {
					t.Errorf("%s: a statement outside the stage's queries.go: %.60q", f, s)
				}
			}
		}
	}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != "..") {
			return filepath.SkipDir
		}
		if d.IsDir() && filepath.ToSlash(path) == "../schemas/tables" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		for _, s := range stringLits(t, path) {
			if stateInSQL.MatchString(s) {
				t.Errorf("%s: SQL naming a settlement state (schemas/tables owns them): %.80q", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
