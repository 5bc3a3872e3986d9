-- What the aggregator is about to INSERT, written before the INSERT itself:
-- one row per Kafka partition of the block, all with the block's
-- deduplication token. An intent whose offsets are not yet in kafka_progress
-- is pending: its writer may have died with the INSERT in flight, and that
-- INSERT may still land. Whoever takes over the partition INSERTs exactly the
-- same records with the same token before consuming, so that whichever of the
-- two lands second is dropped by ClickHouse's deduplication.
CREATE TABLE IF NOT EXISTS insert_intents
(
    token           String,
    kafka_topic     LowCardinality(String),
    kafka_partition UInt32,
    first_offset    UInt64,
    last_offset     UInt64,
    created_at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (kafka_topic, kafka_partition, last_offset)
TTL toDateTime(created_at) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 1000;
