-- Up Migration
-- What retention deletes in bounded batches, found by index instead of a scan of a table that grows for months.
-- Shard rows are written before their run finishes, so every row a prune may delete has updated_at before the
-- cut-off: the range holds only the expired rows, however many have been pruned before. (Shard failures are
-- few, a row per failed shard: a scan of them costs less than an index would.)
CREATE INDEX loadtest_shard_results_updated_at ON loadtest_shard_results (updated_at);
-- Finished runs by age, for LOADTEST_RUN_RETENTION_DAYS; runs in progress are never pruned.
CREATE INDEX loadtest_runs_finished_at ON loadtest_runs (finished_at)
  WHERE status NOT IN ('pending', 'running');

-- Down Migration
DROP INDEX loadtest_runs_finished_at;
DROP INDEX loadtest_shard_results_updated_at;
