package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ClickHouseSplit is where ClickHouse's CPU went during a pipeline run
// (`bench pipeline --clickhouse-split`), from the server's own logs: each
// kind of query (an INSERT's figure includes the materialized views it fed),
// each view, and the merges of each table. What none of them accounts for
// is the server's background and its handling of connections.
type ClickHouseSplit struct {
	Queries []SplitItem `json:"queries"`
	Views   []SplitItem `json:"views"`
	Merges  []SplitItem `json:"merges"`
}

// SplitItem is one query shape, view or table: how many times it ran, its
// CPU-seconds, and the rows it wrote (queries: read).
type SplitItem struct {
	Name       string  `json:"name"`
	Count      uint64  `json:"count"`
	CPUSeconds float64 `json:"cpuSeconds"`
	Rows       uint64  `json:"rows"`
}

// splitQueries read the logs from the run's start to the moment the roles'
// CPU was read (the bench's own checks after it are not the pipeline's): the query shapes, the
// views, the merges, each by CPU, largest first. An INSERT is named by its
// table alone (the aggregator's, from ch-go, lists its 29 columns).
var splitQueries = [3]string{
	`SELECT if(query_kind = 'Insert', replaceRegexpOne(query, '(?s)^\\s*INSERT INTO\\s+"?([A-Za-z0-9_.]+)"?.*$', 'INSERT INTO \\1'), left(normalizeQuery(query), 80)), count(), sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']), sum(if(query_kind = 'Insert', written_rows, read_rows))
	 FROM system.query_log WHERE type = 'QueryFinish' AND event_time_microseconds BETWEEN fromUnixTimestamp64Micro(?) AND fromUnixTimestamp64Micro(?) GROUP BY 1 ORDER BY 3 DESC LIMIT 12`,
	`SELECT view_name, count(), sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']), sum(written_rows)
	 FROM system.query_views_log WHERE event_time_microseconds BETWEEN fromUnixTimestamp64Micro(?) AND fromUnixTimestamp64Micro(?) GROUP BY 1 ORDER BY 3 DESC`,
	`SELECT database || '.' || table, count(), sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds']), sum(rows)
	 FROM system.part_log WHERE event_type = 'MergeParts' AND event_time_microseconds BETWEEN fromUnixTimestamp64Micro(?) AND fromUnixTimestamp64Micro(?) AND database NOT IN ('system') GROUP BY 1 ORDER BY 3 DESC`,
}

// clickhouseSplit reads the server's logs for what ran from start to end.
func (p *pipeline) clickhouseSplit(ctx context.Context, start, end time.Time) (*ClickHouseSplit, error) {
	if err := p.conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
		return nil, fmt.Errorf("bench pipeline: clickhouse split: %w", err)
	}
	var out ClickHouseSplit
	for i, into := range []*[]SplitItem{&out.Queries, &out.Views, &out.Merges} {
		rows, err := p.conn.Query(ctx, splitQueries[i], start.UnixMicro(), end.UnixMicro())
		if err != nil {
			return nil, fmt.Errorf("bench pipeline: clickhouse split: %w", err)
		}
		for rows.Next() {
			var it SplitItem
			var micros uint64
			if err := rows.Scan(&it.Name, &it.Count, &micros, &it.Rows); err != nil {
				rows.Close()
				return nil, err
			}
			it.CPUSeconds = float64(micros) / 1e6
			*into = append(*into, it)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// text prints the split, per reading of the run.
func (s *ClickHouseSplit) text(readings int64) string {
	var b strings.Builder
	b.WriteString("clickhouse where its CPU went (CPU-seconds, µs a reading; an INSERT includes its views):\n")
	for _, part := range []struct {
		what  string
		items []SplitItem
	}{{"query", s.Queries}, {"view", s.Views}, {"merges", s.Merges}} {
		for _, it := range part.items {
			fmt.Fprintf(&b, "  %-6s %6.2f s %5.1f µs  %5d× %10d rows  %s\n", part.what, it.CPUSeconds,
				it.CPUSeconds/float64(max(readings, 1))*1e6, it.Count, it.Rows, it.Name)
		}
	}
	return b.String()
}
