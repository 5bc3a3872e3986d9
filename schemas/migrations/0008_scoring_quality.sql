-- Scoring, second part (issue 11; docs/scoring.md): quality, location trust
-- and crowding multiply a device's score, and scores are held until the
-- epoch `hold` epochs later has closed, so that a fraud detected then
-- forfeits the epoch too.

-- How far a valid reading's reported position was from the device's
-- asserted location when the validators decided (metres, integer geodesy;
-- 0 for a reading without a position). Location trust reads it.
ALTER TABLE readings ADD COLUMN IF NOT EXISTS drift_m UInt32;

-- A hotspot's witness report: the beacon's device and sequence number
-- (empty and 0 for other readings). Coverage is paid by them.
ALTER TABLE readings ADD COLUMN IF NOT EXISTS witness_of String;
ALTER TABLE readings ADD COLUMN IF NOT EXISTS witness_seq UInt64;

ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS complete UInt64 COMMENT 'distinct intervals with every measurement of the kind';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS moving UInt64 COMMENT 'measurements that moved more than their noise floor in the epoch';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS quality UInt64 COMMENT 'basis points: 0 if none moved, else 10000 * complete / uptime';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS drift_m UInt64 COMMENT 'farthest valid reading from the asserted location, metres';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS trust UInt64 COMMENT 'basis points: location trust by drift_m';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS witnessed UInt64 COMMENT 'a coverage kind''s rewarded witnesses: distinct beacons heard, at most witnessesPerBeacon per beacon and one per interval';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS delivered UInt64 COMMENT 'a counter kind''s counter increase over the epoch (thousandths of its unit)';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS area UInt64 COMMENT 'H3 cell (crowdResolution) whose occupied cells crowd one another';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS occupied UInt64 COMMENT 'cells of the kind in the area with a paid device';
ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS crowding UInt64 COMMENT 'basis points: 10000 * min(1, crowdTarget / occupied)';

-- Epochs whose device_scores are written: the settler pays these. An epoch
-- is scored when the epoch `hold` epochs after it closes.
CREATE TABLE IF NOT EXISTS scored_epochs
(
    epoch     UInt64,
    scored_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY epoch;

-- Epochs scored before this migration were scored at their close.
INSERT INTO scored_epochs SELECT DISTINCT epoch, now64(3) FROM device_scores;
