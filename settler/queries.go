package settler

// The settler's own queries, all in one place: its tables (chain_events,
// chain_cursor, settler_resumes) and what it reads of the aggregator's
// (epochs, scored_epochs, readings). The tables that cross stages
// (settlements, leaves, device scores) are read and written through
// schemas/tables.
const (
	// sqlNewestResume: the newest epoch an operator resumed from (0: none).
	sqlNewestResume = "SELECT max(epoch) FROM settler_resumes"
	// sqlScoredFrom: the closed and scored epochs from an epoch on, with their times.
	sqlScoredFrom = `SELECT epoch, start_time, end_time FROM epochs FINAL
		WHERE epoch >= ? AND epoch IN (SELECT epoch FROM scored_epochs) ORDER BY epoch`
	// sqlNewestScored: the newest scored epoch.
	sqlNewestScored = "SELECT max(epoch) FROM scored_epochs"
	// sqlCutReady: the newest closed epoch that ended before a moment.
	sqlCutReady = "SELECT max(epoch) FROM epochs FINAL WHERE end_time <= ?"
	// sqlEpochEnd: a closed epoch's end.
	sqlEpochEnd = "SELECT end_time FROM epochs FINAL WHERE epoch = ?"
	// sqlNewestClosed: the newest closed epoch's times.
	sqlNewestClosed = "SELECT start_time, end_time FROM epochs FINAL ORDER BY epoch DESC LIMIT 1"
	// sqlCheckpoints: the indexer's newest checkpoints (block and hash) of a contract.
	sqlCheckpoints = `SELECT block, block_hash FROM chain_cursor FINAL
		WHERE contract = ? AND removed = 0 ORDER BY block DESC LIMIT ?`
	// sqlUndoEvents: marks a contract's events from a block on removed (a reorg), as version ?.
	sqlUndoEvents = `INSERT INTO chain_events SELECT contract, block, block_hash, block_time, tx_hash, log_index, event,
		epoch, root, total, activates_at, account, amount, cumulative, 1, ? FROM chain_events FINAL
		WHERE contract = ? AND block >= ? AND removed = 0`
	// sqlUndoCursor: marks a contract's checkpoints from a block on removed.
	sqlUndoCursor = `INSERT INTO chain_cursor SELECT contract, block, block_hash, 1, ? FROM chain_cursor FINAL
		WHERE contract = ? AND block >= ? AND removed = 0`
	// sqlInsertEvents: the indexed events, in blocks.
	sqlInsertEvents = "INSERT INTO chain_events"
	// sqlInsertCheckpoint: a checkpoint: contract, block, hash, version.
	sqlInsertCheckpoint = "INSERT INTO chain_cursor VALUES (?, ?, ?, 0, ?)"
	// sqlRootEvents: a contract's root events from an epoch on, in chain order.
	sqlRootEvents = `SELECT event, epoch, root, block, tx_hash FROM chain_events FINAL
		WHERE contract = ? AND removed = 0 AND event != 'Claimed' AND epoch >= ? ORDER BY block, log_index`
	// sqlScoredEpochs: the scored epochs from an epoch on.
	sqlScoredEpochs = "SELECT DISTINCT epoch FROM scored_epochs WHERE epoch >= ? ORDER BY epoch"
	// sqlDecisions: an epoch's valid readings and the rejections received in its time, by status and reason.
	sqlDecisions = `SELECT status, reason, count() FROM readings
		WHERE (status = 'valid' AND epoch = ?) OR (status = 'rejected' AND received_at >= ? AND received_at < ?)
		GROUP BY status, reason`
	// sqlInsertResume: an operator's resume: epoch, version, head block.
	sqlInsertResume = "INSERT INTO settler_resumes VALUES (?, ?, ?, now64(3))"
	// sqlLastResume: the newest resume's epoch and head block.
	sqlLastResume = "SELECT argMax(epoch, version), argMax(block, version) FROM settler_resumes"
	// sqlSignedReadings: an epoch's valid readings as signed, with their
	// device's key (ingest never changes a registered device's key), in a
	// stable order.
	sqlSignedReadings = `SELECT r.device_id, r.seq, r.wire, r.reading_bytes, r.signature, d.key,
			toUnixTimestamp64Milli(r.event_time), r.kind, r.measurements, r.lat_e7, r.lon_e7, r.witness_of, r.witness_seq
		FROM readings AS r
		LEFT JOIN (SELECT device_id, any(public_key) AS key FROM devices GROUP BY device_id) AS d ON d.device_id = r.device_id
		WHERE r.epoch = ? AND r.status = 'valid'
		ORDER BY r.device_id, r.seq`
	// sqlValidReadings: an epoch's valid readings.
	sqlValidReadings = "SELECT count() FROM readings WHERE epoch = ? AND status = 'valid'"
)
