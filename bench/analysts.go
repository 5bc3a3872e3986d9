package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/fieldmint/fieldmint/docs"
	chconn "github.com/fieldmint/fieldmint/internal/clickhouse"
	"github.com/fieldmint/fieldmint/internal/stats"
)

// benchUsers are the bench's ClickHouse users, with fresh passwords.
func benchUsers() chconn.Users {
	a := func(stage string) chconn.Account {
		b := make([]byte, 12)
		rand.Read(b)
		return chconn.Account{Username: "bench_" + stage, Password: hex.EncodeToString(b)}
	}
	return chconn.Users{Aggregate: a("aggregate"), Analyst: a("analyst")}
}

// AnalystFigures are the analyst load's: queries run, refused or failed,
// and their latency.
type AnalystFigures struct {
	PerSec  float64 `json:"perSec"` // offered
	Queries int64   `json:"queries"`
	Errors  int64   `json:"errors"`
	Skipped int64   `json:"skipped"` // not started: four were still running
	P50Ms   float64 `json:"p50Ms"`
	P99Ms   float64 `json:"p99Ms"`
	First   string  `json:"firstError,omitempty"`
}

// EpochFigures are the epochs the aggregator scored during the run (the
// epoch close's work: the cut, the information checks and the device
// scores), from its epoch_scoring histogram.
type EpochFigures struct {
	Closed        int64   `json:"closed"`
	Scored        int64   `json:"scored"`
	MeanScoringMs float64 `json:"meanScoringMs"`
}

// heavyRecipes are the cookbook's queries over the raw readings (directly
// or through the rejections views): the heaviest an analyst runs.
func heavyRecipes() ([]string, error) {
	raw, err := docs.Files.ReadFile("analysts.md")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range docs.Recipes(string(raw)) {
		if strings.Contains(r.SQL, "FROM readings") || strings.Contains(r.SQL, "FROM rejections") {
			out = append(out, r.SQL)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no cookbook query reads the raw readings")
	}
	return out, nil
}

// analystLoad starts the heaviest cookbook queries, in turn, perSec a
// second as the analyst's user (at most four at once), until stopped.
func (p *pipeline) analystLoad(ctx context.Context, perSec float64) (stop func() *AnalystFigures, err error) {
	queries, err := heavyRecipes()
	if err != nil {
		return nil, err
	}
	conn, err := chconn.Dial(ctx, p.chCfg.As("analyst"))
	if err != nil {
		return nil, fmt.Errorf("bench: the analyst's connection: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &AnalystFigures{PerSec: perSec}
	var (
		mu       sync.Mutex
		lat      []time.Duration
		inFlight atomic.Int32
		wg       sync.WaitGroup
	)
	run := func(sql string) {
		defer wg.Done()
		defer inFlight.Add(-1)
		start := time.Now()
		// No deadline on the context: clickhouse-go would send it as
		// max_execution_time, which the analyst may not raise.
		err := drainQuery(context.WithoutCancel(ctx), conn, sql)
		mu.Lock()
		defer mu.Unlock()
		f.Queries++
		if err != nil {
			f.Errors++
			if f.First == "" {
				f.First = err.Error()
			}
			return
		}
		lat = append(lat, time.Since(start))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Duration(float64(time.Second) / perSec))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if inFlight.Load() >= 4 {
				mu.Lock()
				f.Skipped++
				mu.Unlock()
				continue
			}
			inFlight.Add(1)
			wg.Add(1)
			go run(queries[i%len(queries)])
		}
	}()
	return func() *AnalystFigures {
		cancel()
		<-done
		wg.Wait()
		conn.Close()
		f.P50Ms, f.P99Ms = stats.Ms(stats.Percentile(lat, 50)), stats.Ms(stats.Percentile(lat, 99))
		return f
	}, nil
}

// drainQuery runs sql and reads its rows.
func drainQuery(ctx context.Context, conn driver.Conn, sql string) error {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// epochScoring reads the aggregator's epoch_scoring histogram from its
// metrics endpoint (Prometheus text): its count and mean.
func (p *pipeline) epochScoring(ctx context.Context) (*EpochFigures, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.metrics["aggregate"]+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var sum float64
	f := &EpochFigures{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		if !ok || !strings.HasPrefix(name, "fieldmint_aggregator_epoch") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "fieldmint_aggregator_epochs_closed_total":
			f.Closed = int64(v)
		case strings.HasSuffix(name, "_sum"):
			sum = v
		case strings.HasSuffix(name, "_count"):
			f.Scored = int64(v)
		}
	}
	if f.Scored > 0 {
		f.MeanScoringMs = sum / float64(f.Scored) * 1000
	}
	return f, nil
}

// waitScoring waits until the aggregator has scored every epoch it closed
// but the last two (their evidence window is still open: the scoring file
// looks two epochs ahead), for at most two minutes, and returns its
// figures. Under a steady load the aggregator closes epochs once the rows
// before them are all stored, which a constant stream defers to the end of
// the run: the scoring is measured then, with the analysts' queries still
// running.
func (p *pipeline) waitScoring(ctx context.Context) (*EpochFigures, error) {
	var f *EpochFigures
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var err error
		if f, err = p.epochScoring(ctx); err != nil {
			return nil, err
		}
		if f.Closed > 2 && f.Scored >= f.Closed-2 {
			break
		}
	}
	return f, nil
}
