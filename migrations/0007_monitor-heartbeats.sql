-- Up Migration
-- Why a sample that passed still counts as degraded: a certificate close to expiry.
ALTER TABLE monitor_samples ADD COLUMN warning text;

-- Push checks: the monitor registers each heartbeat of its checks file (the SHA-256 of the job's token, never the
-- token), and POST /v1/heartbeats/{name} records the beats.
CREATE TABLE monitor_heartbeats (
  name           text        PRIMARY KEY,
  token_hash     bytea       NOT NULL,
  registered_at  timestamptz NOT NULL,
  last_beat_at   timestamptz,
  beats          bigint      NOT NULL DEFAULT 0
);

-- Down Migration
DROP TABLE monitor_heartbeats;
ALTER TABLE monitor_samples DROP COLUMN warning;
