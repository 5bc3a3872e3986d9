-- LoRaWAN uplinks through a network server (issue 27, ingest/chirpstack.go).
-- A reading an uplink carried keeps the uplink's metadata; one its device did
-- not sign is marked with the network server that vouched for it, and its
-- wire is 3: reading_bytes is ingest's encoding of the uplink, with no
-- signature to check (docs/analysts.md).
ALTER TABLE readings ADD COLUMN IF NOT EXISTS trusted_by LowCardinality(String) COMMENT 'the LoRaWAN network server that vouched for a reading its device did not sign (wire 3); empty: signed by the device';

ALTER TABLE readings ADD COLUMN IF NOT EXISTS lorawan_deduplication_id String COMMENT 'the network server''s id of the uplink that carried the reading; empty when none did';

ALTER TABLE readings ADD COLUMN IF NOT EXISTS lorawan_f_cnt UInt32 COMMENT 'the uplink''s LoRaWAN frame counter';

ALTER TABLE readings ADD COLUMN IF NOT EXISTS lorawan_f_port UInt8 COMMENT 'the uplink''s LoRaWAN port (200: a reading the device signed)';

ALTER TABLE readings ADD COLUMN IF NOT EXISTS lorawan_gateways Nested(gateway_id String, rssi_dbm Int16, snr_db10 Int16) COMMENT 'the gateways that received the uplink, with its signal strength (dBm) and signal-to-noise ratio (tenths of a dB) at each';
