-- Proofs are no longer stored per leaf (issue 13): writing every account's
-- proof as hex strings was 70% of settling an epoch of 250,000 accounts.
-- The proof API cuts proofs from the tree it rebuilds from the leaves, and
-- the tree dump (settlement_trees, GET /v1/epochs/{epoch}/tree) holds every
-- node.
ALTER TABLE reward_leaves DROP COLUMN IF EXISTS proof;
