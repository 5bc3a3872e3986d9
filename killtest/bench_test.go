package killtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestBenchCommands runs each bench command as a user would, small, and
// checks that its JSON holds the figures it promises and that they add up:
// the pipeline stored every reading it acknowledged, once, and the proof
// API answered every request with a proof of the settled root.
func TestBenchCommands(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "fieldmint")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/fieldmint/fieldmint/cmd/fieldmint").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bench := func(v any, args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, append([]string{"bench"}, args...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("fieldmint bench %v: %v\n%s", args, err, stderr.String())
		}
		dec := json.NewDecoder(&stdout)
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Fatalf("fieldmint bench %v printed no JSON object of its figures: %v\n%s", args, err, stdout.String())
		}
	}

	t.Run("pipeline", func(t *testing.T) {
		var f struct {
			ReadingsPerSec, AckedPerSec, LatencyP50Ms, LatencyP99Ms, StoredPerPipelineCPUSecond, HTTPP99Ms, Seconds, Rate float64
			Acked, Stored, Lost, Doubled, Valid, Rejected, RefusedAtIngest                                                int64
			RejectedBy                                                                                                    map[string]int64
			Devices, Batch                                                                                                int
			Roles                                                                                                         map[string]struct {
				CPUSeconds   float64
				PeakRSSBytes int64
				RSSCurve     []struct {
					S     int
					Bytes int64
				}
			}
		}
		bench(&f, "pipeline", "--count", "4000", "--devices", "1000", "--batch", "50", "--clients", "4", "--sample", "1s", "--json")
		if f.Acked == 0 || f.Stored != f.Acked || f.Lost != 0 || f.Doubled != 0 || f.Valid+f.Rejected != f.Stored {
			t.Errorf("counted %d acked, %d stored (%d valid, %d rejected), %d lost, %d doubled", f.Acked, f.Stored, f.Valid, f.Rejected, f.Lost, f.Doubled)
		}
		// The fleet breaks 1 signature in 200 (ingest refuses them) and sends
		// 1 reading in 200 out of range (the validators reject them).
		if f.Acked+f.RefusedAtIngest != 4000 || f.RefusedAtIngest == 0 || f.Rejected == 0 || f.RejectedBy["OUT_OF_RANGE"] != f.Rejected {
			t.Errorf("%d acked and %d refused of 4000 sent; rejected by reason %v", f.Acked, f.RefusedAtIngest, f.RejectedBy)
		}
		if f.ReadingsPerSec <= 0 || f.LatencyP50Ms <= 0 || f.LatencyP99Ms < f.LatencyP50Ms || f.StoredPerPipelineCPUSecond <= 0 {
			t.Errorf("figures: %+v", f)
		}
		for _, role := range []string{"ingest", "validate-1", "aggregate", "broker", "clickhouse"} {
			r, ok := f.Roles[role]
			if !ok || r.CPUSeconds <= 0 || r.PeakRSSBytes < 1<<20 || len(r.RSSCurve) == 0 {
				t.Errorf("role %s: %+v", role, r)
			}
		}
	})
	t.Run("api", func(t *testing.T) {
		var f struct {
			ProofsPerSec, LatencyP50Ms, LatencyP99Ms, Seconds, ComputedSeconds, ProposedSeconds, ActiveSeconds float64
			APICPUSeconds, ClickHouseCPUSeconds                                                                float64
			Proofs, Errors, APIPeakRSSBytes                                                                    int64
			Accounts, Devices, Clients                                                                         int
		}
		bench(&f, "api", "--accounts", "2000", "--devices", "5000", "--duration", "2s", "--warmup", "1s", "--clients", "4", "--json")
		if f.Proofs == 0 || f.Errors != 0 || f.ProofsPerSec <= 0 || f.LatencyP99Ms < f.LatencyP50Ms || f.LatencyP50Ms <= 0 {
			t.Errorf("proofs: %+v", f)
		}
		if f.ComputedSeconds <= 0 || f.ProposedSeconds < f.ComputedSeconds || f.ActiveSeconds < f.ProposedSeconds || f.APICPUSeconds <= 0 {
			t.Errorf("settlement and costs: %+v", f)
		}
	})
	t.Run("explorer", func(t *testing.T) {
		var f struct {
			Devices, Accounts, Epochs, Rejected int
			SeedSeconds, WarmSeconds            float64
			Pages                               []struct {
				Page                        string
				Requests                    []string
				ColdMs, P50Ms, P99Ms, MaxMs float64
				Loads                       int
			}
		}
		bench(&f, "explorer", "--devices", "3000", "--accounts", "500", "--epochs", "2", "--loads", "5", "--json")
		var pages []string
		for _, p := range f.Pages {
			pages = append(pages, p.Page)
			if p.Loads != 5 || len(p.Requests) == 0 || p.ColdMs <= 0 || p.P50Ms <= 0 || p.P99Ms < p.P50Ms || p.MaxMs < p.P99Ms {
				t.Errorf("page %s: %+v", p.Page, p)
			}
		}
		if want := []string{"map", "map cell", "device", "device rejections", "owner", "epoch", "epochs"}; !slices.Equal(pages, want) ||
			f.Devices != 3000 || f.Epochs != 2 || f.Rejected != 90 {
			t.Errorf("figures: %+v, pages %v, want %v", f, pages, want)
		}
	})
	t.Run("ingest", func(t *testing.T) {
		var f struct {
			ReadingsPerSec, PerIngestCPUSecond, IngestCPUSeconds, LatencyP50Ms, LatencyP99Ms, Seconds float64
			PeakRSSBytes, Readings, Requests, Refused                                                 int64
			Batch, Clients                                                                            int
		}
		bench(&f, "ingest", "--duration", "2s", "--warmup", "1s", "--devices", "100", "--clients", "4", "--json")
		if f.Readings == 0 || f.ReadingsPerSec <= 0 || f.PerIngestCPUSecond <= 0 || f.PeakRSSBytes < 1<<20 || f.Batch != 100 {
			t.Errorf("figures: %+v", f)
		}
	})
}
