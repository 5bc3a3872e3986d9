package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/parquet-go/parquet-go"
)

// load inserts the export's rows into the verifier's database: what the
// scoring query, the information checks and the signature check read.
func load(ctx context.Context, conn driver.Conn, dir string, step func(string, ...any)) error {
	for _, load := range []func() error{
		func() error { return loadFile[Reading](ctx, conn, dir, ReadingsFile, sqlLoadReadings) },
		func() error { return loadFile[Device](ctx, conn, dir, DevicesFile, sqlLoadDevices) },
		func() error { return loadFile[Score](ctx, conn, dir, ScoresFile, sqlLoadScores) },
		func() error { return loadFile[Evidence](ctx, conn, dir, EvidenceFile, sqlLoadEvidence) },
		func() error { return loadFile[Epoch](ctx, conn, dir, EpochsFile, sqlLoadEpochs) },
		func() error { return loadFile[Cut](ctx, conn, dir, CutFile, sqlLoadCut) },
	} {
		if err := load(); err != nil {
			return err
		}
	}
	step("files loaded")
	return nil
}

// loadFile inserts the rows of dir/name with insert, a block at a time.
func loadFile[T any](ctx context.Context, conn driver.Conn, dir, name, insert string) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	buf := make([]T, 65536)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			batch, berr := conn.PrepareBatch(ctx, insert)
			if berr != nil {
				return fmt.Errorf("verify: load %s: %w", name, berr)
			}
			for i := range n {
				if berr = batch.AppendStruct(&buf[i]); berr != nil {
					batch.Abort()
					return fmt.Errorf("verify: load %s: %w", name, berr)
				}
			}
			if berr = batch.Send(); berr != nil {
				return fmt.Errorf("verify: load %s: %w", name, berr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("verify: read %s: %w", name, err)
		}
	}
}
