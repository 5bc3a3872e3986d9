-- Settlement follows the chain (issue 10). A settlement's state can now go
-- back as well as forward (a reorg undoes a proposal, an operator recomputes
-- a revoked epoch), so the furthest-stage-wins `settlements` table gives way
-- to a history of states where the newest version wins. `settlements` stays
-- for the record; nothing writes it any more.

-- One row per state an epoch's settlement entered, in the order the one
-- settler wrote them (version strictly increases). States: computed,
-- superseded (included in a later root that was proposed instead), proposed,
-- active, final, revoked, parked (refused by the contract for good, or in
-- conflict with the chain; reason says why).
CREATE TABLE IF NOT EXISTS settlement_states
(
    epoch      UInt64,
    version    UInt64,
    root       String,
    total      UInt256,
    emission   UInt256,
    accounts   UInt32,
    state      LowCardinality(String),
    reason     String,
    tx_hash    String,
    block      UInt64,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (epoch, version);

-- Each computed tree's standard-v1 dump, once per (epoch, root).
CREATE TABLE IF NOT EXISTS settlement_trees
(
    epoch UInt64,
    root  String,
    tree  String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY (epoch, root);

-- An operator's `fieldmint settle --resume-from N`: revocations and parked
-- epochs older than the newest resume no longer hold settlement, and root
-- events up to block (the head then) no longer count for epochs from N on.
CREATE TABLE IF NOT EXISTS settler_resumes
(
    epoch   UInt64,
    version UInt64,
    block   UInt64,
    at      DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY version;

-- The distributor's events, indexed by the settler from its deployment
-- block. A log undone by a reorg is written again with removed = 1 and a
-- higher version; read with FINAL and removed = 0.
CREATE TABLE IF NOT EXISTS chain_events
(
    contract     String,
    block        UInt64,
    block_hash   String,
    block_time   DateTime('UTC'),
    tx_hash      String,
    log_index    UInt32,
    event        LowCardinality(String),
    epoch        UInt64,
    root         String,
    total        UInt256,
    activates_at UInt64,
    account      String,
    amount       UInt256,
    cumulative   UInt256,
    removed      UInt8,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (contract, block, block_hash, log_index);

-- How far the event index has read: the hash of each range's last block,
-- which tells a later pass whether a reorg replaced what was read. A row a
-- pass (every few seconds) adds up, so rows expire after a week: a settler
-- stopped for longer reads the events again from the deployment block,
-- which writes nothing twice (same keys, newer versions).
CREATE TABLE IF NOT EXISTS chain_cursor
(
    contract   String,
    block      UInt64,
    block_hash String,
    removed    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (contract, block)
TTL toDateTime(intDiv(version, 1000000000)) + INTERVAL 7 DAY;

-- Existing settlements carried over once ("posted" is now "proposed").
INSERT INTO settlement_states
SELECT epoch, 0, root, total, emission, accounts, if(status = 'posted', 'proposed', status), '', tx_hash, block, updated_at
FROM settlements_latest
WHERE epoch NOT IN (SELECT epoch FROM settlement_states);

INSERT INTO settlement_trees
SELECT epoch, root, tree FROM settlements_latest
WHERE tree != '' AND (epoch, root) NOT IN (SELECT epoch, root FROM settlement_trees);

-- Each epoch's settlement in its newest state, with its tree.
CREATE OR REPLACE VIEW settlements_latest AS
SELECT s.epoch AS epoch, s.root AS root, s.total AS total, s.emission AS emission, s.accounts AS accounts,
       s.status AS status, s.reason AS reason, s.tx_hash AS tx_hash, s.block AS block, t.tree AS tree,
       s.updated_at AS updated_at, s.last_version AS version
FROM
(
    SELECT epoch,
           argMax(root, version) AS root,
           argMax(total, version) AS total,
           argMax(emission, version) AS emission,
           argMax(accounts, version) AS accounts,
           argMax(state, version) AS status,
           argMax(reason, version) AS reason,
           argMax(tx_hash, version) AS tx_hash,
           argMax(block, version) AS block,
           argMax(updated_at, version) AS updated_at,
           max(version) AS last_version
    FROM settlement_states
    GROUP BY epoch
) AS s
LEFT JOIN (SELECT epoch, root, any(tree) AS tree FROM settlement_trees GROUP BY epoch, root) AS t
    ON s.epoch = t.epoch AND s.root = t.root;

-- Claims paid by the distributor, as indexed.
CREATE VIEW IF NOT EXISTS claims AS
SELECT account, amount, cumulative, block, block_time, tx_hash
FROM chain_events FINAL
WHERE event = 'Claimed' AND removed = 0;
