-- Makers (issue 11): every device registers with its maker's attestation,
-- and the registry records which maker vouched for it. Rows mirrored before
-- this migration have no maker.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS maker_id LowCardinality(String) DEFAULT '' AFTER last_change;

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
       argMax(maker_id, kafka_offset) AS maker_id
FROM devices
GROUP BY device_id
HAVING NOT argMax(deleted, kafka_offset);
