package aggregator

import "github.com/fieldmint/fieldmint/schemas/tables"

// The aggregator's queries, all in one place but one: the scoring query,
// built per policy and epoch, is scoresql.go's. What crosses stages
// (device_scores' columns) comes from schemas/tables.
const (
	// sqlNewestClosed: the newest closed epoch.
	sqlNewestClosed = "SELECT max(epoch) FROM epochs"
	// sqlNewestScored: the newest scored epoch.
	sqlNewestScored = "SELECT max(epoch) FROM scored_epochs"
	// sqlProgress: the stored offsets and watermarks of the decided topics.
	sqlProgress = `SELECT kafka_topic, kafka_partition, max_offset, watermark, updated_at
		FROM kafka_progress WHERE kafka_topic IN (?, ?)`
	// sqlInsertIntents: the intents of the blocks about to be inserted.
	sqlInsertIntents = "INSERT INTO insert_intents"
	// sqlPendingIntents: the intents whose blocks may not be stored.
	sqlPendingIntents = `SELECT token, kafka_topic, kafka_partition, first_offset, last_offset, created_at
		FROM insert_intents
		WHERE token IN (
			SELECT i.token FROM insert_intents AS i
			LEFT JOIN (SELECT kafka_topic, kafka_partition, max(max_offset) + 1 AS next
			           FROM kafka_progress GROUP BY kafka_topic, kafka_partition) AS p
			ON i.kafka_topic = p.kafka_topic AND i.kafka_partition = p.kafka_partition
			WHERE i.kafka_topic IN (?, ?) AND i.last_offset >= p.next)
		ORDER BY created_at, token`
	// sqlInsertEpoch: an epoch closed: epoch, start, end, closed at.
	sqlInsertEpoch = "INSERT INTO epochs VALUES (?, ?, ?, ?)"
	// sqlEpochsWithReadings: the epochs with valid readings in a range.
	sqlEpochsWithReadings = "SELECT DISTINCT epoch FROM readings WHERE status = 'valid' AND epoch > ? AND epoch <= ? ORDER BY epoch"
	// sqlInsertCut: the rejected topic's offsets an epoch's scoring counted.
	sqlInsertCut = "INSERT INTO epoch_cuts VALUES (?, ?)"
	// sqlInsertScored: an epoch scored.
	sqlInsertScored = "INSERT INTO scored_epochs VALUES (?, now64(3))"
	// sqlCut: an epoch's recorded cut.
	sqlCut = "SELECT rejected_offsets FROM epoch_cuts FINAL WHERE epoch = ?"
	// sqlDevicesProgress: the registry mirror's progress by partition.
	sqlDevicesProgress = "SELECT kafka_partition, max(kafka_offset) FROM devices GROUP BY kafka_partition"
	// sqlInsertDevices: a block of registry records.
	sqlInsertDevices = `INSERT INTO devices (device_id, public_key, kind, owner, lat_e7, lon_e7, registered_at,
		active, denied, denied_reason, denied_by, last_change, maker_id, moved_at, deleted, kafka_partition, kafka_offset, attestation)`
	// sqlEvidenceWindow: the valid readings of an evidence window, by kind and device in time order.
	sqlEvidenceWindow = `SELECT kind, device_id, owner, toUnixTimestamp64Milli(event_time), toUnixTimestamp64Milli(received_at), lat_e7, lon_e7, witness_of,
			arrayMap(k -> if(mapContains(measurements, k), measurements[k], ?), ?)
		FROM readings
		WHERE status = 'valid' AND kind IN ? AND epoch BETWEEN ? AND ?
		  AND event_time >= fromUnixTimestamp64Milli(?) AND event_time < fromUnixTimestamp64Milli(?)
		ORDER BY kind, device_id, event_time, seq`
	// sqlScoresStored: an epoch's stored score rows.
	sqlScoresStored = "SELECT count() FROM device_scores WHERE epoch = ?"
)

// Built on a column list of this package's (evidenceColumns).
var (
	// sqlInsertEvidence: a block of the information checks' findings.
	sqlInsertEvidence = "INSERT INTO stream_evidence (" + evidenceColumns + ")"
	// sqlStoredEvidence: an epoch's stored findings.
	sqlStoredEvidence = "SELECT " + evidenceColumns + " FROM stream_evidence FINAL WHERE epoch = ?"
	// sqlInsertScores: an epoch's device scores, from the scoring query.
	sqlInsertScores = "INSERT INTO device_scores (epoch, " + tables.ScoreColumns + ")\n"
)
