-- Up Migration
-- Why a shard ended without a result (Step Functions' error and cause, trimmed): the report names the reason.
CREATE TABLE loadtest_shard_failures (
  run_id      uuid        NOT NULL REFERENCES loadtest_runs (id) ON DELETE CASCADE,
  round       integer     NOT NULL CHECK (round >= 0),
  shard       integer     NOT NULL CHECK (shard >= 0),
  error       text        NOT NULL,
  cause       text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, round, shard)
);

-- Down Migration
DROP TABLE loadtest_shard_failures;
