-- Up Migration
-- One outbox row per message and channel: each channel's delivery is recorded, retried with backoff and never
-- repeated once sent. Rows from before channels belong to the SNS channel.
ALTER TABLE alert_outbox ADD COLUMN channel text NOT NULL DEFAULT 'sns';
ALTER TABLE alert_outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_incident_id_kind_sequence_key;
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_message_channel UNIQUE (incident_id, kind, sequence, channel);

-- Down Migration
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_message_channel;
DELETE FROM alert_outbox WHERE channel <> 'sns';
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_incident_id_kind_sequence_key UNIQUE (incident_id, kind, sequence);
ALTER TABLE alert_outbox DROP COLUMN next_attempt_at;
ALTER TABLE alert_outbox DROP COLUMN channel;
