package rowserr_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/fieldmint/fieldmint/tools/rowserr"
)

// The testdata package holds loops that check Err and loops that do not;
// its `// want` comments are the reports expected.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), rowserr.Analyzer, "a")
}
