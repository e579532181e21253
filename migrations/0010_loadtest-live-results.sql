-- Up Migration
-- A running shard's latest progress snapshot (lib/loadtest/live.ts): its totals so far, its whole-run latency
-- buckets and its last 15 seconds, replaced in place every few seconds, so a run holds one row per shard and
-- round however long it runs. The last snapshot of a finished shard is its final figures. Pruned with the
-- shard results, 24 h after the run finished.
CREATE TABLE loadtest_shard_progress (
  run_id      uuid        NOT NULL REFERENCES loadtest_runs (id) ON DELETE CASCADE,
  round       integer     NOT NULL CHECK (round >= 0),
  shard       integer     NOT NULL CHECK (shard >= 0),
  snapshot    jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, round, shard)
);

-- Which abort threshold stopped the run, what it measured and when (seconds into the run).
ALTER TABLE loadtest_runs
  ADD COLUMN abort_reason    jsonb,
  -- Every snapshot merged: written once per interval by the one shard whose turn it is (which also judges the
  -- abort thresholds), and by the Aggregate step from the final snapshots; what the API serves while it runs.
  ADD COLUMN live            jsonb,
  ADD COLUMN live_checked_at timestamptz;

-- Down Migration
ALTER TABLE loadtest_runs DROP COLUMN abort_reason, DROP COLUMN live, DROP COLUMN live_checked_at;
DROP TABLE loadtest_shard_progress;
