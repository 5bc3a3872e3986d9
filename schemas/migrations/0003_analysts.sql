-- Rollups for analysts, kept while raw readings expire (clickhouse.readingsTTL).
--
-- Each is an AggregatingMergeTree fed by a materialized view on readings.
-- Query them with GROUP BY and sum()/min()/max()/uniqMerge() over the key you
-- want, never FINAL: rows of one key are partial sums until merged, and the
-- aggregate functions give the right answer either way. The views see every
-- INSERT into readings with its deduplication token
-- (deduplicate_blocks_in_dependent_materialized_views), so a retried block
-- is not counted twice here either.
--
-- Upgrading an existing database: each rollup is first filled from the
-- readings already stored, then its view is created. Stop the aggregators
-- for the upgrade (the first new one to start applies it): a reading
-- inserted between the two statements would be missing from the rollup.

-- Per device and hour: how much it reported, how much was rejected, what it
-- scored, when it was last heard of, and its measurements (sum, min, max over
-- valid readings; mean = sum / valid).
CREATE TABLE IF NOT EXISTS device_hourly
(
    hour            DateTime('UTC'),
    kind            LowCardinality(String),
    device_id       String,
    owner           LowCardinality(String),
    valid           SimpleAggregateFunction(sum, UInt64),
    rejected        SimpleAggregateFunction(sum, UInt64),
    score           SimpleAggregateFunction(sum, UInt64),
    first_seen      SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen       SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    measurement_sum SimpleAggregateFunction(sumMap, Map(String, Int64)),
    measurement_min SimpleAggregateFunction(minMap, Map(String, Int64)),
    measurement_max SimpleAggregateFunction(maxMap, Map(String, Int64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (kind, device_id, hour, owner)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO device_hourly
SELECT toStartOfHour(event_time) AS hour, kind, device_id, owner,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected, sum(score) AS score,
       min(event_time) AS first_seen, max(event_time) AS last_seen,
       sumMapIf(measurements, status = 'valid') AS measurement_sum,
       minMapIf(measurements, status = 'valid') AS measurement_min,
       maxMapIf(measurements, status = 'valid') AS measurement_max
FROM readings
WHERE (SELECT count() FROM device_hourly) = 0
GROUP BY hour, kind, device_id, owner;

CREATE MATERIALIZED VIEW IF NOT EXISTS device_hourly_mv TO device_hourly AS
SELECT toStartOfHour(event_time) AS hour, kind, device_id, owner,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected, sum(score) AS score,
       min(event_time) AS first_seen, max(event_time) AS last_seen,
       sumMapIf(measurements, status = 'valid') AS measurement_sum,
       minMapIf(measurements, status = 'valid') AS measurement_min,
       maxMapIf(measurements, status = 'valid') AS measurement_max
FROM readings
GROUP BY hour, kind, device_id, owner;

-- Per H3 cell (resolution 7, about 5 km² a cell) and hour: where the network
-- is, from the positions devices report. Readings without a position (0, 0)
-- are left out. h3ToGeo(cell) gives a cell's centre, h3ToString its usual name.
CREATE TABLE IF NOT EXISTS cell_hourly
(
    hour     DateTime('UTC'),
    cell     UInt64,
    kind     LowCardinality(String),
    devices  AggregateFunction(uniq, String),
    valid    SimpleAggregateFunction(sum, UInt64),
    rejected SimpleAggregateFunction(sum, UInt64),
    score    SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (kind, cell, hour)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO cell_hourly
SELECT toStartOfHour(event_time) AS hour, geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 7) AS cell, kind,
       uniqState(device_id) AS devices,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected, sum(score) AS score
FROM readings
WHERE (lat_e7 != 0 OR lon_e7 != 0) AND (SELECT count() FROM cell_hourly) = 0
GROUP BY hour, cell, kind
SETTINGS geotoh3_argument_order = 'lat_lon';

CREATE MATERIALIZED VIEW IF NOT EXISTS cell_hourly_mv TO cell_hourly AS
SELECT toStartOfHour(event_time) AS hour, geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 7) AS cell, kind,
       uniqState(device_id) AS devices,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected, sum(score) AS score
FROM readings
WHERE lat_e7 != 0 OR lon_e7 != 0
GROUP BY hour, cell, kind
SETTINGS geotoh3_argument_order = 'lat_lon';

-- Per owner and day: devices active, readings, score.
CREATE TABLE IF NOT EXISTS owner_daily
(
    day      Date,
    owner    LowCardinality(String),
    devices  AggregateFunction(uniq, String),
    valid    SimpleAggregateFunction(sum, UInt64),
    rejected SimpleAggregateFunction(sum, UInt64),
    score    SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (owner, day)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO owner_daily
SELECT toDate(event_time) AS day, owner, uniqState(device_id) AS devices,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected, sum(score) AS score
FROM readings
WHERE (SELECT count() FROM owner_daily) = 0
GROUP BY day, owner;

CREATE MATERIALIZED VIEW IF NOT EXISTS owner_daily_mv TO owner_daily AS
SELECT toDate(event_time) AS day, owner, uniqState(device_id) AS devices,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected, sum(score) AS score
FROM readings
GROUP BY day, owner;

-- Per kind, outcome and hour: rejection rates by reason over time.
CREATE TABLE IF NOT EXISTS outcomes_hourly
(
    hour     DateTime('UTC'),
    kind     LowCardinality(String),
    status   LowCardinality(String),
    reason   LowCardinality(String),
    readings SimpleAggregateFunction(sum, UInt64),
    devices  AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (kind, status, reason, hour)
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO outcomes_hourly
SELECT toStartOfHour(event_time) AS hour, kind, status, reason, count() AS readings, uniqState(device_id) AS devices
FROM readings
WHERE (SELECT count() FROM outcomes_hourly) = 0
GROUP BY hour, kind, status, reason;

CREATE MATERIALIZED VIEW IF NOT EXISTS outcomes_hourly_mv TO outcomes_hourly AS
SELECT toStartOfHour(event_time) AS hour, kind, status, reason, count() AS readings, uniqState(device_id) AS devices
FROM readings
GROUP BY hour, kind, status, reason;

-- The device registry, mirrored from the compacted devices topic by the
-- aggregators: one row per registry record (version = its Kafka offset).
-- devices_current has each device's latest state.
CREATE TABLE IF NOT EXISTS devices
(
    device_id       String,
    public_key      String,
    kind            LowCardinality(String),
    owner           LowCardinality(String),
    lat_e7          Int32,
    lon_e7          Int32,
    registered_at   DateTime64(3, 'UTC'),
    active          Bool,
    deleted         Bool,
    kafka_partition UInt32,
    kafka_offset    UInt64
)
ENGINE = ReplacingMergeTree(kafka_offset)
ORDER BY device_id
SETTINGS non_replicated_deduplication_window = 1000;

CREATE VIEW IF NOT EXISTS devices_current AS
SELECT device_id,
       argMax(public_key, kafka_offset) AS public_key,
       argMax(kind, kafka_offset) AS kind,
       argMax(owner, kafka_offset) AS owner,
       argMax(lat_e7, kafka_offset) AS lat_e7,
       argMax(lon_e7, kafka_offset) AS lon_e7,
       argMax(registered_at, kafka_offset) AS registered_at,
       argMax(active, kafka_offset) AS active
FROM devices
GROUP BY device_id
HAVING NOT argMax(deleted, kafka_offset);

-- Each epoch's settlement in its furthest state (settlements keeps one row
-- per state change; a root posted again after a reorg is the newer row of
-- the same stage).
CREATE VIEW IF NOT EXISTS settlements_latest AS
SELECT epoch,
       argMax(root, (s.stage, s.updated_at)) AS root,
       argMax(total, (s.stage, s.updated_at)) AS total,
       argMax(emission, (s.stage, s.updated_at)) AS emission,
       argMax(accounts, (s.stage, s.updated_at)) AS accounts,
       argMax(status, (s.stage, s.updated_at)) AS status,
       argMax(tx_hash, (s.stage, s.updated_at)) AS tx_hash,
       argMax(block, (s.stage, s.updated_at)) AS block,
       argMax(tree, (s.stage, s.updated_at)) AS tree,
       max(s.updated_at) AS updated_at
FROM settlements AS s
GROUP BY epoch;

-- Every account's reward per epoch, once (reward_leaves may hold a leaf
-- twice until merged; a recomputed leaf is identical).
CREATE VIEW IF NOT EXISTS rewards AS
SELECT epoch, account, any(score) AS score, any(amount) AS amount, any(cumulative) AS cumulative
FROM reward_leaves
GROUP BY epoch, account;
