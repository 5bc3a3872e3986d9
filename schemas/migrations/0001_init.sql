-- Every decided reading, valid or rejected, once. One table so that a batch is
-- one INSERT: the Kafka offsets that make resuming exact are written in the
-- same part as the data (the progress projection, see kafka_progress).
CREATE TABLE IF NOT EXISTS readings
(
    device_id       String CODEC(ZSTD(1)),
    seq             UInt64 CODEC(Delta, ZSTD(1)),
    event_time      DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    epoch           UInt64,
    kind            LowCardinality(String),
    owner           LowCardinality(String),
    measurements    Map(LowCardinality(String), Int64),
    lat_e7          Int32,
    lon_e7          Int32,
    received_at     DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    status          LowCardinality(String),
    reason          LowCardinality(String),
    detail          String CODEC(ZSTD(1)),
    score           UInt64,
    kafka_topic     LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset    UInt64,
    -- Parts are written in time order, so per-granule epoch bounds let a
    -- query for one epoch (the settler's) skip the rest.
    INDEX epoch_minmax epoch TYPE minmax GRANULARITY 1,
    PROJECTION progress
    (
        SELECT kafka_topic, kafka_partition, max(kafka_offset), max(least(event_time, received_at)), max(received_at)
        GROUP BY kafka_topic, kafka_partition
    )
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(event_time)
ORDER BY (kind, device_id, event_time, seq)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE VIEW IF NOT EXISTS rejections AS
SELECT device_id, seq, event_time, epoch, kind, owner, reason, detail, measurements, lat_e7, lon_e7, received_at
FROM readings WHERE status = 'rejected';

-- Per-device, per-epoch contribution: summed on merge, so always query with sum().
CREATE TABLE IF NOT EXISTS epoch_scores
(
    epoch     UInt64,
    owner     LowCardinality(String),
    device_id String,
    score     UInt64,
    readings  UInt64
)
ENGINE = SummingMergeTree
ORDER BY (epoch, owner, device_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS epoch_scores_mv TO epoch_scores AS
SELECT epoch, owner, device_id, sum(score) AS score, count() AS readings
FROM readings WHERE status = 'valid'
GROUP BY epoch, owner, device_id;

-- How far the aggregator got in each Kafka partition: where to resume, and
-- the event-time watermark. Served by the readings table's "progress"
-- projection, which lives inside each data part: it commits with the rows
-- themselves, so it can never disagree with them, even if ClickHouse dies
-- mid-INSERT (a materialized view into another table could).
CREATE VIEW IF NOT EXISTS kafka_progress AS
SELECT kafka_topic, kafka_partition,
       max(kafka_offset) AS max_offset,
       max(least(event_time, received_at)) AS watermark,
       max(received_at) AS updated_at
FROM readings
GROUP BY kafka_topic, kafka_partition;

-- Closed epochs, one row each.
CREATE TABLE IF NOT EXISTS epochs
(
    epoch      UInt64,
    start_time DateTime64(3, 'UTC'),
    end_time   DateTime64(3, 'UTC'),
    closed_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY epoch
SETTINGS non_replicated_deduplication_window = 1000;

-- Every account's leaf in an epoch's tree: its reward this epoch, its
-- cumulative total and its proof.
CREATE TABLE IF NOT EXISTS reward_leaves
(
    epoch      UInt64,
    account    String,
    score      UInt64,
    amount     UInt256,
    cumulative UInt256,
    proof      Array(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, account)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per state change of an epoch's settlement; the furthest state
-- wins (stage: 1 computed, 2 posted), whatever the clocks say.
CREATE TABLE IF NOT EXISTS settlements
(
    epoch      UInt64,
    root       String,
    total      UInt256,
    emission   UInt256,
    accounts   UInt32,
    status     LowCardinality(String),
    stage      UInt8,
    tx_hash    String,
    block      UInt64,
    tree       String CODEC(ZSTD(3)),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(stage)
ORDER BY epoch;
