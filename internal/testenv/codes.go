package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Codes returns the string constants named Code* declared in the non-test
// Go files of the package in dir, by name: the machine-readable reasons a
// package answers with, which a test holds to the docs.
func Codes(t testing.TB, dir string) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			ast.Inspect(f, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok {
					return true
				}
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						out[name.Name], _ = strconv.Unquote(lit.Value)
					}
				}
				return true
			})
		}
	}
	if len(out) == 0 {
		t.Fatalf("no Code* constants in %s", dir)
	}
	return out
}

// CodesDocumented fails t for each Code* constant of the package in dir
// whose value doc (a file, e.g. ../docs/api.md) does not name in backquotes.
func CodesDocumented(t testing.TB, dir, doc string) {
	t.Helper()
	raw, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for name, code := range Codes(t, dir) {
		if !strings.Contains(string(raw), "`"+code+"`") {
			t.Errorf("%s (%s) is not in %s", name, code, doc)
		}
	}
}
