package ingest

import (
	"os"
	"strings"
	"testing"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestRefusalCodesAreDocumented: every code ingest answers a refusal with
// is named in docs/api.md, where clients look it up.
func TestRefusalCodesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, code := range testenv.Codes(t, ".") {
		if !strings.Contains(string(doc), "`"+code+"`") {
			t.Errorf("%s (%s) is not in docs/api.md", name, code)
		}
	}
}
