-- Up Migration
-- One outbox row per message and channel: each channel's delivery is recorded, retried with backoff and never
-- repeated once sent. Rows from before channels belong to the SNS channel.
ALTER TABLE alert_outbox ADD COLUMN channel text NOT NULL DEFAULT 'sns';
ALTER TABLE alert_outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_incident_id_kind_sequence_key;
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_message_channel UNIQUE (incident_id, kind, sequence, channel);

-- The objective's state as the monitor last computed it (budget left, burn rates), for /metrics and the status page.
ALTER TABLE monitor_check_states ADD COLUMN slo jsonb;

-- Down Migration
ALTER TABLE monitor_check_states DROP COLUMN slo;
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_message_channel;
DELETE FROM alert_outbox WHERE channel <> 'sns';
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_incident_id_kind_sequence_key UNIQUE (incident_id, kind, sequence);
ALTER TABLE alert_outbox DROP COLUMN next_attempt_at;
ALTER TABLE alert_outbox DROP COLUMN channel;
