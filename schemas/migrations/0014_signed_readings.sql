-- Every stored reading keeps the bytes its device signed and the signature
-- (issue 26), so that anyone holding the device's public key can verify a
-- row from ClickHouse alone (docs/analysts.md shows the query): the message
-- is the domain prefix for `wire` followed by reading_bytes.
--   wire 2: "fieldmint/reading/v2\n" || reading_bytes (as the device sent them)
--   wire 1: "fieldmint/reading/v1\n" || reading_bytes (the canonical encoding)
--   wire 0: stored before the bytes were kept (nothing to verify)
-- A v2 reading is decoded once in the validators and once in the
-- aggregator, from these bytes; nothing re-encodes it.
ALTER TABLE readings ADD COLUMN IF NOT EXISTS reading_bytes String COMMENT 'the encoded Reading the signature covers after the domain prefix of wire' CODEC(ZSTD(1));

ALTER TABLE readings ADD COLUMN IF NOT EXISTS signature String COMMENT 'the device''s ed25519 signature (64 bytes) over the domain prefix and reading_bytes';

ALTER TABLE readings ADD COLUMN IF NOT EXISTS wire UInt8 COMMENT 'the wire format the signature is of: 2, 1 (canonical), or 0 (stored before the bytes were kept)';

-- The validators' per-reading score is retired: it paid nothing (pay is
-- device_scores). The rollups stop summing it, then lose its column, and so
-- do the readings. As with 0003, stop the aggregators for the upgrade.
ALTER TABLE epoch_scores_mv MODIFY QUERY
SELECT epoch, owner, device_id, count() AS readings
FROM readings WHERE status = 'valid'
GROUP BY epoch, owner, device_id;

ALTER TABLE device_hourly_mv MODIFY QUERY
SELECT toStartOfHour(event_time) AS hour, kind, device_id, owner,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected,
       min(event_time) AS first_seen, max(event_time) AS last_seen,
       sumMapIf(measurements, status = 'valid') AS measurement_sum,
       minMapIf(measurements, status = 'valid') AS measurement_min,
       maxMapIf(measurements, status = 'valid') AS measurement_max
FROM readings
GROUP BY hour, kind, device_id, owner;

ALTER TABLE cell_hourly_mv MODIFY QUERY
SELECT toStartOfHour(event_time) AS hour, geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 7) AS cell, kind,
       uniqState(device_id) AS devices,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected
FROM readings
WHERE lat_e7 != 0 OR lon_e7 != 0
GROUP BY hour, cell, kind
SETTINGS geotoh3_argument_order = 'lat_lon';

ALTER TABLE owner_daily_mv MODIFY QUERY
SELECT toDate(event_time) AS day, owner, uniqState(device_id) AS devices,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected
FROM readings
GROUP BY day, owner;

ALTER TABLE epoch_scores DROP COLUMN IF EXISTS score;

ALTER TABLE device_hourly DROP COLUMN IF EXISTS score;

ALTER TABLE cell_hourly DROP COLUMN IF EXISTS score;

ALTER TABLE owner_daily DROP COLUMN IF EXISTS score;

ALTER TABLE readings DROP COLUMN IF EXISTS score;
