package roles

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/audit"
	"github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/registry"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
)

// ExportOptions are `fieldmint export`'s flags.
type ExportOptions struct {
	Epoch uint64
	Final bool // the newest final epoch, not Epoch
	Out   string
}

// Flags registers the options as export's flags.
func (o *ExportOptions) Flags(fs *flag.FlagSet) {
	fs.Uint64Var(&o.Epoch, "epoch", 0, "the settled epoch to export (SELECT epoch, status FROM settlements_latest lists them)")
	fs.BoolVar(&o.Final, "final", false, "export the newest final epoch instead of --epoch (a scheduled job's: nothing is written when it is exported already)")
	fs.StringVar(&o.Out, "out", "", "the directory to write the files and manifest.json to (required; created; {epoch} in it is replaced by the epoch)")
}

// RunExport is `fieldmint export`: it writes an epoch's public dataset
// (audit.Export) from ClickHouse, with the scoring policy of
// aggregate.scoringFile and the rejected topic of kafka.topicPrefix.
func RunExport(ctx context.Context, c Config, o ExportOptions, out io.Writer, log *slog.Logger) error {
	if (o.Epoch == 0) == !o.Final || o.Out == "" {
		return errors.New("export: give --out and one of --epoch N and --final, e.g. fieldmint export --epoch 59851696 --out ./epoch-59851696")
	}
	scoring, err := aggregator.LoadScoring(c.Aggregate.ScoringFile)
	if err != nil {
		return err
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	if o.Final {
		newest, err := tables.NewestIn(ctx, conn, tables.StateSet{tables.Final})
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if o.Epoch = newest[tables.Final]; o.Epoch == 0 {
			fmt.Fprintln(out, "export: no epoch is final yet; nothing to export")
			return nil
		}
	}
	o.Out = strings.ReplaceAll(o.Out, "{epoch}", strconv.FormatUint(o.Epoch, 10))
	if m, err := audit.ReadManifest(o.Out); err == nil && m.Epoch == o.Epoch && o.Final {
		fmt.Fprintf(out, "export: epoch %d is exported already (%s)\n", o.Epoch, o.Out)
		return nil
	}
	// The makers, as the registry has them now: their keys check the
	// devices' attestations.
	reg, err := registry.New(c.Kafka, log)
	if err != nil {
		return err
	}
	defer reg.Close()
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := reg.Sync(syncCtx); err != nil {
		return fmt.Errorf("export: read the makers topic: %w", err)
	}
	fmt.Fprintf(out, "export: epoch %d to %s\n", o.Epoch, o.Out)
	m, err := audit.Export(ctx, conn, audit.ExportOptions{Epoch: o.Epoch, Out: o.Out, Scoring: scoring, RejectedTopic: c.Kafka.Topics().Rejected,
		Makers: reg.Makers(), Progress: out})
	if err != nil {
		return err
	}
	base := "none (the first paid epoch)"
	if m.BaseEpoch > 0 {
		base = fmt.Sprint(m.BaseEpoch)
	}
	fmt.Fprintf(out, "ok: %d files, readings of epochs %d..%d, builds on epoch %s; verify with fieldmint verify-epoch %d --from %s --rpc URL --distributor ADDR\n",
		len(m.Files), m.FirstEpoch, m.LastEpoch, base, o.Epoch, o.Out)
	return nil
}

// EmbeddedClickHouse starts a ClickHouse server of the verifier's own for
// verify-epoch --from and returns its native address and the func that
// stops it and removes its data. The default build sets it (chDB, as
// `fieldmint dev` runs); a production build (-tags nodev) has none, and
// loads the files into a fresh database of the server clickhouse.addr names.
var EmbeddedClickHouse func(ctx context.Context) (addr string, stop func(), err error)

// RunVerifyExport verifies the export in dir (audit.VerifyExport) for epoch.
func RunVerifyExport(ctx context.Context, c Config, epoch uint64, dir string, roots settler.ChainRoots, out io.Writer, log *slog.Logger) error {
	m, err := audit.ReadManifest(dir)
	if err != nil {
		return err
	}
	if m.Epoch != epoch {
		return fmt.Errorf("verify-epoch: %s holds epoch %d, not %d", dir, m.Epoch, epoch)
	}
	fmt.Fprintf(out, "epoch %d: from the export in %s (%d files)\n", epoch, dir, len(m.Files))
	v, err := audit.VerifyExport(ctx, audit.VerifyOptions{Dir: dir, Database: verifierDatabase(c.ClickHouse), Chain: roots, Log: log, Progress: out})
	if err != nil {
		return err
	}
	if v.Readings > 0 || v.Accounts > 0 {
		fmt.Fprintf(out, "  recomputed root %s  accounts %d  total %s  from %d valid readings\n", v.Root.Hex(), v.Accounts, v.Total, v.Readings)
		fmt.Fprintf(out, "  exported root   %s\n", v.Exported.Hex())
		fmt.Fprintf(out, "  signatures      %d verified, %d not what their devices signed", v.Signatures.Verified, v.Signatures.Bad)
		if v.Signatures.Trusted > 0 {
			fmt.Fprintf(out, ", %d unsigned LoRaWAN readings trusted by their network server", v.Signatures.Trusted)
		}
		fmt.Fprintln(out)
		a := v.Attestations
		fmt.Fprintf(out, "  attestations    %d verified under their makers' keys", a.Verified)
		if a.Unrecorded > 0 {
			fmt.Fprintf(out, ", %d registered before the registry kept them (unchecked)", a.Unrecorded)
		}
		fmt.Fprintln(out)
	}
	if m.BaseEpoch > 0 && v.BaseRoot != ([32]byte{}) {
		fmt.Fprintf(out, "  builds on       epoch %d, root %s (rebuilt from base-tree.json)\n", m.BaseEpoch, v.BaseRoot.Hex())
	}
	switch {
	case v.OnChain != nil:
		fmt.Fprintf(out, "  root on chain   %s\n", v.OnChain.Hex())
	case roots == nil:
		fmt.Fprintln(out, "  root on chain   not checked (give --rpc and --distributor)")
	}
	if len(v.Differences) > 0 {
		return mismatch(out, v.Differences)
	}
	fmt.Fprintln(out, "ok: the files, the readings and their signatures, the scores, the tree and the chain agree")
	return nil
}

// verifierDatabase opens the empty database an export is loaded into: on
// the embedded server when the build has one, else a fresh database on the
// server cfg names, dropped afterwards.
func verifierDatabase(cfg clickhouse.Config) func(ctx context.Context) (driver.Conn, func(), error) {
	return func(ctx context.Context) (driver.Conn, func(), error) {
		stop := func() {}
		if EmbeddedClickHouse != nil {
			addr, stopServer, err := EmbeddedClickHouse(ctx)
			if err != nil {
				return nil, nil, err
			}
			cfg, stop = clickhouse.Config{Addr: addr, Username: "default", Database: "fieldmint_verify"}, stopServer
		} else {
			// Local, and kept whatever their age: the export's readings are old.
			cfg.Database, cfg.Cluster, cfg.ReadingsTTL = fmt.Sprintf("fieldmint_verify_%d", time.Now().UnixNano()), "", 0
		}
		conn, err := clickhouse.OpenMigrated(ctx, cfg)
		if err != nil {
			stop()
			return nil, nil, err
		}
		return conn, func() {
			if EmbeddedClickHouse == nil {
				conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database)
			}
			conn.Close()
			stop()
		}, nil
	}
}
