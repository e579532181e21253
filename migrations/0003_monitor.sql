-- Up Migration
-- One row per probe of a check: the monitor's history, pruned after MONITOR_RETENTION_DAYS.
CREATE TABLE monitor_samples (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  check_name  text        NOT NULL,
  at          timestamptz NOT NULL,
  ok          boolean     NOT NULL,
  status      integer,
  latency_ms  double precision,
  error       text,
  details     jsonb,
  -- Taken during a maintenance window or a load test: kept for history, left out of the alert rules.
  held        boolean     NOT NULL DEFAULT false
);
CREATE INDEX monitor_samples_check_at ON monitor_samples (check_name, at DESC);
CREATE INDEX monitor_samples_at ON monitor_samples (at);

-- The current state of each check, and of each of its rules (OK or ALARM), carried from cycle to cycle.
CREATE TABLE monitor_check_states (
  check_name      text        PRIMARY KEY,
  state           text        NOT NULL DEFAULT 'OK' CHECK (state IN ('OK', 'ALARM')),
  since           timestamptz NOT NULL DEFAULT now(),
  rule_states     jsonb       NOT NULL DEFAULT '{}',
  healthy_streak  integer     NOT NULL DEFAULT 0,
  transitions     jsonb       NOT NULL DEFAULT '[]',
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- An incident: one per check from ALARM until recovery, whichever rules fired.
CREATE TABLE monitor_incidents (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  check_name        text        NOT NULL,
  opened_at         timestamptz NOT NULL,
  resolved_at       timestamptz,
  rules             text[]      NOT NULL,
  severity          text        NOT NULL,
  summary           text        NOT NULL,
  last_notified_at  timestamptz,
  reminders_sent    integer     NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX monitor_incidents_open ON monitor_incidents (check_name) WHERE resolved_at IS NULL;
CREATE INDEX monitor_incidents_opened ON monitor_incidents (opened_at DESC);

-- Notifications waiting for delivery. The unique key makes each transition's message exist once;
-- a failed publish stays here and is retried on the next cycle.
CREATE TABLE alert_outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id   bigint      NOT NULL REFERENCES monitor_incidents (id) ON DELETE CASCADE,
  kind          text        NOT NULL CHECK (kind IN ('raised', 'resolved', 'reminder')),
  sequence      integer     NOT NULL DEFAULT 0,
  payload       jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz,
  attempts      integer     NOT NULL DEFAULT 0,
  last_error    text,
  UNIQUE (incident_id, kind, sequence)
);
CREATE INDEX alert_outbox_pending ON alert_outbox (created_at) WHERE sent_at IS NULL;

-- Down Migration
DROP TABLE alert_outbox;
DROP TABLE monitor_incidents;
DROP TABLE monitor_check_states;
DROP TABLE monitor_samples;
