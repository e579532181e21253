-- Up Migration
-- Each check's samples and failed samples per UTC hour and per UTC day, held ones left out: what the status page's
-- uptime figures and availability SLOs add up, so that a month of a check is 30 days and a few hours instead of
-- 43,200 samples. The database keeps both exact: statement-level triggers on monitor_samples add what any INSERT
-- writes, take away what any DELETE (the batched prune) removes, move what any UPDATE changes, and empty them on
-- TRUNCATE. An hour or a day left with no samples has no row.
CREATE TABLE monitor_uptime_hourly (
  check_name  text        NOT NULL,
  hour        timestamptz NOT NULL,
  total       integer     NOT NULL,
  failed      integer     NOT NULL,
  PRIMARY KEY (check_name, hour)
);
-- `day` is the day's midnight, UTC.
CREATE TABLE monitor_uptime_daily (
  check_name  text        NOT NULL,
  day         timestamptz NOT NULL,
  total       integer     NOT NULL,
  failed      integer     NOT NULL,
  PRIMARY KEY (check_name, day)
);

-- Inserts write their rows in key order, so that concurrent writers of samples lock the rows they share in the same
-- order.
CREATE FUNCTION monitor_uptime_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH hours AS (
    SELECT check_name, date_trunc('hour', at, 'UTC') AS hour, count(*) AS total, count(*) FILTER (WHERE NOT ok) AS failed
      FROM added WHERE NOT held GROUP BY 1, 2
  ), hourly AS (
    INSERT INTO monitor_uptime_hourly AS u (check_name, hour, total, failed)
    SELECT * FROM hours ORDER BY 1, 2
    ON CONFLICT (check_name, hour) DO UPDATE SET total = u.total + EXCLUDED.total, failed = u.failed + EXCLUDED.failed
  )
  INSERT INTO monitor_uptime_daily AS d (check_name, day, total, failed)
  SELECT check_name, date_trunc('day', hour, 'UTC'), sum(total), sum(failed) FROM hours GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (check_name, day) DO UPDATE SET total = d.total + EXCLUDED.total, failed = d.failed + EXCLUDED.failed;
  RETURN NULL;
END
$$;

-- A prune removes whole hours at a time: a row whose every sample went is deleted, the others are lowered.
CREATE FUNCTION monitor_uptime_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH hours AS (
    SELECT check_name, date_trunc('hour', at, 'UTC') AS hour, count(*) AS total, count(*) FILTER (WHERE NOT ok) AS failed
      FROM removed WHERE NOT held GROUP BY 1, 2 ORDER BY 1, 2
  ), days AS (
    SELECT check_name, date_trunc('day', hour, 'UTC') AS day, sum(total) AS total, sum(failed) AS failed
      FROM hours GROUP BY 1, 2 ORDER BY 1, 2
  ), emptied_hours AS (
    DELETE FROM monitor_uptime_hourly u USING hours
     WHERE u.check_name = hours.check_name AND u.hour = hours.hour AND u.total = hours.total
  ), lowered_hours AS (
    UPDATE monitor_uptime_hourly u SET total = u.total - hours.total, failed = u.failed - hours.failed
      FROM hours WHERE u.check_name = hours.check_name AND u.hour = hours.hour AND u.total <> hours.total
  ), emptied_days AS (
    DELETE FROM monitor_uptime_daily d USING days
     WHERE d.check_name = days.check_name AND d.day = days.day AND d.total = days.total
  )
  UPDATE monitor_uptime_daily d SET total = d.total - days.total, failed = d.failed - days.failed
    FROM days WHERE d.check_name = days.check_name AND d.day = days.day AND d.total <> days.total;
  RETURN NULL;
END
$$;

-- An UPDATE may change a sample's time, check, outcome or hold: each hour and day gets its difference, new rows
-- counted and old ones taken away.
CREATE FUNCTION monitor_uptime_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH hours AS (
    SELECT check_name, hour, sum(total) AS total, sum(failed) AS failed
      FROM (SELECT check_name, date_trunc('hour', at, 'UTC') AS hour, 1 AS total, CASE WHEN ok THEN 0 ELSE 1 END AS failed
              FROM added WHERE NOT held
            UNION ALL
            SELECT check_name, date_trunc('hour', at, 'UTC'), -1, CASE WHEN ok THEN 0 ELSE -1 END
              FROM removed WHERE NOT held) change
     GROUP BY 1, 2 HAVING sum(total) <> 0 OR sum(failed) <> 0
  ), hourly AS (
    INSERT INTO monitor_uptime_hourly AS u (check_name, hour, total, failed)
    SELECT * FROM hours ORDER BY 1, 2
    ON CONFLICT (check_name, hour) DO UPDATE SET total = u.total + EXCLUDED.total, failed = u.failed + EXCLUDED.failed
  )
  INSERT INTO monitor_uptime_daily AS d (check_name, day, total, failed)
  SELECT check_name, date_trunc('day', hour, 'UTC'), sum(total), sum(failed) FROM hours
   GROUP BY 1, 2 HAVING sum(total) <> 0 OR sum(failed) <> 0 ORDER BY 1, 2
  ON CONFLICT (check_name, day) DO UPDATE SET total = d.total + EXCLUDED.total, failed = d.failed + EXCLUDED.failed;
  DELETE FROM monitor_uptime_hourly WHERE total = 0
     AND (check_name, hour) IN (SELECT check_name, date_trunc('hour', at, 'UTC') FROM removed WHERE NOT held);
  DELETE FROM monitor_uptime_daily WHERE total = 0
     AND (check_name, day) IN (SELECT check_name, date_trunc('day', at, 'UTC') FROM removed WHERE NOT held);
  RETURN NULL;
END
$$;

CREATE FUNCTION monitor_uptime_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE monitor_uptime_hourly, monitor_uptime_daily;
  RETURN NULL;
END
$$;

-- The triggers lock monitor_samples against writes until the backfill below commits (seconds at a month of samples):
-- fail fast rather than queue the monitor behind a long transaction.
SET LOCAL lock_timeout = '5s';
CREATE TRIGGER monitor_samples_uptime_insert AFTER INSERT ON monitor_samples
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_added();
CREATE TRIGGER monitor_samples_uptime_delete AFTER DELETE ON monitor_samples
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_removed();
CREATE TRIGGER monitor_samples_uptime_update AFTER UPDATE ON monitor_samples
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_changed();
CREATE TRIGGER monitor_samples_uptime_truncate AFTER TRUNCATE ON monitor_samples
  FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_emptied();

-- The samples already stored. The triggers exist first and lock out writers until this transaction commits, so no
-- sample is counted twice or missed.
INSERT INTO monitor_uptime_hourly (check_name, hour, total, failed)
SELECT check_name, date_trunc('hour', at, 'UTC'), count(*), count(*) FILTER (WHERE NOT ok)
  FROM monitor_samples WHERE NOT held GROUP BY 1, 2;
INSERT INTO monitor_uptime_daily (check_name, day, total, failed)
SELECT check_name, date_trunc('day', hour, 'UTC'), sum(total), sum(failed) FROM monitor_uptime_hourly GROUP BY 1, 2;

-- Down Migration
DROP TRIGGER monitor_samples_uptime_truncate ON monitor_samples;
DROP TRIGGER monitor_samples_uptime_update ON monitor_samples;
DROP TRIGGER monitor_samples_uptime_delete ON monitor_samples;
DROP TRIGGER monitor_samples_uptime_insert ON monitor_samples;
DROP FUNCTION monitor_uptime_emptied();
DROP FUNCTION monitor_uptime_changed();
DROP FUNCTION monitor_uptime_removed();
DROP FUNCTION monitor_uptime_added();
DROP TABLE monitor_uptime_daily;
DROP TABLE monitor_uptime_hourly;
