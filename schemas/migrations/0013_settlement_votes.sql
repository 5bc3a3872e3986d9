-- k-of-n settlement (issue 25; docs/decentralization.md): every settler
-- signs an EIP-712 vote for the root it computed and sends it to the
-- compacted settlement.votes topic; each settler keeps here the votes it
-- read there whose signature recovers to the signer they name, one per
-- signer, epoch and round (the newest read), and the proof API serves them
-- at GET /v1/votes?epoch=N. tree_hash is the keccak256 of the signer's tree
-- dump; inputs commits to the cut of the raw readings log it computed from.
CREATE TABLE IF NOT EXISTS settlement_votes
(
    epoch      UInt64,
    round      UInt64,
    signer     String,
    root       String,
    total      UInt256,
    prev_root  String,
    inputs     String,
    rules      UInt32,
    signature  String,
    tree_hash  String,
    read_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(read_at)
ORDER BY (epoch, round, signer);
