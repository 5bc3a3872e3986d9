-- device_hourly stops summing measurements (issue 26). Its sumMap, minMap
-- and maxMap states were three quarters of what that view cost ClickHouse,
-- at every insert and again at every merge: a fifth of the server's CPU in
-- the pipeline bench (docs/performance.md, "The store path, piece by
-- piece"), because a one-second block holds about one reading per device
-- and so adds one row of maps per reading. A device's measurements by hour
-- come from readings itself, whose order (kind, device_id, event_time)
-- keeps one device's hour together (docs/analysts.md, recipe 8). The maps
-- keep what they summed before this migration; rows stored after it leave
-- them empty.
ALTER TABLE device_hourly_mv MODIFY QUERY
SELECT toStartOfHour(event_time) AS hour, kind, device_id, owner,
       countIf(status = 'valid') AS valid, countIf(status = 'rejected') AS rejected,
       min(event_time) AS first_seen, max(event_time) AS last_seen
FROM readings
GROUP BY hour, kind, device_id, owner;

ALTER TABLE device_hourly COMMENT COLUMN measurement_sum 'sum of each measurement over the valid readings of the hour, for readings stored before schema 17; empty since';

ALTER TABLE device_hourly COMMENT COLUMN measurement_min 'least value of each measurement, for readings stored before schema 17; empty since';

ALTER TABLE device_hourly COMMENT COLUMN measurement_max 'greatest value of each measurement, for readings stored before schema 17; empty since';
