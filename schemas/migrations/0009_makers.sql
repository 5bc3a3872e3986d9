-- Makers (issue 11): every device registers with its maker's attestation,
-- and the registry records which maker vouched for it. Rows mirrored before
-- this migration have no maker.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS maker_id LowCardinality(String) DEFAULT '' AFTER last_change;

-- When the asserted location last moved (moves are limited: a device that
-- hops regions would restart the validators' history of it in each).
ALTER TABLE devices ADD COLUMN IF NOT EXISTS moved_at DateTime64(3, 'UTC') DEFAULT 0 AFTER maker_id;

-- The current state of every device, one row each.
CREATE OR REPLACE VIEW devices_current AS
SELECT device_id,
       argMax(public_key, kafka_offset) AS public_key,
       argMax(kind, kafka_offset) AS kind,
       argMax(owner, kafka_offset) AS owner,
       argMax(lat_e7, kafka_offset) AS lat_e7,
       argMax(lon_e7, kafka_offset) AS lon_e7,
       argMax(registered_at, kafka_offset) AS registered_at,
       argMax(active, kafka_offset) AS active,
       argMax(denied, kafka_offset) AS denied,
       argMax(denied_reason, kafka_offset) AS denied_reason,
       argMax(last_change, kafka_offset) AS last_change,
       argMax(maker_id, kafka_offset) AS maker_id,
       argMax(moved_at, kafka_offset) AS moved_at
FROM devices
GROUP BY device_id
HAVING NOT argMax(deleted, kafka_offset);

-- Every asserted location a device has had, with the registry record that
-- set it: the devices table keeps the newest record only, this keeps them
-- all (each aggregator mirrors the whole topic; the key absorbs repeats).
CREATE TABLE IF NOT EXISTS device_locations
(
    device_id       String,
    lat_e7          Int32,
    lon_e7          Int32,
    changed_at      DateTime64(3, 'UTC'),
    kafka_partition UInt32,
    kafka_offset    UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (device_id, kafka_partition, kafka_offset);

CREATE MATERIALIZED VIEW IF NOT EXISTS device_locations_mv TO device_locations AS
SELECT device_id, lat_e7, lon_e7, last_change AS changed_at, kafka_partition, kafka_offset
FROM devices WHERE NOT deleted;

INSERT INTO device_locations SELECT device_id, lat_e7, lon_e7, last_change, kafka_partition, kafka_offset FROM devices WHERE NOT deleted;
