-- Owner-signed onboarding (issue 5): the registry now records who denylisted a
-- device and why, and when its last signed change (registration, transfer,
-- deactivation, denylisting) was issued. Rows mirrored before this migration
-- get the defaults: not denied, no change time.
ALTER TABLE devices
    ADD COLUMN IF NOT EXISTS denied Bool DEFAULT false AFTER active,
    ADD COLUMN IF NOT EXISTS denied_reason String DEFAULT '' AFTER denied,
    ADD COLUMN IF NOT EXISTS last_change DateTime64(3, 'UTC') DEFAULT 0 AFTER denied_reason;

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
       argMax(last_change, kafka_offset) AS last_change
FROM devices
GROUP BY device_id
HAVING NOT argMax(deleted, kafka_offset);
