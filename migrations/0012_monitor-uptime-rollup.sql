-- Up Migration
-- Each check's samples and failed samples per UTC hour, held ones left out: what the status page's uptime figures
-- and availability SLOs add up, so that a month of them is 720 rows per check instead of 43,200 samples. The
-- database keeps it exact: statement-level triggers on monitor_samples add what any INSERT writes, take away what
-- any DELETE (the batched prune) removes, move what any UPDATE changes, and empty it on TRUNCATE.
CREATE TABLE monitor_uptime_hourly (
  check_name  text        NOT NULL,
  hour        timestamptz NOT NULL,
  total       integer     NOT NULL,
  failed      integer     NOT NULL,
  PRIMARY KEY (check_name, hour)
);

-- Each function writes its hours in key order, so that concurrent writers lock the rows they share in the same
-- order; an hour left with no samples goes.
CREATE FUNCTION monitor_uptime_hourly_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO monitor_uptime_hourly AS u (check_name, hour, total, failed)
  SELECT check_name, date_trunc('hour', at, 'UTC'), count(*), count(*) FILTER (WHERE NOT ok)
    FROM added WHERE NOT held GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (check_name, hour) DO UPDATE SET total = u.total + EXCLUDED.total, failed = u.failed + EXCLUDED.failed;
  RETURN NULL;
END
$$;

-- A prune removes whole hours at a time: an hour whose every sample went is deleted, the others are lowered.
CREATE FUNCTION monitor_uptime_hourly_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH gone AS (
    SELECT check_name, date_trunc('hour', at, 'UTC') AS hour, count(*) AS total,
           count(*) FILTER (WHERE NOT ok) AS failed
      FROM removed WHERE NOT held GROUP BY 1, 2 ORDER BY 1, 2
  ), emptied AS (
    DELETE FROM monitor_uptime_hourly u USING gone
     WHERE u.check_name = gone.check_name AND u.hour = gone.hour AND u.total = gone.total
  )
  UPDATE monitor_uptime_hourly u SET total = u.total - gone.total, failed = u.failed - gone.failed
    FROM gone WHERE u.check_name = gone.check_name AND u.hour = gone.hour AND u.total <> gone.total;
  RETURN NULL;
END
$$;

-- An UPDATE may change a sample's hour, check, outcome or hold: each hour gets its difference, new rows counted and
-- old ones taken away.
CREATE FUNCTION monitor_uptime_hourly_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO monitor_uptime_hourly AS u (check_name, hour, total, failed)
  SELECT check_name, hour, sum(total), sum(failed)
    FROM (SELECT check_name, date_trunc('hour', at, 'UTC') AS hour, 1 AS total, CASE WHEN ok THEN 0 ELSE 1 END AS failed
            FROM added WHERE NOT held
          UNION ALL
          SELECT check_name, date_trunc('hour', at, 'UTC'), -1, CASE WHEN ok THEN 0 ELSE -1 END
            FROM removed WHERE NOT held) change
   GROUP BY 1, 2 HAVING sum(total) <> 0 OR sum(failed) <> 0 ORDER BY 1, 2
  ON CONFLICT (check_name, hour) DO UPDATE SET total = u.total + EXCLUDED.total, failed = u.failed + EXCLUDED.failed;
  DELETE FROM monitor_uptime_hourly u
   USING (SELECT DISTINCT check_name, date_trunc('hour', at, 'UTC') AS hour FROM removed WHERE NOT held) gone
   WHERE u.check_name = gone.check_name AND u.hour = gone.hour AND u.total = 0;
  RETURN NULL;
END
$$;

CREATE FUNCTION monitor_uptime_hourly_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE monitor_uptime_hourly;
  RETURN NULL;
END
$$;

CREATE TRIGGER monitor_samples_uptime_insert AFTER INSERT ON monitor_samples
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_hourly_added();
CREATE TRIGGER monitor_samples_uptime_delete AFTER DELETE ON monitor_samples
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_hourly_removed();
CREATE TRIGGER monitor_samples_uptime_update AFTER UPDATE ON monitor_samples
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_hourly_changed();
CREATE TRIGGER monitor_samples_uptime_truncate AFTER TRUNCATE ON monitor_samples
  FOR EACH STATEMENT EXECUTE FUNCTION monitor_uptime_hourly_emptied();

-- The samples already stored. The triggers exist first and lock out writers until this transaction commits, so no
-- sample is counted twice or missed.
INSERT INTO monitor_uptime_hourly (check_name, hour, total, failed)
SELECT check_name, date_trunc('hour', at, 'UTC'), count(*), count(*) FILTER (WHERE NOT ok)
  FROM monitor_samples WHERE NOT held GROUP BY 1, 2;

-- Down Migration
DROP TRIGGER monitor_samples_uptime_truncate ON monitor_samples;
DROP TRIGGER monitor_samples_uptime_update ON monitor_samples;
DROP TRIGGER monitor_samples_uptime_delete ON monitor_samples;
DROP TRIGGER monitor_samples_uptime_insert ON monitor_samples;
DROP FUNCTION monitor_uptime_hourly_emptied();
DROP FUNCTION monitor_uptime_hourly_changed();
DROP FUNCTION monitor_uptime_hourly_removed();
DROP FUNCTION monitor_uptime_hourly_added();
DROP TABLE monitor_uptime_hourly;
