-- Up Migration
-- The latency bounds the monitor judges (a check's latency objective) and, per check, bound and UTC hour, its
-- samples and bad samples (failed, or slower than the bound), held ones left out: what a latency objective's burn
-- windows and error budget add up, so that a month is 720 rows instead of 43,200 samples. The monitor registers the
-- bounds of the checks it loads (MonitorStore.registerLatencyBounds), which backfills a new bound's hours from the
-- samples already stored; from then on statement-level triggers on monitor_samples keep every registered bound's
-- hours exact, as monitor_uptime_hourly's are. An hour with no samples has no row.
CREATE TABLE monitor_latency_bounds (
  check_name    text             NOT NULL,
  bound_ms      double precision NOT NULL,
  registered_at timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (check_name, bound_ms)
);
-- The primary key starts with the foreign key's columns, so a dropped bound's cascade reads only its own rows.
CREATE TABLE monitor_latency_hourly (
  check_name  text             NOT NULL,
  bound_ms    double precision NOT NULL,
  hour        timestamptz      NOT NULL,
  total       integer          NOT NULL,
  bad         integer          NOT NULL,
  PRIMARY KEY (check_name, bound_ms, hour),
  FOREIGN KEY (check_name, bound_ms) REFERENCES monitor_latency_bounds ON DELETE CASCADE
);

-- Inserts write their rows in key order, so that concurrent writers of samples lock the rows they share in the same
-- order.
CREATE FUNCTION monitor_latency_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO monitor_latency_hourly AS h (check_name, bound_ms, hour, total, bad)
  SELECT a.check_name, b.bound_ms, date_trunc('hour', a.at, 'UTC'), count(*),
         count(*) FILTER (WHERE NOT a.ok OR a.latency_ms > b.bound_ms)
    FROM added a JOIN monitor_latency_bounds b ON b.check_name = a.check_name
   WHERE NOT a.held GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (check_name, bound_ms, hour) DO UPDATE SET total = h.total + EXCLUDED.total, bad = h.bad + EXCLUDED.bad;
  RETURN NULL;
END
$$;

-- A prune removes whole hours at a time: a row whose every sample went is deleted, the others are lowered.
CREATE FUNCTION monitor_latency_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH hours AS (
    SELECT r.check_name, b.bound_ms, date_trunc('hour', r.at, 'UTC') AS hour, count(*) AS total,
           count(*) FILTER (WHERE NOT r.ok OR r.latency_ms > b.bound_ms) AS bad
      FROM removed r JOIN monitor_latency_bounds b ON b.check_name = r.check_name
     WHERE NOT r.held GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ), emptied AS (
    DELETE FROM monitor_latency_hourly h USING hours
     WHERE h.check_name = hours.check_name AND h.bound_ms = hours.bound_ms AND h.hour = hours.hour
       AND h.total = hours.total
  )
  UPDATE monitor_latency_hourly h SET total = h.total - hours.total, bad = h.bad - hours.bad
    FROM hours WHERE h.check_name = hours.check_name AND h.bound_ms = hours.bound_ms AND h.hour = hours.hour
     AND h.total <> hours.total;
  RETURN NULL;
END
$$;

-- An UPDATE may change a sample's time, check, outcome, latency or hold: each hour gets its difference, new rows
-- counted and old ones taken away.
CREATE FUNCTION monitor_latency_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO monitor_latency_hourly AS h (check_name, bound_ms, hour, total, bad)
  SELECT check_name, bound_ms, hour, sum(total), sum(bad)
    FROM (SELECT a.check_name, b.bound_ms, date_trunc('hour', a.at, 'UTC') AS hour, 1 AS total,
                 CASE WHEN NOT a.ok OR a.latency_ms > b.bound_ms THEN 1 ELSE 0 END AS bad
            FROM added a JOIN monitor_latency_bounds b ON b.check_name = a.check_name WHERE NOT a.held
          UNION ALL
          SELECT r.check_name, b.bound_ms, date_trunc('hour', r.at, 'UTC'), -1,
                 CASE WHEN NOT r.ok OR r.latency_ms > b.bound_ms THEN -1 ELSE 0 END
            FROM removed r JOIN monitor_latency_bounds b ON b.check_name = r.check_name WHERE NOT r.held) change
   GROUP BY 1, 2, 3 HAVING sum(total) <> 0 OR sum(bad) <> 0 ORDER BY 1, 2, 3
  ON CONFLICT (check_name, bound_ms, hour) DO UPDATE SET total = h.total + EXCLUDED.total, bad = h.bad + EXCLUDED.bad;
  DELETE FROM monitor_latency_hourly WHERE total = 0
     AND (check_name, hour) IN (SELECT check_name, date_trunc('hour', at, 'UTC') FROM removed WHERE NOT held);
  RETURN NULL;
END
$$;

CREATE FUNCTION monitor_latency_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE monitor_latency_hourly;
  RETURN NULL;
END
$$;

-- No bound is registered yet, so there is nothing to backfill: the triggers only wait for writers in flight.
SET LOCAL lock_timeout = '5s';
CREATE TRIGGER monitor_samples_latency_insert AFTER INSERT ON monitor_samples
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION monitor_latency_added();
CREATE TRIGGER monitor_samples_latency_delete AFTER DELETE ON monitor_samples
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION monitor_latency_removed();
CREATE TRIGGER monitor_samples_latency_update AFTER UPDATE ON monitor_samples
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION monitor_latency_changed();
CREATE TRIGGER monitor_samples_latency_truncate AFTER TRUNCATE ON monitor_samples
  FOR EACH STATEMENT EXECUTE FUNCTION monitor_latency_emptied();

-- Down Migration
DROP TRIGGER monitor_samples_latency_truncate ON monitor_samples;
DROP TRIGGER monitor_samples_latency_update ON monitor_samples;
DROP TRIGGER monitor_samples_latency_delete ON monitor_samples;
DROP TRIGGER monitor_samples_latency_insert ON monitor_samples;
DROP FUNCTION monitor_latency_emptied();
DROP FUNCTION monitor_latency_changed();
DROP FUNCTION monitor_latency_removed();
DROP FUNCTION monitor_latency_added();
DROP TABLE monitor_latency_hourly;
DROP TABLE monitor_latency_bounds;
