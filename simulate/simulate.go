// Package simulate is `fieldmint simulate`: a labelled fleet of honest and
// cheating devices sent against a running stack, and the detection report
// that joins the simulator's ground truth with what ClickHouse and the
// settler recorded: per strategy, readings sent, rejected by reason, reward
// received, and the reward the same devices would have received had
// nothing been detected.
package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/fieldmint/fieldmint/aggregator"
	"github.com/fieldmint/fieldmint/ingest/client"
	"github.com/fieldmint/fieldmint/schemas/tables"
	"github.com/fieldmint/fieldmint/simulate/fleet"
)

// Config of a simulation.
type Config struct {
	URL           string        `yaml:"url" help:"ingest endpoint to send to"`
	Protocol      string        `yaml:"protocol" help:"how the devices send: http, mqtt (each device its own connection to ingest's MQTT broker at mqtt), grpc (one gRPC stream to url carries every device's batches, as a gateway's would), or mixed (a third of the devices each way)"`
	MQTT          string        `yaml:"mqtt" help:"ingest's MQTT address (ingest.mqttListen), tcp://HOST:PORT"`
	Network       string        `yaml:"network" help:"the endpoint's ingest.network (owners sign registrations for it)"`
	Devices       int           `yaml:"devices" help:"simulated devices, of four kinds"`
	Owners        int           `yaml:"owners" help:"owners the devices belong to (keys derived from the seed)"`
	FraudPercent  int           `yaml:"fraudPercent" help:"share of devices that cheat, 0-100, handed the strategies in turn"`
	Interval      time.Duration `yaml:"interval" help:"time between a device's readings (2s or more)"`
	Duration      time.Duration `yaml:"duration" help:"how long to send"`
	Seed          string        `yaml:"seed" help:"keys, places and roles derive from it: the same seed, the same fleet"`
	Report        string        `yaml:"report" help:"write the detection report here (JSON) after the run; empty: print it only"`
	SettleTimeout time.Duration `yaml:"settleTimeout" help:"how long to wait after the run for its epochs to be settled"`
	MakerFile     string        `yaml:"makerFile" help:"JSON file with the maker that attests the devices ({id, privateKey}, or dev.json); empty: the dev stack's maker"`
	Sweep         string        `yaml:"sweep" help:"instead of every strategy, one parameterized strategy with its parameter raised in steps, a value per cheater in turn: STRATEGY or STRATEGY:PARAM (nearcopy:noise|delay, loop:length|jitter, countercopy:noise|delay, counterloop:length|jitter, witnessloop:length, multikind:jitter); prints where it stops being caught (docs/simulator.md)"`
	SweepValues   string        `yaml:"sweepValues" help:"the sweep's values, comma-separated; empty: the parameter's defaults"`
	SweepFixed    string        `yaml:"sweepFixed" help:"the strategy's other parameters, held at these values through the sweep: NAME=VALUE, comma-separated (noise=0.5 with nearcopy:delay); empty: their defaults"`
	Maker         client.Maker  `yaml:"-"`
	// Scoring is the aggregator's policy (aggregate.scoringFile), to score
	// the honest devices again without the cheaters.
	Scoring aggregator.Scoring `yaml:"-"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{URL: "http://127.0.0.1:8080", Protocol: "http", MQTT: "tcp://127.0.0.1:1883", Network: "fieldmint", Devices: 200, Owners: 8, FraudPercent: 25, Interval: 5 * time.Second,
		Duration: 3 * time.Minute, Seed: "simulate", SettleTimeout: 15 * time.Minute}
}

// ownerKeys derives the owners' keys from the seed.
func ownerKeys(seed string, n int) []client.Owner {
	out := make([]client.Owner, n)
	for i := range out {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("fieldmint-simulate/%s/owner/%d", seed, i))))
		if err != nil {
			panic(err) // a keccak output is a valid key with overwhelming probability
		}
		out[i] = client.OwnerKey(k)
	}
	return out
}

// Run registers the fleet, sends for cfg.Duration, waits for the run's
// epochs to be settled, and returns the report (also written to
// cfg.Report, and printed to out).
func Run(ctx context.Context, cfg Config, conn driver.Conn, epochLength time.Duration, out io.Writer, log *slog.Logger) (*Report, error) {
	if cfg.Devices <= 0 || cfg.Owners <= 0 || cfg.Duration <= 0 || cfg.URL == "" {
		return nil, errors.New("simulate: url, devices, owners and duration are required")
	}
	if cfg.Maker.Key == nil {
		return nil, errors.New("simulate: a maker registered with the network must attest the devices (simulate.makerFile)")
	}
	var variants []fleet.Variant
	var swept fleet.Strategy
	var param string
	if cfg.Sweep != "" {
		var err error
		if variants, swept, param, err = sweepVariants(cfg.Sweep, cfg.SweepValues, cfg.SweepFixed); err != nil {
			return nil, err
		}
	}
	f, err := fleet.New(fleet.Config{Devices: cfg.Devices, Owners: ownerKeys(cfg.Seed, cfg.Owners), Maker: cfg.Maker, Interval: cfg.Interval,
		FraudPercent: cfg.FraudPercent, Seed: cfg.Seed, Variants: variants, Protocol: cfg.Protocol, MQTT: cfg.MQTT}, log)
	if err != nil {
		return nil, err
	}
	c := &client.Client{URL: cfg.URL, Network: cfg.Network}
	fmt.Fprintf(out, "simulate: registering %d devices of %d owners at %s ...\n", cfg.Devices, cfg.Owners, cfg.URL)
	if err := f.Register(ctx, c); err != nil {
		return nil, fmt.Errorf("simulate: register: %w", err)
	}
	roles := map[string]int{}
	for _, d := range f.Devices {
		roles[d.Variant]++
	}
	fmt.Fprintf(out, "simulate: %d honest devices and %d cheating (%s) send a reading every %s for %s\n",
		roles[string(fleet.Honest)], cfg.Devices-roles[string(fleet.Honest)], variantCounts(f.Labels(), roles), cfg.Interval, cfg.Duration)
	start := time.Now()
	// The fleet runs on while the last epoch is settled: epochs close when
	// later readings show their end has passed, as on a live network.
	rctx, stopFleet := context.WithCancel(ctx)
	defer stopFleet()
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- f.Run(rctx, c) }()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	end := time.After(cfg.Duration)
wait:
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-fleetDone:
			return nil, fmt.Errorf("simulate: fleet stopped: %v", err)
		case <-progress.C:
			fmt.Fprintf(out, "  [%3.0fs] %d readings accepted by ingest, %d refused\n", time.Since(start).Seconds(), f.Stats.Sent.Load(), f.Stats.Refused.Load())
		case <-end:
			break wait
		}
	}
	ms := epochLength.Milliseconds()
	first, last := uint64(start.UnixMilli()/ms), uint64(time.Now().UnixMilli()/ms)
	fmt.Fprintf(out, "simulate: sent for %s; the fleet goes on until epochs %d..%d are settled ...\n", cfg.Duration, first, last)
	if err := waitSettled(ctx, conn, last, cfg.SettleTimeout); err != nil {
		return nil, err
	}
	stopFleet()
	<-fleetDone
	rep, err := Build(ctx, conn, f, cfg.Scoring, first, last, int64(last+1)*ms)
	if err != nil {
		return nil, err
	}
	if cfg.Sweep != "" {
		if rep.Sweep, err = buildSweep(ctx, conn, rep, variants, swept, param); err != nil {
			return nil, err
		}
		rep.Sweep.Fixed = cfg.SweepFixed
	}
	if cfg.Report != "" {
		raw, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.Report, append(raw, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	rep.Print(out)
	if rep.Sweep != nil {
		rep.Sweep.Print(out)
	}
	return rep, nil
}

func variantCounts(labels []string, roles map[string]int) string {
	var parts []string
	for _, l := range labels[1:] {
		if roles[l] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", l, roles[l]))
		}
	}
	return strings.Join(parts, ", ")
}

// waitSettled waits until an epoch at or after last is settled: its root
// proposed, or carried by a later one (epochs are settled in order).
func waitSettled(ctx context.Context, conn driver.Conn, last uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := tables.PostedSince(ctx, conn, last)
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("simulate: epoch %d not settled within %s (is the settler running?)", last, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
