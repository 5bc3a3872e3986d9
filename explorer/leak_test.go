package explorer

import (
	"testing"

	"github.com/fieldmint/fieldmint/internal/testenv"
)

// TestMain runs the ClickHouse servers the tests start (chserver children),
// and fails the package when a test leaves a goroutine running.
func TestMain(m *testing.M) {
	testenv.Main(m)
}
