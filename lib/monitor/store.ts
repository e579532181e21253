// The monitor's PostgreSQL side: samples, check states, incidents and the alert outbox, all its SQL in one place.

import { setTimeout } from 'node:timers/promises';
import type pg from 'pg';
import { PRIMARY_CHANNEL } from '../alerts/channels.ts';
import type { Notification } from '../alerts/sink.ts';
import { isLockNotAvailable } from '../db/errors.ts';
import type { Db } from '../db/pool.ts';
import {
  deleteInBatches,
  type PruneReport,
  RETENTION_DEFAULTS,
  type RetentionSettings,
} from '../db/retention.ts';
import { type HeartbeatRecord, heartbeatTokenMatches } from './heartbeat.ts';
import type { Sample } from './probe.ts';
import { type CheckState, isStale, type OpenIncident, type RecentSample } from './rules.ts';
import { DEFAULT_MONITOR_INTERVAL_SECONDS } from './settings.ts';
import type { SloState, WindowCounts } from './slo.ts';

export interface IncidentRecord {
  id: number;
  check: string;
  openedAt: string;
  resolvedAt: string | null;
  rules: string[];
  severity: string;
  summary: string;
  remindersSent: number;
}

/** A check's samples and failed samples on one UTC day. */
export interface DailyUptime {
  /** YYYY-MM-DD, UTC. */
  day: string;
  total: number;
  failed: number;
}

/** One probe as the API shows it. */
export interface SampleRecord {
  at: string;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  error: string | null;
}

export interface CheckStateRecord {
  check: string;
  state: 'OK' | 'ALARM';
  since: string;
  ruleStates: CheckState['ruleStates'];
  /** When the check was last probed (its newest sample), or null when it has none. */
  lastCheckedAt: string | null;
  /** Seconds between the cycles of the monitor that last ran it. */
  intervalSeconds: number;
  /** Not probed for STALE_AFTER_INTERVALS intervals: its state is old news, whatever it says. */
  stale: boolean;
  /** Its objective as the monitor last computed it; null for a check without one. */
  slo?: SloState | null;
  lastSample: SampleRecord | null;
}

export interface OutboxEntry {
  id: number;
  incidentId: number;
  /** The channel this row is delivered to. */
  channel: string;
  kind: 'raised' | 'resolved' | 'reminder';
  payload: Notification;
  attempts: number;
}

/** The locked state of one check inside a transaction, and what may be written back. */
export interface CheckTransaction {
  state: CheckState;
  incident: OpenIncident | null;
  openIncident(rules: string[], severity: string, summary: string, at: Date): Promise<number>;
  resolveIncident(id: number, at: Date): Promise<void>;
  enqueue(
    incidentId: number,
    kind: OutboxEntry['kind'],
    sequence: number,
    notification: Notification,
    /** The channels that announce this incident; a recovery or reminder goes where its announcement went. */
    channels: string[],
  ): Promise<void>;
  markNotified(id: number, at: Date, remindersSent?: number): Promise<void>;
}

type SampleRow = {
  at: Date;
  ok: boolean;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
};

const sampleRecord = (row: SampleRow): SampleRecord => ({
  at: row.at.toISOString(),
  ok: row.ok,
  status: row.status,
  latencyMs: row.latency_ms,
  error: row.error,
});

/** After this many failed publishes an outbox entry stops holding up the ones behind it. */
export const POISON_ATTEMPTS = 5;

/** Seconds before a failed delivery is tried again: doubling from 30 s, at most 30 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 1800);
}

/**
 * The checks and latency bounds last registered through each pool, so that they are registered once per pool: on
 * Lambda once per container, whose pool outlives the invocations' stores.
 */
const registeredLatencyBounds = new WeakMap<Db, string>();

/** Waits between the tries of the samples table's lock when registering bounds: five tries over 750 ms. */
const LOCK_RETRY_DELAYS_MS = [50, 100, 200, 400];

/** Runs `locked` until it gets its NOWAIT lock, waiting LOCK_RETRY_DELAYS_MS between tries; undefined if it never does. */
async function whenUnlocked<T>(locked: () => Promise<T>): Promise<T | undefined> {
  for (const delayMs of [...LOCK_RETRY_DELAYS_MS, undefined]) {
    try {
      return await locked();
    } catch (error) {
      if (!isLockNotAvailable(error)) throw error;
      if (delayMs === undefined) return undefined;
      await setTimeout(delayMs);
    }
  }
  return undefined;
}

export class MonitorStore {
  private readonly db: Db;
  private readonly retention: Pick<RetentionSettings, 'sampleBatchRows' | 'maxBatches'>;
  /** `retention`: how many samples one pruning statement deletes, and how many statements one prune runs. */
  constructor(
    db: Db,
    options: { retention?: Pick<RetentionSettings, 'sampleBatchRows' | 'maxBatches'> } = {},
  ) {
    this.db = db;
    this.retention = options.retention ?? RETENTION_DEFAULTS;
  }

  async insertSamples(samples: Sample[]): Promise<void> {
    if (samples.length === 0) return;
    await this.db.query(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, details, held, warning)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::boolean[], $4::int[], $5::float8[], $6::text[], $7::jsonb[], $8::boolean[], $9::text[])`,
      [
        samples.map((sample) => sample.key),
        samples.map((sample) => sample.at),
        samples.map((sample) => sample.ok),
        samples.map((sample) => sample.status),
        samples.map((sample) => sample.latencyMs),
        samples.map((sample) => sample.error),
        samples.map((sample) => (sample.details ? JSON.stringify(sample.details) : null)),
        samples.map((sample) => !!sample.held),
        samples.map((sample) => sample.warning ?? null),
      ],
    );
  }

  /** The newest `limit` samples of each check, newest first. */
  async recentSamples(keys: string[], limit: number): Promise<Map<string, RecentSample[]>> {
    const result = await this.db.query<RecentSample & { check_name: string }>(
      // One index range per check (monitor_samples_check_at), however long the history: a window over every
      // sample of the checks would read all of them to keep a few.
      `SELECT k.check_name, r.ok, r.latency_ms AS "latencyMs", r.error, r.warning, r.held
         FROM unnest($1::text[]) WITH ORDINALITY AS k (check_name, position)
        CROSS JOIN LATERAL (
          SELECT id, at, ok, latency_ms, error, warning, held FROM monitor_samples m
           WHERE m.check_name = k.check_name ORDER BY at DESC, id DESC LIMIT $2
        ) r
        ORDER BY k.position, r.at DESC, r.id DESC`,
      [keys, limit],
      { idempotent: true },
    );
    const byCheck = new Map<string, RecentSample[]>(keys.map((key) => [key, []]));
    for (const { check_name, ...sample } of result.rows) byCheck.get(check_name)?.push(sample);
    return byCheck;
  }

  /**
   * Samples and bad samples of a check over each window ending at `now` (seconds back), held ones left out: bad is
   * failed, or slower than `slowerThanMs` when given. What SLOs and uptime figures are computed from. Without a
   * latency bound the counts come from the uptime rollup (uptimeWindows). With one, in one statement: the whole UTC
   * hours of a window from monitor_latency_hourly and its partial first and last hour from the samples, so that a
   * 30-day window reads some 720 rows and two hours of samples. A bound not registered (registerLatencyBounds) has no
   * hours counted: its windows count every sample, decided in the same statement, so a bound registered or dropped
   * meanwhile is never read half-counted.
   */
  async windowCounts(
    key: string,
    now: Date,
    windowsSeconds: number[],
    slowerThanMs: number | null = null,
  ): Promise<Map<number, WindowCounts>> {
    if (slowerThanMs === null)
      return (await this.uptimeWindows([key], now, windowsSeconds)).get(key) ?? new Map();
    const result = await this.db.query<{ seconds: number; total: string; bad: string }>(
      // (start, now] splits into samples (start, first_hour), hours [first_hour, hours_to) and samples
      // [hours_to, now]; any part may be empty.
      `WITH registered AS (
         SELECT EXISTS (SELECT FROM monitor_latency_bounds WHERE check_name = $1 AND bound_ms = $4) AS counted
       ), windows AS (
         SELECT w.seconds, s.start, f.first_hour,
                greatest(date_trunc('hour', $2::timestamptz, 'UTC'), f.first_hour) AS hours_to
           FROM unnest($3::int[]) AS w(seconds)
          CROSS JOIN LATERAL (SELECT $2::timestamptz - make_interval(secs => w.seconds) AS start) s
          CROSS JOIN LATERAL (SELECT date_trunc('hour', s.start, 'UTC') + interval '1 hour' AS first_hour) f
       )
       SELECT w.seconds, counted.total, counted.bad
         FROM windows w
        CROSS JOIN LATERAL (
          SELECT COALESCE(sum(c.total), 0) AS total, COALESCE(sum(c.bad), 0) AS bad
            FROM (SELECT total, bad FROM monitor_latency_hourly h
                   WHERE (SELECT counted FROM registered) AND h.check_name = $1 AND h.bound_ms = $4
                     AND h.hour >= w.first_hour AND h.hour < w.hours_to
                  UNION ALL
                  SELECT 1, CASE WHEN NOT ok OR latency_ms > $4 THEN 1 ELSE 0 END FROM monitor_samples m
                   WHERE (SELECT counted FROM registered) AND m.check_name = $1 AND NOT m.held
                     AND m.at > w.start AND m.at < w.first_hour AND m.at <= $2
                  UNION ALL
                  SELECT 1, CASE WHEN NOT ok OR latency_ms > $4 THEN 1 ELSE 0 END FROM monitor_samples m
                   WHERE (SELECT counted FROM registered) AND m.check_name = $1 AND NOT m.held
                     AND m.at >= w.hours_to AND m.at <= $2
                  UNION ALL
                  SELECT 1, CASE WHEN NOT ok OR latency_ms > $4 THEN 1 ELSE 0 END FROM monitor_samples m
                   WHERE NOT (SELECT counted FROM registered) AND m.check_name = $1 AND NOT m.held
                     AND m.at > w.start AND m.at <= $2) c
        ) counted`,
      [key, now, windowsSeconds, slowerThanMs],
      { idempotent: true },
    );
    return new Map(
      result.rows.map((row) => [row.seconds, { total: Number(row.total), bad: Number(row.bad) }]),
    );
  }

  /**
   * Makes monitor_latency_hourly count each of `bounds` (a check's key and its latency objective's bound), and stop
   * counting any other bound of the checks in `keys`: what the monitor calls with the checks it loaded. A new
   * bound's hours are counted from the samples already stored in the transaction that registers it, with writers of
   * samples held off until it commits, so no sample is counted twice or missed. Returns how many bounds were added
   * and dropped; nothing is locked when every bound is already there. The lock is only taken when no writer holds
   * the table (NOWAIT, tried again after each of LOCK_RETRY_DELAYS_MS), so it never waits behind a long transaction on
   * the samples while every writer queues behind it. When the table stays busy the answer says `busy` and
   * nothing is registered: the next call tries again, and meanwhile those bounds' windows count their samples.
   */
  async registerLatencyBounds(
    keys: string[],
    bounds: Array<{ key: string; boundMs: number }>,
  ): Promise<{ registered: number; dropped: number; busy?: true }> {
    const wanted = [
      ...new Map(bounds.map((bound) => [`${bound.key}\u0000${bound.boundMs}`, bound])).values(),
    ].sort((a, b) => (a.key === b.key ? a.boundMs - b.boundMs : a.key < b.key ? -1 : 1));
    const signature = JSON.stringify([[...keys].sort(), wanted]);
    if (registeredLatencyBounds.get(this.db) === signature) return { registered: 0, dropped: 0 };
    const params = [keys, wanted.map((bound) => bound.key), wanted.map((bound) => bound.boundMs)];
    const wantedSql = `SELECT * FROM unnest($2::text[], $3::float8[]) AS w(check_name, bound_ms)`;
    const stale = `b.check_name = ANY($1::text[]) AND (b.check_name, b.bound_ms) NOT IN (${wantedSql})`;
    const found = await this.db.query<{ missing: string; stale: string }>(
      `SELECT (SELECT count(*) FROM (${wantedSql}) w
                WHERE NOT EXISTS (SELECT FROM monitor_latency_bounds b
                                   WHERE b.check_name = w.check_name AND b.bound_ms = w.bound_ms)) AS missing,
              (SELECT count(*) FROM monitor_latency_bounds b WHERE ${stale}) AS stale`,
      params,
      { idempotent: true },
    );
    let changed = { registered: 0, dropped: 0 };
    if (Number(found.rows[0]?.missing) > 0 || Number(found.rows[0]?.stale) > 0) {
      const locked = await whenUnlocked(() => this.registerLocked(stale, wantedSql, params));
      if (!locked) return { registered: 0, dropped: 0, busy: true };
      changed = locked;
    }
    registeredLatencyBounds.set(this.db, signature);
    return changed;
  }

  private registerLocked(
    stale: string,
    wantedSql: string,
    params: unknown[],
  ): Promise<{ registered: number; dropped: number }> {
    return this.db.transaction(async (client) => {
      // SHARE holds off new writers of samples until the commit, and NOWAIT takes it only when none is in flight:
      // the backfill's snapshot then holds every sample, and every later write's trigger sees the new bound.
      await client.query('LOCK TABLE monitor_samples IN SHARE MODE NOWAIT');
      const result = await client.query<{ registered: string; dropped: string }>(
        `WITH dropped AS (
             DELETE FROM monitor_latency_bounds b WHERE ${stale} RETURNING 1
           ), registered AS (
             INSERT INTO monitor_latency_bounds (check_name, bound_ms)
             ${wantedSql} ORDER BY 1, 2
             ON CONFLICT DO NOTHING RETURNING check_name, bound_ms
           ), backfilled AS (
             INSERT INTO monitor_latency_hourly (check_name, bound_ms, hour, total, bad)
             SELECT r.check_name, r.bound_ms, date_trunc('hour', m.at, 'UTC'), count(*),
                    count(*) FILTER (WHERE NOT m.ok OR m.latency_ms > r.bound_ms)
               FROM registered r JOIN monitor_samples m ON m.check_name = r.check_name AND NOT m.held
              GROUP BY 1, 2, 3
           )
           SELECT (SELECT count(*) FROM registered) AS registered, (SELECT count(*) FROM dropped) AS dropped`,
        params,
      );
      return {
        registered: Number(result.rows[0]?.registered),
        dropped: Number(result.rows[0]?.dropped),
      };
    });
  }

  /**
   * Each check's samples and failed samples (held ones left out) over each window ending at `now`, in one
   * statement: the whole UTC days inside a window from monitor_uptime_daily, the whole hours around them from
   * monitor_uptime_hourly, and its partial first and last hour from the samples, so the counts equal a count of the
   * samples themselves while a 30-day window reads some 75 rows and two hours of samples.
   */
  async uptimeWindows(
    keys: string[],
    now: Date,
    windowsSeconds: number[],
  ): Promise<Map<string, Map<number, WindowCounts>>> {
    const result = await this.db.query<{ check_name: string; seconds: number; total: string; bad: string }>(
      // (start, now] splits into samples (start, first_hour), hours [first_hour, days_from), days [days_from,
      // days_to), hours [days_to, hours_to) and samples [hours_to, now]; any part may be empty.
      `WITH windows AS (
         SELECT k.check_name, w.seconds, s.start, f.first_hour, h.hours_to, d.days_from,
                greatest(date_trunc('day', h.hours_to, 'UTC'), d.days_from) AS days_to
           FROM unnest($1::text[]) AS k(check_name)
          CROSS JOIN unnest($3::int[]) AS w(seconds)
          CROSS JOIN LATERAL (SELECT $2::timestamptz - make_interval(secs => w.seconds) AS start) s
          CROSS JOIN LATERAL (SELECT date_trunc('hour', s.start, 'UTC') + interval '1 hour' AS first_hour) f
          CROSS JOIN LATERAL (SELECT greatest(date_trunc('hour', $2::timestamptz, 'UTC'), f.first_hour) AS hours_to) h
          CROSS JOIN LATERAL (
            SELECT least(date_trunc('day', f.first_hour + interval '23 hours', 'UTC'), h.hours_to) AS days_from
          ) d
       )
       SELECT w.check_name, w.seconds, counted.total, counted.failed AS bad
         FROM windows w
        CROSS JOIN LATERAL (
          SELECT COALESCE(sum(c.total), 0) AS total, COALESCE(sum(c.failed), 0) AS failed
            FROM (SELECT total, failed FROM monitor_uptime_daily d
                   WHERE d.check_name = w.check_name AND d.day >= w.days_from AND d.day < w.days_to
                  UNION ALL
                  SELECT total, failed FROM monitor_uptime_hourly u
                   WHERE u.check_name = w.check_name AND u.hour >= w.first_hour AND u.hour < w.days_from
                  UNION ALL
                  SELECT total, failed FROM monitor_uptime_hourly u
                   WHERE u.check_name = w.check_name AND u.hour >= w.days_to AND u.hour < w.hours_to
                  UNION ALL
                  SELECT 1, CASE WHEN ok THEN 0 ELSE 1 END FROM monitor_samples m
                   WHERE m.check_name = w.check_name AND NOT m.held AND m.at > w.start AND m.at < w.first_hour
                     AND m.at <= $2
                  UNION ALL
                  SELECT 1, CASE WHEN ok THEN 0 ELSE 1 END FROM monitor_samples m
                   WHERE m.check_name = w.check_name AND NOT m.held AND m.at >= w.hours_to AND m.at <= $2) c
        ) counted`,
      [keys, now, windowsSeconds],
      { idempotent: true },
    );
    const byCheck = new Map<string, Map<number, WindowCounts>>(keys.map((key) => [key, new Map()]));
    for (const row of result.rows)
      byCheck.get(row.check_name)?.set(row.seconds, { total: Number(row.total), bad: Number(row.bad) });
    return byCheck;
  }

  /**
   * Each check's latencies of the samples that passed since `since`, counted into cumulative buckets (`bounds` in
   * ms, ascending; the last bucket is +Inf), with their count and sum: the histogram /metrics exposes.
   */
  async latencyHistograms(
    since: Date,
    bounds: number[],
  ): Promise<Map<string, { buckets: number[]; count: number; sumMs: number }>> {
    const result = await this.db.query<{
      check_name: string;
      buckets: string[];
      count: string;
      sum: number | null;
    }>(
      `SELECT check_name, array_agg(below ORDER BY bound) AS buckets, max(total) AS count, max(total_ms) AS sum
         FROM (SELECT s.check_name, b.bound, count(*) FILTER (WHERE s.latency_ms <= b.bound) AS below,
                      count(*) AS total, sum(s.latency_ms) AS total_ms
                 FROM monitor_samples s CROSS JOIN unnest($2::float8[]) AS b(bound)
                WHERE s.at >= $1 AND s.ok AND s.latency_ms IS NOT NULL
                GROUP BY s.check_name, b.bound) counted
        GROUP BY check_name`,
      [since, bounds],
      { idempotent: true },
    );
    return new Map(
      result.rows.map((row) => [
        row.check_name,
        { buckets: row.buckets.map(Number), count: Number(row.count), sumMs: row.sum ?? 0 },
      ]),
    );
  }

  /**
   * Each check's samples and failed samples per UTC day, for the `days` days up to `now` (held ones left out): the
   * days before today from monitor_uptime_daily, today's hours before the current one from monitor_uptime_hourly,
   * the current hour from the samples.
   */
  async dailyUptime(keys: string[], now: Date, days: number): Promise<Map<string, DailyUptime[]>> {
    const result = await this.db.query<{ check_name: string; day: string; total: string; failed: string }>(
      `WITH bounds AS (
         SELECT (date_trunc('day', $2::timestamptz AT TIME ZONE 'UTC') - make_interval(days => $3 - 1))
                  AT TIME ZONE 'UTC' AS first_day,
                date_trunc('day', $2::timestamptz, 'UTC') AS today,
                date_trunc('hour', $2::timestamptz, 'UTC') AS current_hour
       )
       SELECT k.check_name, to_char(c.day AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
              sum(c.total) AS total, sum(c.failed) AS failed
         FROM unnest($1::text[]) AS k(check_name) CROSS JOIN bounds b
        CROSS JOIN LATERAL (
          SELECT d.day, d.total, d.failed FROM monitor_uptime_daily d
           WHERE d.check_name = k.check_name AND d.day >= b.first_day AND d.day < b.today
          UNION ALL
          SELECT b.today, u.total, u.failed FROM monitor_uptime_hourly u
           WHERE u.check_name = k.check_name AND u.hour >= b.today AND u.hour < b.current_hour
          UNION ALL
          SELECT b.today, 1, CASE WHEN m.ok THEN 0 ELSE 1 END FROM monitor_samples m
           WHERE m.check_name = k.check_name AND NOT m.held AND m.at >= b.current_hour AND m.at <= $2
        ) c
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [keys, now, days],
      { idempotent: true },
    );
    const byCheck = new Map<string, DailyUptime[]>();
    for (const row of result.rows) {
      const list = byCheck.get(row.check_name) ?? [];
      list.push({ day: row.day, total: Number(row.total), failed: Number(row.failed) });
      byCheck.set(row.check_name, list);
    }
    return byCheck;
  }

  /** When each check was last probed; a check never probed (or pruned away) is absent. */
  async lastSampleTimes(keys: string[]): Promise<Map<string, Date>> {
    const result = await this.db.query<{ check_name: string; at: Date }>(
      `SELECT check_name, max(at) AS at FROM monitor_samples WHERE check_name = ANY($1::text[]) GROUP BY check_name`,
      [keys],
      { idempotent: true },
    );
    return new Map(result.rows.map((row) => [row.check_name, row.at]));
  }

  /**
   * Each dependency's open incident and whether its newest sample failed: what its dependants' failures join.
   */
  async dependencyStates(
    keys: string[],
  ): Promise<Map<string, { incidentId: number | null; failing: boolean }>> {
    const result = await this.db.query<{
      check_name: string;
      incident_id: string | null;
      ok: boolean | null;
    }>(
      `SELECT k.check_name, i.id AS incident_id, l.ok
         FROM unnest($1::text[]) AS k(check_name)
         LEFT JOIN monitor_incidents i ON i.check_name = k.check_name AND i.resolved_at IS NULL
         LEFT JOIN LATERAL (
           SELECT ok FROM monitor_samples m WHERE m.check_name = k.check_name ORDER BY at DESC, id DESC LIMIT 1
         ) l ON true`,
      [keys],
      { idempotent: true },
    );
    return new Map(
      result.rows.map((row) => [
        row.check_name,
        { incidentId: row.incident_id === null ? null : Number(row.incident_id), failing: row.ok === false },
      ]),
    );
  }

  /**
   * Registers the heartbeats of the checks file (a changed token replaces the old one) and returns each one's last
   * beat. A heartbeat first registered at `now` is late from `now` on.
   */
  async syncHeartbeats(
    heartbeats: Array<{ name: string; tokenSha256: string }>,
    now: Date,
  ): Promise<Map<string, HeartbeatRecord>> {
    if (heartbeats.length === 0) return new Map();
    const result = await this.db.query<{ name: string; registered_at: Date; last_beat_at: Date | null }>(
      `INSERT INTO monitor_heartbeats (name, token_hash, registered_at)
       SELECT name, decode(hash, 'hex'), $3 FROM unnest($1::text[], $2::text[]) AS h(name, hash)
       ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash
       RETURNING name, registered_at, last_beat_at`,
      [heartbeats.map((item) => item.name), heartbeats.map((item) => item.tokenSha256), now],
    );
    return new Map(
      result.rows.map((row) => [row.name, { lastBeatAt: row.last_beat_at, registeredAt: row.registered_at }]),
    );
  }

  /**
   * Records a beat of the named heartbeat at `at` when `token` is its token (compared in constant time with the
   * stored hash); false for an unknown name or a wrong token, which record nothing.
   */
  async recordBeat(name: string, token: string, at: Date): Promise<boolean> {
    const found = await this.db.query<{ token_hash: Buffer }>(
      `SELECT token_hash FROM monitor_heartbeats WHERE name = $1`,
      [name],
      { idempotent: true },
    );
    const stored = found.rows[0]?.token_hash;
    if (!stored || !heartbeatTokenMatches(token, stored)) return false;
    await this.db.query(
      `UPDATE monitor_heartbeats SET last_beat_at = GREATEST(last_beat_at, $2), beats = beats + 1 WHERE name = $1`,
      [name, at],
    );
    return true;
  }

  /** Runs fn with the check's state row locked, so concurrent monitors never raise the same incident twice. */
  async withCheck<T>(
    key: string,
    run: { now: Date; intervalSeconds: number; slo?: SloState | null },
    fn: (tx: CheckTransaction) => Promise<{ state: CheckState; result: T }>,
  ): Promise<T> {
    const { now } = run;
    return this.db.transaction(async (client: pg.PoolClient) => {
      // A new check is OK since the monitor first saw it (on the monitor's clock, not the database's).
      await client.query(
        `INSERT INTO monitor_check_states (check_name, since) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [key, now],
      );
      const stateRow = await client.query<CheckState>(
        `SELECT state, since, rule_states AS "ruleStates", healthy_streak AS "healthyStreak", transitions
           FROM monitor_check_states WHERE check_name = $1 FOR UPDATE`,
        [key],
      );
      const checkState = stateRow.rows[0];
      if (!checkState) throw new Error(`no state row for check ${key}`);
      const incidentRow = await client.query<Omit<OpenIncident, 'id'> & { id: string }>(
        `SELECT id, last_notified_at AS "lastNotifiedAt", reminders_sent AS "remindersSent"
           FROM monitor_incidents WHERE check_name = $1 AND resolved_at IS NULL`,
        [key],
      );
      const open = incidentRow.rows[0];
      const tx: CheckTransaction = {
        state: checkState,
        incident: open ? { ...open, id: Number(open.id) } : null,
        async openIncident(rules, severity, summary, at) {
          const inserted = await client.query<{ id: string }>(
            `INSERT INTO monitor_incidents (check_name, opened_at, rules, severity, summary, last_notified_at)
             VALUES ($1, $2, $3, $4, $5, $2) RETURNING id`,
            [key, at, rules, severity, summary],
          );
          return Number(inserted.rows[0]?.id);
        },
        async resolveIncident(id, at) {
          await client.query(`UPDATE monitor_incidents SET resolved_at = $2 WHERE id = $1`, [id, at]);
        },
        async enqueue(incidentId, kind, sequence, notification, channels) {
          await client.query(
            `INSERT INTO alert_outbox (incident_id, kind, sequence, payload, channel)
             SELECT $1, $2, $3, $4, channel FROM unnest(
               CASE WHEN $2 = 'raised' THEN $5::text[]
                    ELSE COALESCE(
                      (SELECT array_agg(DISTINCT channel) FROM alert_outbox WHERE incident_id = $1 AND kind = 'raised'),
                      $5::text[])
               END) AS c(channel)
             ON CONFLICT (incident_id, kind, sequence, channel) DO NOTHING`,
            [incidentId, kind, sequence, JSON.stringify(notification), channels],
          );
        },
        async markNotified(id, at, remindersSent) {
          await client.query(
            `UPDATE monitor_incidents SET last_notified_at = $2, reminders_sent = COALESCE($3, reminders_sent) WHERE id = $1`,
            [id, at, remindersSent ?? null],
          );
        },
      };
      const { state, result } = await fn(tx);
      await client.query(
        `UPDATE monitor_check_states
            SET state = $2, since = $3, rule_states = $4, healthy_streak = $5, transitions = $6, updated_at = now(),
                interval_seconds = $7, slo = $8
          WHERE check_name = $1`,
        [
          key,
          state.state,
          state.since,
          JSON.stringify(state.ruleStates),
          state.healthyStreak,
          JSON.stringify(state.transitions),
          run.intervalSeconds,
          run.slo ? JSON.stringify(run.slo) : null,
        ],
      );
      return result;
    });
  }

  /**
   * Sends undelivered notifications that are due at `now`, oldest first, each row (a message for one channel) locked
   * so two monitors never send the same one. A failure puts the row off by retryDelaySeconds and stops that channel's
   * round and its later rows until then (its endpoint is likely down for all), except for a row that has failed POISON_ATTEMPTS times: it moves to
   * the back, so one message a channel rejects cannot block the others. Rows of channels not in `channels` wait.
   */
  async deliverPending(
    limit: number,
    send: (entry: OutboxEntry) => Promise<void>,
    { now = new Date(), channels = [PRIMARY_CHANNEL] }: { now?: Date; channels?: string[] } = {},
  ): Promise<{ sent: number; failed: number; error?: string }> {
    const queued = await this.db.query<{ id: string; channel: string }>(
      `SELECT id, channel FROM alert_outbox
        WHERE sent_at IS NULL AND channel = ANY($3::text[]) AND (next_attempt_at IS NULL OR next_attempt_at <= $4)
          -- A channel backing off sends nothing, so that no message overtakes an earlier one it failed to send.
          AND channel NOT IN (SELECT channel FROM alert_outbox
                               WHERE sent_at IS NULL AND attempts < $1 AND next_attempt_at > $4)
        ORDER BY attempts >= $1, id LIMIT $2`,
      [POISON_ATTEMPTS, limit, channels, now],
    );
    let sent = 0;
    let failed = 0;
    let lastError: string | undefined;
    const stopped = new Set<string>();
    for (const { id, channel } of queued.rows) {
      if (stopped.has(channel)) continue;
      const outcome = await this.db.transaction(async (client) => {
        const locked = await client.query<
          Pick<OutboxEntry, 'kind' | 'payload' | 'attempts'> & { incidentId: string }
        >(
          `SELECT incident_id AS "incidentId", kind, payload, attempts FROM alert_outbox
            WHERE id = $1 AND sent_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $2)
              FOR UPDATE SKIP LOCKED`,
          [id, now],
        );
        const row = locked.rows[0];
        if (!row) return { kind: 'skipped' as const };
        try {
          await send({ ...row, id: Number(id), incidentId: Number(row.incidentId), channel });
        } catch (error) {
          const message = (error as Error)?.message ?? String(error);
          await client.query(
            `UPDATE alert_outbox SET attempts = attempts + 1, last_error = $2,
                    next_attempt_at = $3::timestamptz + make_interval(secs => $4) WHERE id = $1`,
            [id, message.slice(0, 1000), now, retryDelaySeconds(row.attempts + 1)],
          );
          return { kind: 'failed' as const, message, poison: row.attempts + 1 >= POISON_ATTEMPTS };
        }
        await client.query(
          `UPDATE alert_outbox SET attempts = attempts + 1, sent_at = now(), last_error = NULL WHERE id = $1`,
          [id],
        );
        return { kind: 'sent' as const };
      });
      if (outcome.kind === 'sent') sent++;
      if (outcome.kind === 'failed') {
        failed++;
        lastError = outcome.message;
        if (!outcome.poison) stopped.add(channel);
      }
    }
    return lastError === undefined ? { sent, failed } : { sent, failed, error: lastError };
  }

  async pendingCount(): Promise<number> {
    const result = await this.db.query<{ count: string }>(
      `SELECT count(*) AS count FROM alert_outbox WHERE sent_at IS NULL`,
      [],
      { idempotent: true },
    );
    return Number(result.rows[0]?.count ?? 0);
  }

  /**
   * Deletes samples older than the retention, counted back from `now` (the monitor's clock), oldest first and a
   * bounded batch per statement: a month's backlog never becomes one statement holding its locks for seconds.
   */
  async prune(retentionDays: number, now: Date): Promise<PruneReport> {
    return deleteInBatches(
      this.db,
      `DELETE FROM monitor_samples WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM monitor_samples WHERE at < $2::timestamptz - make_interval(days => $1) ORDER BY at LIMIT $3))`,
      [retentionDays, now],
      { batchRows: this.retention.sampleBatchRows, maxBatches: this.retention.maxBatches },
    );
  }

  /** Every check's state and newest sample, and whether it is stale at `now`. */
  async checkStates(now = new Date()): Promise<CheckStateRecord[]> {
    // The newest sample's columns are all null for a check without one.
    const result = await this.db.query<
      Omit<SampleRow, 'at'> & {
        check_name: string;
        state: 'OK' | 'ALARM';
        since: Date;
        rule_states: CheckState['ruleStates'];
        interval_seconds: number | null;
        at: Date | null;
        slo: SloState | null;
      }
    >(
      `SELECT s.check_name, s.state, s.since, s.rule_states, s.interval_seconds, s.slo,
              l.at, l.ok, l.status, l.latency_ms, l.error
         FROM monitor_check_states s
         LEFT JOIN LATERAL (
           SELECT at, ok, status, latency_ms, error FROM monitor_samples m
            WHERE m.check_name = s.check_name ORDER BY at DESC LIMIT 1
         ) l ON true
        ORDER BY s.check_name`,
      [],
      // What the API shows: a replica's moment of lag is fine.
      { idempotent: true, replica: true },
    );
    return result.rows.map((row) => ({
      check: row.check_name,
      state: row.state,
      since: row.since.toISOString(),
      ruleStates: row.rule_states,
      lastCheckedAt: row.at?.toISOString() ?? null,
      intervalSeconds: row.interval_seconds ?? DEFAULT_MONITOR_INTERVAL_SECONDS,
      stale: isStale(row.at, row.interval_seconds ?? DEFAULT_MONITOR_INTERVAL_SECONDS, now),
      slo: row.slo,
      lastSample: row.at === null ? null : sampleRecord({ ...row, at: row.at }),
    }));
  }

  async incidents(state: 'firing' | 'resolved' | 'all', limit: number): Promise<IncidentRecord[]> {
    const result = await this.db.query<
      Omit<IncidentRecord, 'id' | 'openedAt' | 'resolvedAt'> & {
        id: string;
        openedAt: Date;
        resolvedAt: Date | null;
      }
    >(
      `SELECT id, check_name AS "check", opened_at AS "openedAt", resolved_at AS "resolvedAt", rules, severity, summary,
              reminders_sent AS "remindersSent"
         FROM monitor_incidents
        WHERE ($1 = 'all') OR ($1 = 'firing' AND resolved_at IS NULL) OR ($1 = 'resolved' AND resolved_at IS NOT NULL)
        ORDER BY opened_at DESC LIMIT $2`,
      [state, limit],
      // What the API shows: a replica's moment of lag is fine.
      { idempotent: true, replica: true },
    );
    return result.rows.map((row) => ({
      ...row,
      id: Number(row.id),
      openedAt: row.openedAt.toISOString(),
      resolvedAt: row.resolvedAt?.toISOString() ?? null,
    }));
  }

  async samples(key: string, since: Date, limit: number): Promise<SampleRecord[]> {
    return (await this.samplesOf([key], since, limit)).get(key) ?? [];
  }

  /**
   * Each check's samples since `since`, newest first, at most `limit` each: one statement for every check (one
   * index range each on monitor_samples_check_at), not a round trip per check.
   */
  async samplesOf(keys: string[], since: Date, limit: number): Promise<Map<string, SampleRecord[]>> {
    const result = await this.db.query<SampleRow & { check_name: string }>(
      `SELECT k.check_name, r.at, r.ok, r.status, r.latency_ms, r.error
         FROM unnest($1::text[]) WITH ORDINALITY AS k (check_name, position)
        CROSS JOIN LATERAL (
          SELECT at, ok, status, latency_ms, error FROM monitor_samples m
           WHERE m.check_name = k.check_name AND at >= $2 ORDER BY at DESC LIMIT $3
        ) r
        ORDER BY k.position, r.at DESC`,
      [keys, since, limit],
      // What the API shows: a replica's moment of lag is fine.
      { idempotent: true, replica: true },
    );
    const byCheck = new Map<string, SampleRecord[]>(keys.map((key) => [key, []]));
    for (const row of result.rows) byCheck.get(row.check_name)?.push(sampleRecord(row));
    return byCheck;
  }
}
