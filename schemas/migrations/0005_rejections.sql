-- Rejections for analysts (issue 3): counts by reason, kind, H3 cell
-- (resolution 7, from the position the reading reported; 0 when it reported
-- none) and epoch, with the devices and owners involved. Every rejected
-- reading's evidence (detail: the values that tripped the rule, and the rule)
-- stays in readings, and in the rejections view.
CREATE VIEW IF NOT EXISTS rejections_by_reason AS
SELECT epoch, reason, kind,
       if(lat_e7 = 0 AND lon_e7 = 0, toUInt64(0), geoToH3(lat_e7 / 1e7, lon_e7 / 1e7, 7)) AS cell,
       count() AS readings, uniqExact(device_id) AS devices, uniqExact(owner) AS owners
FROM readings
WHERE status = 'rejected'
GROUP BY epoch, reason, kind, cell
SETTINGS geotoh3_argument_order = 'lat_lon';
