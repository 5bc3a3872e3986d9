package explorer

// The explorer's queries, all in one place (formats take their arguments
// where noted). What crosses stages (device_scores rows, reward_leaves,
// settlements) is read through schemas/tables; these are the explorer's
// own aggregations and lookups.
const (
	// sqlRejectedReadings: a device's newest rejected readings (kind, device;
	// only epoch ? when ? is true; only reason ? when it is not empty;
	// at most ?).
	sqlRejectedReadings = `SELECT epoch, seq, event_time, received_at, reason, detail, measurements, lat_e7, lon_e7 FROM readings
		WHERE kind = ? AND device_id = ? AND status = 'rejected' AND (NOT ? OR epoch = ?) AND (? = '' OR reason = ?)
		ORDER BY event_time DESC, seq DESC LIMIT ?`
	// sqlTrustedReadings: a device's valid readings that a LoRaWAN network
	// server vouched for (no device signature), by epoch and network server
	// (kind, device, epochs).
	sqlTrustedReadings = `SELECT epoch, trusted_by, count() FROM readings
		WHERE kind = ? AND device_id = ? AND status = 'valid' AND trusted_by != '' AND epoch IN ? GROUP BY epoch, trusted_by`
	// sqlDeviceInfo: the registry's record of a device.
	sqlDeviceInfo = `SELECT kind, owner, lat_e7, lon_e7, active, denied, denied_reason, denied_by, maker_id, registered_at, last_change
		FROM devices_current WHERE device_id = ?`
	// sqlDeviceRejections: a device's rejected readings by epoch and reason, in its newest epochs with any.
	sqlDeviceRejections = `SELECT epoch, reason, sum(readings), any(owner) FROM epoch_rejections WHERE device_id = ?
			AND epoch IN (SELECT DISTINCT epoch FROM epoch_rejections WHERE device_id = ? ORDER BY epoch DESC LIMIT ?) GROUP BY epoch, reason`
	// sqlFindings: the information checks' evidence about a device in given epochs.
	sqlFindings = `SELECT epoch, reason, flagged, other, measurement, lag_ms, from_time, to_time, samples, beta_bp, value
		FROM stream_evidence FINAL WHERE epoch IN ? AND device_id = ? ORDER BY epoch, flagged DESC, reason`
	// sqlNewestScored: the newest scored epoch.
	sqlNewestScored = "SELECT max(epoch) FROM scored_epochs"
	// sqlScored: whether an epoch is scored.
	sqlScored = "SELECT count() FROM scored_epochs WHERE epoch = ?"
	// sqlEpochKinds: an epoch's devices, paid devices, valid readings and score by kind, with totals.
	sqlEpochKinds = `SELECT kind, count(), countIf(score > 0), sum(readings), sum(score)
		FROM device_scores FINAL WHERE epoch = ? GROUP BY kind WITH TOTALS ORDER BY kind`
	// sqlEpochReasons: an epoch's rejected readings and devices by reason, most first.
	sqlEpochReasons = `SELECT reason, sum(readings) AS n, uniqExact(device_id) FROM epoch_rejections WHERE epoch = ?
		GROUP BY reason ORDER BY n DESC, reason`
	// sqlMapCells: the map's cells at resolution %[1]d: devices, paid, score, rejected readings and their devices, the box condition %[2]s on the centres, at most %[3]d cells, the near-box cells %[4]s.
	sqlMapCells = `SELECT c, h3ToGeo(c), h3ToGeoBoundary(c), devices, paid, total, rejected, rejected_devices FROM (
		SELECT c, sum(d) AS devices, sum(p) AS paid, sum(s) AS total, sum(rj) AS rejected, sum(rd) AS rejected_devices FROM (
			SELECT h3ToParent(cell, %[1]d) AS c, count() AS d, countIf(score > 0) AS p, sum(score) AS s, 0 AS rj, 0 AS rd
			FROM device_scores FINAL WHERE epoch = ? AND cell != 0 AND h3GetResolution(cell) >= %[1]d %[4]s GROUP BY c
			UNION ALL
			SELECT h3ToParent(cell, %[1]d) AS c, 0, 0, 0, sum(readings), uniqExact(device_id)
			FROM epoch_rejections WHERE epoch = ? AND cell != 0 %[4]s GROUP BY c)
		GROUP BY c)
		WHERE 1 %[2]s ORDER BY total DESC, rejected DESC, c LIMIT %[3]d SETTINGS query_plan_filter_push_down = 0`
	// sqlCover: the cells at resolution %[1]d near a box (corners, centre and rings).
	sqlCover = `SELECT arrayDistinct(arrayFlatten(arrayMap(c -> h3kRing(c, 1), arrayConcat(
		h3PolygonToCells([(?, ?), (?, ?), (?, ?), (?, ?)], %[1]d),
		[geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d), geoToH3(?, ?, %[1]d)]))))`
	// sqlCellValid: whether a number is an H3 cell.
	sqlCellValid = "SELECT h3IsValid(toUInt64(?))"
	// sqlCellResolution: an H3 cell's resolution.
	sqlCellResolution = "SELECT h3GetResolution(toUInt64(?))"
	// sqlCellDevices: a cell's devices at resolution %[1]d, scored or rejected, at most %[2]d.
	sqlCellDevices = `SELECT device_id, any(k), any(o), sum(v) AS valid, sum(s) AS total, sum(f), sum(rj) AS rejected FROM (
		SELECT device_id, kind AS k, owner AS o, readings AS v, score AS s, frauds AS f, 0 AS rj FROM device_scores FINAL
		WHERE epoch = ? AND cell != 0 AND h3GetResolution(cell) >= %[1]d AND h3ToParent(cell, %[1]d) = ?
		UNION ALL
		SELECT device_id, kind, owner, 0, 0, 0, readings FROM epoch_rejections
		WHERE epoch = ? AND cell != 0 AND h3ToParent(cell, %[1]d) = ?)
		GROUP BY device_id ORDER BY total DESC, rejected DESC, device_id LIMIT %[2]d`
	// sqlOwnerDevices: an owner's devices in the registry.
	sqlOwnerDevices = `SELECT device_id, kind, active, denied FROM devices_current
		WHERE device_id IN (SELECT device_id FROM devices WHERE owner = ?) AND owner = ? ORDER BY device_id LIMIT ?`
)
