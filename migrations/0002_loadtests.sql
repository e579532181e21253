-- Up Migration
-- A load-test run: its validated options, its plan, its state and, once aggregated, its report.
CREATE TABLE loadtest_runs (
  id               uuid        PRIMARY KEY,
  status           text        NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'passed', 'failed', 'aborted', 'error')),
  target           text        NOT NULL,
  options          jsonb       NOT NULL,
  plan             jsonb,
  execution_arn    text,
  abort_requested  boolean     NOT NULL DEFAULT false,
  -- Touched by running shards: the monitor holds a target's alerts only while its run shows signs of life.
  heartbeat_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  report           json,   -- json, not jsonb: the report keeps its key order
  error            text
);
CREATE INDEX loadtest_runs_created_at ON loadtest_runs (created_at DESC);
CREATE INDEX loadtest_runs_active ON loadtest_runs (target) WHERE status IN ('pending', 'running');

-- One row per (run, round, shard): a retried shard replaces its row, so nothing is counted twice.
CREATE TABLE loadtest_shard_results (
  run_id      uuid        NOT NULL REFERENCES loadtest_runs (id) ON DELETE CASCADE,
  round       integer     NOT NULL CHECK (round >= 0),
  shard       integer     NOT NULL CHECK (shard >= 0),
  attempts    integer     NOT NULL DEFAULT 1,
  result      jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, round, shard)
);

-- Down Migration
DROP TABLE loadtest_shard_results;
DROP TABLE loadtest_runs;
