-- owner_daily and epoch_scores as views (migration 19 says why), with the
-- columns they had, so that analysts' queries (uniqMerge(devices), sum())
-- read them as before.
CREATE VIEW IF NOT EXISTS owner_daily AS
SELECT toDate(hour) AS day, owner, uniqState(device_id) AS devices,
       sum(valid) AS valid, sum(rejected) AS rejected
FROM device_hourly
GROUP BY day, owner;

-- A scored epoch's counts are the ones its scoring used (device_scores, the
-- owner it was scored for); an epoch not scored yet is counted from readings.
CREATE VIEW IF NOT EXISTS epoch_scores AS
SELECT epoch, owner, device_id, readings
FROM device_scores FINAL
WHERE readings > 0 AND epoch IN (SELECT epoch FROM scored_epochs)
UNION ALL
SELECT epoch, owner, device_id, count() AS readings
FROM readings
WHERE status = 'valid' AND epoch NOT IN (SELECT epoch FROM scored_epochs)
GROUP BY epoch, owner, device_id;
