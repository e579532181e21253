-- Up Migration
-- Shard results as bucket counts: the scalar figures in `summary`, each histogram and the per-second timeline
-- deflated in bytea (lib/loadtest/histogram.ts), so the Aggregate step adds them without decoding HDR
-- histograms one by one. Rows written before keep `result` (the whole result as JSON) and still merge.
ALTER TABLE loadtest_shard_results
  ALTER COLUMN result DROP NOT NULL,
  ADD COLUMN summary             jsonb,
  ADD COLUMN latency             bytea,
  ADD COLUMN latency_uncorrected bytea,
  ADD COLUMN timeline            bytea,
  -- latency_uncorrected is NULL when it equals latency (the closed model measures once).
  ADD CONSTRAINT loadtest_shard_results_format CHECK (
    result IS NOT NULL OR (summary IS NOT NULL AND latency IS NOT NULL AND timeline IS NOT NULL)
  );
-- Already deflated: PostgreSQL's own compression would only cost time.
ALTER TABLE loadtest_shard_results
  ALTER COLUMN latency SET STORAGE EXTERNAL,
  ALTER COLUMN latency_uncorrected SET STORAGE EXTERNAL,
  ALTER COLUMN timeline SET STORAGE EXTERNAL;

-- Down Migration
DELETE FROM loadtest_shard_results WHERE result IS NULL;
ALTER TABLE loadtest_shard_results
  DROP CONSTRAINT loadtest_shard_results_format,
  DROP COLUMN summary,
  DROP COLUMN latency,
  DROP COLUMN latency_uncorrected,
  DROP COLUMN timeline,
  ALTER COLUMN result SET NOT NULL;
