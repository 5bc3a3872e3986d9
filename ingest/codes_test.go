package ingest

import (
	"testing"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestRefusalCodesAreDocumented: every code ingest answers a refusal with
// is named in docs/api.md, where clients look it up.
func TestRefusalCodesAreDocumented(t *testing.T) { testenv.CodesDocumented(t, ".", "../docs/api.md") }
