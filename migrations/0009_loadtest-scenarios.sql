-- Up Migration
-- Scenarios: every step's latency histogram of a shard (bucket lists one after another, deflated; its counters
-- are in `summary`), and a scenario's data feeder rows, stored once with the run and read by each shard as an
-- index range, so that no worker reads a file and no row travels through Step Functions.
ALTER TABLE loadtest_shard_results ADD COLUMN step_latency bytea;
ALTER TABLE loadtest_shard_results ALTER COLUMN step_latency SET STORAGE EXTERNAL;

CREATE TABLE loadtest_data_rows (
  run_id     uuid    NOT NULL REFERENCES loadtest_runs (id) ON DELETE CASCADE,
  row_index  integer NOT NULL CHECK (row_index >= 0),
  data       jsonb   NOT NULL,
  PRIMARY KEY (run_id, row_index)
);

-- Down Migration
DROP TABLE loadtest_data_rows;
ALTER TABLE loadtest_shard_results DROP COLUMN step_latency;
