package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/internal/outage"
	"github.com/fieldmint/fieldmint/roles"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/settler"
	"github.com/fieldmint/fieldmint/settler/claim"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// Run is `fieldmint dev`: the whole pipeline in one process on the embedded
// stack, with a simulated fleet, printing one line per settled epoch to out.
func Run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) error {
	started := time.Now()
	fmt.Fprintf(out, "fieldmint dev: starting Kafka, ClickHouse and a dev chain in %s ...\n", cfg.Dev.DataDir)
	s, err := StartStack(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	c := s.Config
	var f *fleet.Fleet
	if cfg.Dev.Devices > 0 {
		if f, err = fleet.New(fleet.Config{Devices: cfg.Dev.Devices, Owners: s.OwnerSigners(), Maker: DevMaker(), Interval: cfg.Dev.Interval, FraudPercent: cfg.Dev.FraudPercent, Seed: "dev",
			SeqBase: uint64(time.Now().UnixMilli()), Protocol: cfg.Dev.Protocol, MQTT: mqttURL(s.Config.Ingest.MQTTListen)}, log); err != nil {
			return err
		}
	}
	var refusedBefore uint64
	onSettled := func(st settler.Settled) {
		if st.State == tables.Superseded || st.State == tables.Final || st.State == tables.AwaitingQuorum {
			return // one line as computed, one as proposed, one as active is enough to follow (a quorum that never comes alerts)
		}
		line := FormatSettled(st, time.Since(started))
		if f != nil && st.State == tables.Computed {
			refused := f.Stats.Refused.Load()
			line += fmt.Sprintf("; ingest refused %d since the last line", refused-refusedBefore)
			refusedBefore = refused
		}
		fmt.Fprintln(out, line)
	}
	// One line when a dependency goes away and one when it is back: the
	// roles wait it out, the process stays up.
	defer outage.OnChange(func(ch outage.Change) {
		at := time.Since(started).Round(time.Second)
		if ch.Up {
			fmt.Fprintf(out, "[%s] %s is back after %s; the pipeline catches up\n", at, ch.Dependency, ch.Away.Round(time.Second))
		} else {
			ingest := "ingest keeps accepting readings"
			if strings.HasPrefix(ch.Dependency, "kafka") {
				ingest = "ingest answers 503 with Retry-After"
			}
			fmt.Fprintf(out, "[%s] %s is away (%v); the roles that need it wait, %s\n", at, ch.Dependency, ch.Err, ingest)
		}
	})()
	g, gctx := errgroup.WithContext(ctx)
	opts := roles.Options{ResumeFrom: cfg.Dev.ResumeFrom, OnSettled: onSettled}
	for _, r := range s.Runs() { // every role of every operator, in one process
		o := opts
		if r.Operator != 0 {
			o = roles.Options{} // one settler reports; the others' states are in their databases
		}
		g.Go(func() error { return r.Role.Run(gctx, r.Config, o, log) })
	}
	info := s.Info()
	if err := waitHTTP(gctx, info.IngestURL+"/healthz"); err != nil {
		return g.Wait()
	}
	if err := s.AddMaker(gctx); err != nil {
		if f != nil {
			return err
		}
		log.Warn("dev: no dev maker", "err", err)
	}
	raw, _ := json.MarshalIndent(info, "", "  ")
	infoPath := filepath.Join(cfg.Dev.DataDir, "dev.json")
	if err := os.WriteFile(infoPath, append(raw, '\n'), 0o600); err != nil {
		return err
	}
	if info.MQTT != "" {
		fmt.Fprintf(out, "  mqtt        %s\n", info.MQTT)
	}
	fmt.Fprintf(out, "  ingest      %s\n  proof API   %s\n  explorer    %s/explorer\n  chain RPC   %s (chain id %s)\n  distributor %s\n  token       %s\n  clickhouse  %s\n  kafka       %s\n",
		info.IngestURL, info.APIURL, info.APIURL, info.RPCURL, info.ChainID, info.Distributor, info.Token, info.ClickHouseHTTP, strings.Join(info.KafkaBrokers, ","))
	if c.Telemetry.MetricsListen != "" {
		fmt.Fprintf(out, "  metrics     http://%s/metrics\n", c.Telemetry.MetricsListen)
	}
	for i, st := range info.Settlers {
		fmt.Fprintf(out, "  settler %d   %s (proof API %s, database %s)\n", i, st.Address, st.APIURL, st.ClickHouseDatabase)
	}
	fmt.Fprintf(out, "  quorum      %d of %d settlers sign each root\n", info.Threshold, len(info.Settlers))
	if info.LoRaWAN != nil {
		fmt.Fprintf(out, "  lorawan     %s (network server %s; its token in dev.json)\n", info.LoRaWAN.URL, info.LoRaWAN.NetworkServer)
	}
	fmt.Fprintf(out, "  details     %s\n", infoPath)
	if f != nil {
		cl := &client.Client{URL: info.IngestURL}
		if err := f.Register(gctx, cl); err != nil && gctx.Err() == nil {
			return fmt.Errorf("dev: register fleet: %w", err)
		}
		cheats := 0
		for _, d := range f.Devices {
			if d.Strategy != fleet.Honest {
				cheats++
			}
		}
		fmt.Fprintf(out, "fleet: %d devices of %d owners (%d cheating) send a reading every %s over %s; epochs last %s, the first closes in about %s\n",
			len(f.Devices), len(s.Owners), cheats, cfg.Dev.Interval, protocolWords[cfg.Dev.Protocol], c.Aggregate.EpochLength, untilFirstClose(c, time.Now()).Round(time.Second))
		if scoring, err := aggregator.LoadScoring(c.Aggregate.ScoringFile); err == nil {
			if delay := time.Duration(scoring.Delay(c.Aggregate.EpochLength)) * c.Aggregate.EpochLength; delay > 0 {
				fmt.Fprintf(out, "scores wait %s after an epoch closes, for the fraud hold and the evidence window of the information checks (docs/scoring.md): the first epoch line comes in about %s\n",
					delay, (untilFirstClose(c, time.Now()) + delay).Round(time.Minute))
			}
		}
		g.Go(func() error { return f.Run(gctx, cl) })
	}
	err = g.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(out, "fieldmint dev: stopped; state kept in", cfg.Dev.DataDir, "(run again to resume)")
		return nil
	}
	return err
}

// protocolWords say how the fleet sends.
var protocolWords = map[string]string{"http": "HTTP", "mqtt": "MQTT", "grpc": "gRPC (one stream)", "mixed": "HTTP, MQTT and gRPC (a third each)"}

func untilFirstClose(c Config, now time.Time) time.Duration {
	l := c.Aggregate.EpochLength
	end := now.Truncate(l).Add(l)
	return end.Sub(now) + c.Aggregate.AllowedLateness + c.Aggregate.FlushInterval
}

func waitHTTP(ctx context.Context, url string) error {
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// FormatSettled renders an epoch's settlement entering a state as a line:
// the epoch's counts and root when computed, the transaction after.
func FormatSettled(s settler.Settled, since time.Duration) string {
	at := fmt.Sprintf("[%s] epoch %d", since.Round(time.Second), s.Epoch)
	switch s.State {
	case tables.Computed:
	case tables.Revoked, tables.Parked, tables.Superseded:
		return fmt.Sprintf("%s: %s (%s)", at, s.State, s.Reason)
	case tables.AwaitingQuorum, tables.Outvoted:
		return fmt.Sprintf("%s: %s (%s)", at, s.State, s.Reason)
	default:
		line := fmt.Sprintf("%s: %s, tx %s (block %d)", at, s.State, short(s.Tx.Hex()), s.Block)
		if len(s.SignedBy) > 0 {
			var who []string
			for _, a := range s.SignedBy {
				who = append(who, short(a.Hex()))
			}
			line += fmt.Sprintf(", signed by %s (%d signatures, %d needed)", strings.Join(who, ", "), len(s.SignedBy), s.Threshold)
		}
		return line
	}
	var rej []string
	var total uint64
	reasons := make([]string, 0, len(s.Rejected))
	for r := range s.Rejected {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		rej = append(rej, fmt.Sprintf("%s %d", r, s.Rejected[r]))
		total += s.Rejected[r]
	}
	stopped := ""
	if len(s.Stopped) > 0 {
		var parts []string
		var n uint64
		for _, r := range slices.Sorted(maps.Keys(s.Stopped)) {
			parts = append(parts, fmt.Sprintf("%s %d", r, s.Stopped[r]))
			n += s.Stopped[r]
		}
		stopped = fmt.Sprintf("; %d devices unpaid for streams without information (%s)", n, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%s: accepted %d, rejected %d (%s)%s; %s FMNT to %d owners; root %s computed",
		at, s.Accepted, total, strings.Join(rej, ", "), stopped, claim.FormatUnits(s.Emission, 18), s.Accounts, short(s.Root.Hex()))
}

func short(h string) string {
	if len(h) < 14 {
		return h
	}
	return h[:8] + "…" + h[len(h)-4:]
}
