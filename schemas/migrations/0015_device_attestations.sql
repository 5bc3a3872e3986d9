-- Every registry record keeps the maker's attestation the device registered
-- with (issue 28), so that an auditor checks it against the maker's key from
-- an epoch's export (docs/audit.md). Records mirrored before it was kept
-- have none.
ALTER TABLE devices ADD COLUMN IF NOT EXISTS attestation String DEFAULT '' COMMENT 'the maker''s ed25519 signature (hex) over AttestationBytes(public_key, kind), by the maker maker_id names; empty for records written before it was kept';
