package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"time"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
)

// RunReplay rebuilds c.ClickHouse.Database from the Kafka log: every decided
// reading still retained, the epochs they close, and each epoch's rewards and
// tree (computed, never posted). Run against a live deployment's log with a
// fresh database, it shows that what was paid follows from the log alone.
func RunReplay(ctx context.Context, c Config, out io.Writer, log *slog.Logger) error {
	if err := c.Kafka.Validate(); err != nil {
		return err
	}
	emission, ok := new(big.Int).SetString(c.Settle.EmissionPerEpoch, 10)
	if !ok || emission.Sign() <= 0 {
		return errors.New("replay: settle.emissionPerEpoch must be a positive decimal integer (the live settler's)")
	}
	conn, err := clickhouse.OpenMigrated(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	posted, err := tables.EverPosted(ctx, conn)
	if err != nil {
		return err
	}
	if posted > 0 {
		return fmt.Errorf("replay: database %q holds posted settlements, so it is a live one; replay into a fresh database (--clickhouse.database)", c.ClickHouse.Database)
	}
	ac := c.Aggregate
	ac.Group = fmt.Sprintf("%s-replay-%s", ac.Group, c.ClickHouse.Database)
	blocks := clickhouse.NewInserter(c.ClickHouse)
	defer blocks.Close()
	agg, err := aggregator.New(ac, c.Kafka, conn, blocks, log)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(out, "replay: reading %s and %s from the start of the log into database %s\n", c.Kafka.Topics().Valid, c.Kafka.Topics().Rejected, c.ClickHouse.Database)
	if err := agg.Replay(ctx); err != nil {
		return err
	}
	var readings uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM readings").Scan(&readings); err != nil {
		return err
	}
	fmt.Fprintf(out, "replay: %d readings in %s\n", readings, time.Since(start).Round(time.Millisecond))
	epochs, err := settler.ScoredEpochs(ctx, conn, 0)
	if err != nil {
		return err
	}
	for _, e := range epochs {
		root, ok, err := settler.Recompute(ctx, conn, emission, e, log)
		if err != nil {
			return fmt.Errorf("replay: epoch %d: %w", e, err)
		}
		if ok {
			fmt.Fprintf(out, "epoch %d: root %s\n", e, root.Hex())
		} else {
			fmt.Fprintf(out, "epoch %d: no scores\n", e)
		}
	}
	fmt.Fprintf(out, "replay: %d epochs closed and computed\n", len(epochs))
	return nil
}
