import { beforeAll, describe, expect, it } from 'vitest';
import { RETENTION_DEFAULTS } from '../../lib/db/retention.ts';
import type { Sample } from '../../lib/monitor/probe.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { revertAndReapply, writeWhilePruning } from '../support/sample-rollups.ts';

const ROLLUP_MIGRATION = '0012_monitor-uptime-rollup';
/** Not on an hour, a minute or a second: every window has a partial first and last hour. */
const NOW = new Date('2026-03-31T14:37:12.345Z');

interface HourRow {
  check_name: string;
  hour: string;
  total: number;
  failed: number;
}

describe('monitor_uptime_hourly and monitor_uptime_daily', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  const admin = <T extends object>(sql: string, params: unknown[] = []) =>
    postgres.database.admin<T & Record<string, unknown>>(sql, params);

  /** Both tables, each row with its UTC hour or day. */
  const rollup = async () =>
    (
      await admin<HourRow>(
        `SELECT check_name, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour, total, failed
           FROM monitor_uptime_hourly
         UNION ALL
         SELECT check_name, to_char(day AT TIME ZONE 'UTC', 'YYYY-MM-DD'), total, failed FROM monitor_uptime_daily
         ORDER BY 1, 2`,
      )
    ).rows;
  /** The same figures counted from the samples themselves. */
  const counted = async () =>
    (
      await admin<HourRow>(
        `SELECT check_name, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour,
                count(*)::int AS total, (count(*) FILTER (WHERE NOT ok))::int AS failed
           FROM monitor_samples WHERE NOT held GROUP BY 1, 2
         UNION ALL
         SELECT check_name, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), count(*)::int,
                (count(*) FILTER (WHERE NOT ok))::int
           FROM monitor_samples WHERE NOT held GROUP BY 1, 2
         ORDER BY 1, 2`,
      )
    ).rows;
  const expectExact = async (atLeastHours: number) => {
    const expected = await counted();
    expect(expected.filter((row) => row.hour.includes('T')).length).toBeGreaterThanOrEqual(atLeastHours);
    expect(await rollup()).toEqual(expected);
  };

  /** Three checks, a sample every `minutes` for `days` back from NOW: one in 7 failed, one in 11 held. */
  const seed = (days: number, minutes = 1) =>
    admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT 'check-' || c, $1::timestamptz - make_interval(secs => n * $3 * 60 + c * 7.5), (n + c) % 7 <> 0, 200,
              20 + n % 40, NULL, (n * c) % 11 = 0
         FROM generate_series(0, $2::int * 1440 / $3 - 1) AS n, generate_series(1, 3) AS c`,
      [NOW, days, minutes],
    );

  beforeAll(async () => {
    await seed(31);
  });

  it('counts a bulk INSERT … SELECT and the monitor’s inserts per check and UTC hour, held samples left out', async () => {
    await expectExact(3 * 31 * 24);
    const store = new MonitorStore(postgres.db);
    const probe = (key: string, at: Date, ok: boolean, held: string | null): Sample =>
      ({
        key,
        at,
        ok,
        status: ok ? 200 : 503,
        latencyMs: 30,
        error: ok ? null : 'status 503',
        held,
      }) as Sample;
    await store.insertSamples([
      probe('check-1', new Date(NOW.getTime() + 1000), false, null),
      probe('check-1', new Date(NOW.getTime() + 2000), true, 'maintenance window "deploy"'),
      probe('check-4', new Date(NOW.getTime() + 3000), true, null),
    ]);
    expect((await rollup()).filter((row) => row.check_name === 'check-4')).toEqual([
      { check_name: 'check-4', hour: '2026-03-31', total: 1, failed: 0 },
      { check_name: 'check-4', hour: '2026-03-31T14', total: 1, failed: 0 },
    ]);
    await expectExact(3 * 31 * 24 + 1);
  });

  it('stays exact through a batched prune that ends in the middle of an hour', async () => {
    const store = new MonitorStore(postgres.db, {
      retention: { ...RETENTION_DEFAULTS, sampleBatchRows: 1_000, maxBatches: 4 },
    });
    // Kept: 29 days back from 12 hours ago, a cut-off at 02:37:12. The 1.5 days beyond it are more than the four
    // batches, so the first prune stops part-way through an hour.
    const pruneNow = new Date(NOW.getTime() - 12 * 3_600_000);
    const first = await store.prune(29, pruneNow);
    expect(first).toMatchObject({ deleted: 4_000, complete: false });
    await expectExact(3 * 30 * 24);
    let complete = false;
    while (!complete) complete = (await store.prune(29, pruneNow)).complete;
    const oldest = await admin<{ at: Date }>(`SELECT min(hour) AS at FROM monitor_uptime_hourly`);
    expect(oldest.rows[0]?.at.getTime()).toBeGreaterThanOrEqual(
      NOW.getTime() - 29.5 * 86_400_000 - 3_600_000,
    );
    await expectExact(3 * 29 * 24);
  });

  it('moves the counts when an UPDATE holds samples, fails them or moves them to another hour or check', async () => {
    const held = await admin(
      `UPDATE monitor_samples SET held = true WHERE check_name = 'check-2' AND at > $1::timestamptz - interval '3 hours'`,
      [NOW],
    );
    expect(held.rowCount).toBeGreaterThan(100);
    await expectExact(3 * 29 * 24);
    await admin(
      `UPDATE monitor_samples SET ok = NOT ok WHERE check_name = 'check-3' AND at > $1::timestamptz - interval '1 day'`,
      [NOW],
    );
    await expectExact(3 * 29 * 24);
    await admin(
      `UPDATE monitor_samples SET at = at - interval '90 minutes', check_name = 'check-9'
        WHERE check_name = 'check-1' AND at > $1::timestamptz - interval '2 hours'`,
      [NOW],
    );
    await expectExact(3 * 29 * 24);
    // Every sample of a check held: its hours and days go from the rollup.
    await admin(`UPDATE monitor_samples SET held = true WHERE check_name = 'check-9'`);
    expect((await rollup()).some((row) => row.check_name === 'check-9')).toBe(false);
    await expectExact(3 * 29 * 24);
  });

  it('stays exact when monitors insert the same checks’ samples at once while a prune runs', async () => {
    await writeWhilePruning(postgres.database.target, {
      keys: ['check-1', 'check-2', 'check-3', 'check-6'],
      now: NOW,
      writers: 4,
      pruneDays: 28,
      sample: (cycle, index) => ({ ok: (cycle + index) % 4 !== 0, latencyMs: 25 }),
    });
    await expectExact(3 * 28 * 24);
  });

  it('is rebuilt from the samples when its migration is reverted and applied again', async () => {
    await revertAndReapply(postgres.database.target, ROLLUP_MIGRATION, () =>
      // Written while no trigger counts them.
      admin(
        `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
         SELECT 'check-5', $1::timestamptz - make_interval(mins => n), n % 5 <> 0, 200, 20, NULL, false
           FROM generate_series(1, 300) AS n`,
        [NOW],
      ),
    );
    await expectExact(3 * 28 * 24 + 5);
  });

  it('is emptied with the samples by TRUNCATE', async () => {
    await admin(`TRUNCATE monitor_samples`);
    expect(await rollup()).toEqual([]);
    await seed(1, 10);
    await expectExact(3 * 24);
  });
});

describe('MonitorStore uptime from the rollup', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  const admin = <T extends object>(sql: string, params: unknown[] = []) =>
    postgres.database.admin<T & Record<string, unknown>>(sql, params);
  const KEYS = ['api', 'web', 'quiet'];

  beforeAll(async () => {
    // 32 days of a sample every 20 s for two checks (far enough apart that every edge lands between samples and on
    // them), one in 13 failed and one in 17 held; samples after NOW too, which no figure may count. A sample on
    // each of the edges NOW - 24 h, NOW, and the midnight 29 days before NOW's day.
    await admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT c, $1::timestamptz - make_interval(secs => n * 20), n % 13 <> 0, 200, 20 + n % 90, NULL, n % 17 = 0
         FROM generate_series(-200, 32 * 4320) AS n, unnest(ARRAY['api', 'web']) AS c
       UNION ALL
       SELECT 'api', edge, false, 503, 20, 'status 503', false
         FROM unnest(ARRAY[$1::timestamptz - interval '24 hours', $1::timestamptz, '2026-03-02T00:00:00Z']) AS edge`,
      [NOW],
    );
  });

  /** What the windows held, counted from every sample in them. */
  const rawWindow = async (key: string, now: Date, seconds: number) => {
    const row = (
      await admin<{ total: string; bad: string }>(
        `SELECT count(*) AS total, count(*) FILTER (WHERE NOT ok) AS bad FROM monitor_samples
          WHERE check_name = $1 AND NOT held AND at > $2::timestamptz - make_interval(secs => $3) AND at <= $2`,
        [key, now, seconds],
      )
    ).rows[0];
    return { total: Number(row?.total), bad: Number(row?.bad) };
  };

  it('counts each window exactly as its samples do, for windows shorter than an hour and ends on an hour', async () => {
    const store = new MonitorStore(postgres.db);
    const windows = [300, 1800, 3600, 5400, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400];
    const ends = [NOW, new Date('2026-03-31T14:00:00Z'), new Date('2026-03-31T14:00:20Z')];
    for (const now of ends) {
      const counts = await store.uptimeWindows(KEYS, now, windows);
      for (const key of KEYS) {
        const expected = new Map(
          await Promise.all(
            windows.map(async (seconds) => [seconds, await rawWindow(key, now, seconds)] as const),
          ),
        );
        expect(counts.get(key), `${key} to ${now.toISOString()}`).toEqual(expected);
      }
    }
    // Not an empty comparison: a month of one check is 129,600 samples less the held ones.
    expect((await store.uptimeWindows(['api'], NOW, [30 * 86_400])).get('api')?.get(30 * 86_400)?.total).toBe(
      (await rawWindow('api', NOW, 30 * 86_400)).total,
    );
    expect((await rawWindow('api', NOW, 30 * 86_400)).total).toBeGreaterThan(120_000);
    expect(await store.windowCounts('web', NOW, windows)).toEqual(
      (await store.uptimeWindows(['web'], NOW, windows)).get('web'),
    );
  });

  it('counts a latency objective’s slow samples as bad from the samples', async () => {
    const store = new MonitorStore(postgres.db);
    const counts = await store.windowCounts('api', NOW, [3600, 86_400], 100);
    const slow = await admin<{ bad: string }>(
      `SELECT count(*) FILTER (WHERE NOT ok OR latency_ms > 100) AS bad FROM monitor_samples
        WHERE check_name = 'api' AND NOT held AND at > $1::timestamptz - interval '1 day' AND at <= $1`,
      [NOW],
    );
    expect(counts.get(86_400)?.bad).toBe(Number(slow.rows[0]?.bad));
    expect(counts.get(86_400)?.bad).toBeGreaterThan((await rawWindow('api', NOW, 86_400)).bad);
  });

  it('counts every UTC day of the last 30 whole, from its first midnight to NOW', async () => {
    const store = new MonitorStore(postgres.db);
    const days = await store.dailyUptime(KEYS, NOW, 30);
    const expected = await admin<{ check_name: string; day: string; total: string; failed: string }>(
      `SELECT check_name, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS total,
              count(*) FILTER (WHERE NOT ok) AS failed
         FROM monitor_samples WHERE NOT held AND at >= '2026-03-02T00:00:00Z' AND at <= $1
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [NOW],
    );
    for (const key of ['api', 'web']) {
      const list = days.get(key) ?? [];
      expect(list).toHaveLength(30);
      expect(list[0]?.day).toBe('2026-03-02');
      expect(list.at(-1)?.day).toBe('2026-03-31');
      expect(list).toEqual(
        expected.rows
          .filter((row) => row.check_name === key)
          .map((row) => ({ day: row.day, total: Number(row.total), failed: Number(row.failed) })),
      );
    }
    // The sample on the first midnight belongs to its day; the 4,320 samples of a day are all there.
    expect(days.get('api')?.[0]).toMatchObject({ total: (days.get('web')?.[0]?.total ?? 0) + 1 });
    expect(days.get('quiet')).toBeUndefined();
  });
});
