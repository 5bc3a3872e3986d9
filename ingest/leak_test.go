package ingest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestMain fails the package when a test leaves a goroutine running: no
// goroutine of a stage outlives its test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testenv.LeakOptions()...)
}
