-- Streams without information of their own (issue 23; docs/scoring.md): at
-- epoch close the aggregator compares each device's stream with its
-- neighbours', with its own past and with the other devices of its owner at
-- its spot, over the epoch's evidence window, and a stream that is a copy, a
-- loop, one generator's or noisier than any sensor earns nothing for the
-- epoch.

-- Each check's strongest evidence about each device it could judge, flagged
-- when it stopped the device's pay. A device page shows it; verify-epoch
-- recomputes it. value: TRACKED_STREAM and LOOPED_STREAM, how far the slope
-- of the device's changes on the other's lies above the policy's betaBP, in
-- thousandths of a standard error; NOISY_STREAM, the noisiest measurement's
-- change as basis points of its ceiling; GENERATED_STREAM, the flattest
-- measurement's kurtosis (thousandths); SHARED_CLOCK, the spread of the
-- offsets between the two devices' readings (ms).
CREATE TABLE IF NOT EXISTS stream_evidence
(
    epoch       UInt64,
    device_id   String,
    reason      LowCardinality(String),
    flagged     Bool,
    other       String,
    measurement LowCardinality(String),
    lag_ms      Int64,
    from_time   DateTime64(3, 'UTC'),
    to_time     DateTime64(3, 'UTC'),
    samples     UInt64,
    beta_bp     Int64,
    value       Int64
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, device_id, reason)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE device_scores ADD COLUMN IF NOT EXISTS evidence LowCardinality(String) DEFAULT '' COMMENT 'the information check that stopped pay (stream_evidence), or empty';
