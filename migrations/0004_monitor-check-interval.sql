-- Up Migration
-- The interval of the monitor that last ran each check: a check not probed for three of them is shown as stale.
-- Empty for rows written before it; readers then assume the default of 60 seconds.
ALTER TABLE monitor_check_states ADD COLUMN interval_seconds integer CHECK (interval_seconds > 0);

-- Down Migration
ALTER TABLE monitor_check_states DROP COLUMN interval_seconds;
