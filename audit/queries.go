package audit

// The export's statements: each reads one file's rows in a fixed order, so
// that the same epoch exported twice gives the same bytes.
const (
	sqlReadings = `SELECT device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at, status, reason, detail,
			kafka_topic, kafka_partition, kafka_offset, drift_m, witness_of, witness_seq, wire, reading_bytes, signature, trusted_by
		FROM readings
		WHERE epoch BETWEEN ? AND ?
		ORDER BY epoch, kind, device_id, event_time, seq, status, kafka_topic, kafka_partition, kafka_offset`
	// sqlDevices: the newest record of every device with a reading exported.
	sqlDevices = `SELECT device_id, public_key, kind, owner, lat_e7, lon_e7, registered_at, active, denied, denied_reason, denied_by,
			last_change, maker_id, moved_at, deleted, kafka_partition, kafka_offset, attestation
		FROM devices FINAL
		WHERE device_id IN (SELECT DISTINCT device_id FROM readings WHERE epoch BETWEEN ? AND ?)
		ORDER BY device_id`
	sqlScores = `SELECT epoch, device_id, owner, kind, readings, uptime, complete, moving, quality, drift_m, trust, witnessed, delivered,
			weight, cell, sharing, area, occupied, crowding, frauds, evidence, score
		FROM device_scores FINAL WHERE epoch = ? ORDER BY device_id`
	sqlEvidence = `SELECT epoch, device_id, reason, flagged, other, measurement, lag_ms, from_time, to_time, samples, beta_bp, value
		FROM stream_evidence FINAL WHERE epoch = ? ORDER BY device_id, reason`
	sqlEpochs = "SELECT epoch, start_time, end_time, closed_at FROM epochs FINAL WHERE epoch BETWEEN ? AND ? ORDER BY epoch"
	sqlCut    = "SELECT epoch, rejected_offsets FROM epoch_cuts FINAL WHERE epoch = ?"
	// sqlEpochLength: the epoch's length as it was closed.
	sqlEpochLength = "SELECT toUnixTimestamp64Milli(end_time) - toUnixTimestamp64Milli(start_time) FROM epochs FINAL WHERE epoch = ?"

	// A verification loads the files into its own database.
	sqlLoadReadings = `INSERT INTO readings (device_id, seq, event_time, epoch, kind, owner, measurements, lat_e7, lon_e7, received_at, status, reason, detail,
			kafka_topic, kafka_partition, kafka_offset, drift_m, witness_of, witness_seq, wire, reading_bytes, signature, trusted_by)`
	sqlLoadDevices = `INSERT INTO devices (device_id, public_key, kind, owner, lat_e7, lon_e7, registered_at, active, denied, denied_reason, denied_by,
			last_change, maker_id, moved_at, deleted, kafka_partition, kafka_offset, attestation)`
	sqlLoadScores = `INSERT INTO device_scores (epoch, device_id, owner, kind, readings, uptime, complete, moving, quality, drift_m, trust, witnessed, delivered,
			weight, cell, sharing, area, occupied, crowding, frauds, evidence, score)`
	sqlLoadEvidence = "INSERT INTO stream_evidence (epoch, device_id, reason, flagged, other, measurement, lag_ms, from_time, to_time, samples, beta_bp, value)"
	sqlLoadEpochs   = "INSERT INTO epochs (epoch, start_time, end_time, closed_at)"
	sqlLoadCut      = "INSERT INTO epoch_cuts (epoch, rejected_offsets)"
)

const (
	// sqlValidReadings: an epoch's valid readings.
	sqlValidReadings = "SELECT count() FROM readings WHERE epoch = ? AND status = 'valid'"
	// sqlPaidDevices: the devices with a valid reading in an epoch, each with
	// whether it has a record, and the record's key, kind, maker and attestation.
	sqlPaidDevices = `SELECT p.device_id, d.device_id != '', d.public_key, d.kind, d.maker_id, d.attestation
		FROM (SELECT DISTINCT device_id FROM readings WHERE epoch = ? AND status = 'valid') AS p
		LEFT JOIN (SELECT device_id, public_key, kind, maker_id, attestation FROM devices FINAL) AS d ON d.device_id = p.device_id
		ORDER BY p.device_id`
)
