package devstack

import (
	"context"
	"os"

	"github.com/fieldmint/fieldmint/internal/chserver"
)

// VerifierClickHouse starts an embedded ClickHouse server on a free
// loopback port over a temporary directory, for verify-epoch --from to load
// an export into (roles.EmbeddedClickHouse), and returns its native address
// and the func that stops it and removes the directory.
func VerifierClickHouse(ctx context.Context) (string, func(), error) {
	dir, err := os.MkdirTemp("", "fieldmint-verify-")
	if err != nil {
		return "", nil, err
	}
	s, err := chserver.Start(ctx, chserver.Options{Path: dir})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return s.TCPAddr, func() { s.Stop(); os.RemoveAll(dir) }, nil
}
