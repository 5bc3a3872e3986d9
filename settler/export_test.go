package settler

import (
	"context"
	"log/slog"
)

// What the external tests (package settler_test) reach inside.

// SetLogRange sets the blocks per eth_getLogs request of s's indexer.
func SetLogRange(s *Service, n uint64) { s.idx.rangeSize = n }

// SetConfirmations sets the blocks after which s takes an active root as final.
func SetConfirmations(s *Service, n uint64) { s.cfg.Confirmations = n }

// SyncAsRestarted syncs a new indexer of s's distributor from its stored
// progress, as a restarted settler's would.
func SyncAsRestarted(ctx context.Context, s *Service, rangeSize uint64) error {
	_, err := newIndexer(s.st, s.client, s.distributor(), s.cfg.FromBlock, rangeSize, slog.New(slog.DiscardHandler)).Sync(ctx)
	return err
}
