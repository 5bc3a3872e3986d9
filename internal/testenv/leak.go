package testenv

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/fieldmint/fieldmint/internal/chserver"
)

// LeakOptions are goleak's options for the stage packages: the goroutines
// go-ethereum's dev node starts once per process and never stops (its
// sender cache workers, and leveldb's pool drain of a database it keeps
// open for the process), which no test of ours can end.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/ethereum/go-ethereum/core.(*txSenderCacher).cache"),
		goleak.IgnoreTopFunction("github.com/syndtr/goleveldb/leveldb.(*DB).mpoolDrain"),
	}
}

// Main is the TestMain of a package whose tests start ClickHouse servers
// (chserver children, ClickHouse): it serves them in the child processes,
// and fails the package when a test leaves a goroutine running.
func Main(m *testing.M) {
	chserver.ServeIfChild()
	goleak.VerifyTestMain(m, LeakOptions()...)
}
