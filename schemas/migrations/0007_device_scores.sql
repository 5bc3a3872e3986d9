-- Contribution scores (issue 11): the aggregator owns the scoring policy and
-- writes one row per device and epoch at epoch close, with every part of the
-- formula (docs/scoring.md). The settler splits each epoch's emission over
-- these scores and nothing else.
CREATE TABLE IF NOT EXISTS device_scores
(
    epoch     UInt64,
    device_id String,
    owner     LowCardinality(String),
    kind      LowCardinality(String),
    readings  UInt64,  -- valid readings of the epoch
    uptime    UInt64,  -- distinct expected intervals with a valid reading (capped)
    weight    UInt64,  -- points per interval of the kind
    cell      UInt64,  -- H3 cell shared with the kind's other devices
    sharing   UInt64,  -- devices of the kind with uptime in the cell, forfeited ones left out
    frauds    UInt64,  -- fraud-class rejections in this epoch and the probation before it
    score     UInt64   -- 0 if frauds > 0, else uptime * weight / sharing, rounded down
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, device_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Where each closed epoch's scores cut the rejected topic: the rejections
-- they count are those up to these offsets. Written once, before the scores;
-- a close retried after a crash reuses it.
CREATE TABLE IF NOT EXISTS epoch_cuts
(
    epoch            UInt64,
    rejected_offsets Map(Int32, Int64)
)
ENGINE = ReplacingMergeTree
ORDER BY epoch;
