-- owner_daily and epoch_scores are no longer written at every INSERT into
-- readings (issue 26): migration 20 makes each a view of what already holds
-- it. A materialized view costs ClickHouse its GROUP BY and a part of its
-- own at every INSERT, and a one-second block holds about one reading of a
-- device, so these two wrote a row for nearly every reading: 0.4 and 0.6 to
-- 0.8 µs a reading of the server's CPU in the pipeline bench, with their
-- merges (docs/performance.md, "Two rollups become views").
--
-- owner_daily is device_hourly summed by day: the same readings, counted by
-- the same owner, since both were filled from readings at schema 3.
-- epoch_scores (valid readings per epoch, owner and device) is what
-- device_scores counts for every scored epoch, and readings hold the rest.
-- The tables keep what they hold under new names, fed no more.
DROP VIEW IF EXISTS owner_daily_mv;

DROP VIEW IF EXISTS epoch_scores_mv;

RENAME TABLE IF EXISTS owner_daily TO owner_daily_until_19;

RENAME TABLE IF EXISTS epoch_scores TO epoch_scores_until_19;
