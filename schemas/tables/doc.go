// Package tables owns the ClickHouse tables that cross a stage boundary:
// their row types, column lists, the settlement states and their SQL sets,
// the rejection reasons with their class, and the reads and writes of
// device_scores, reward_leaves and settlement_states. The migrations
// (schemas/migrations) create the tables; this package is how Go reads and
// writes them, so a column renamed there fails here, in one place
// (TestColumnsMatchTheServer checks every list against system.columns).
//
// Queries that belong to one stage alone (the aggregator's scoring, the
// explorer's aggregations) stay with that stage, built on these column
// lists; no SQL outside this package names a settlement state.
package tables
