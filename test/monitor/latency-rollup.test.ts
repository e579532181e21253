import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { RETENTION_DEFAULTS } from '../../lib/db/retention.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import type { Sample } from '../../lib/monitor/probe.ts';
import { budgetLeftPercent } from '../../lib/monitor/slo.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { testPool, useMigratedDatabase } from '../support/database.ts';
import { startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';
import { revertAndReapply, writeWhilePruning } from '../support/sample-rollups.ts';

const ROLLUP_MIGRATION = '0013_monitor-latency-rollup';
/** Not on an hour, a minute or a second: every window has a partial first and last hour. */
const NOW = new Date('2026-03-31T14:37:12.345Z');

interface HourRow {
  check_name: string;
  bound_ms: number;
  hour: string;
  total: number;
  bad: number;
}

describe('monitor_latency_hourly', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  const admin = <T extends object>(sql: string, params: unknown[] = []) =>
    postgres.database.admin<T & Record<string, unknown>>(sql, params);

  const rollup = async () =>
    (
      await admin<HourRow>(
        `SELECT check_name, bound_ms, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour, total, bad
           FROM monitor_latency_hourly ORDER BY 1, 2, 3`,
      )
    ).rows;
  /** The same figures counted from the samples of every registered bound. */
  const counted = async () =>
    (
      await admin<HourRow>(
        `SELECT m.check_name, b.bound_ms, to_char(m.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour,
                count(*)::int AS total, (count(*) FILTER (WHERE NOT m.ok OR m.latency_ms > b.bound_ms))::int AS bad
           FROM monitor_samples m JOIN monitor_latency_bounds b ON b.check_name = m.check_name
          WHERE NOT m.held GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
    ).rows;
  const expectExact = async (atLeastHours: number) => {
    const expected = await counted();
    expect(expected.length).toBeGreaterThanOrEqual(atLeastHours);
    // Not a comparison of rows that count nothing: some samples are slow, some are not.
    expect(expected.some((row) => row.bad > 0 && row.bad < row.total)).toBe(true);
    expect(await rollup()).toEqual(expected);
  };

  /** Three checks, a sample every `minutes` for `days` back from NOW: one in 7 failed, one in 11 held. */
  const seed = (days: number, minutes = 1) =>
    admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT 'check-' || c, $1::timestamptz - make_interval(secs => n * $3 * 60 + c * 7.5), (n + c) % 7 <> 0, 200,
              CASE WHEN n % 13 = 0 THEN NULL ELSE 20 + (n * 37) % 400 END, NULL, (n * c) % 11 = 0
         FROM generate_series(0, $2::int * 1440 / $3 - 1) AS n, generate_series(1, 3) AS c`,
      [NOW, days, minutes],
    );
  /** Two bounds for check-1, one each for check-2 and check-3. */
  const BOUNDS = [
    { key: 'check-1', boundMs: 100 },
    { key: 'check-1', boundMs: 300 },
    { key: 'check-2', boundMs: 250 },
    { key: 'check-3', boundMs: 50 },
  ];
  const KEYS = ['check-1', 'check-2', 'check-3'];

  beforeAll(async () => {
    await seed(31);
  });

  it('backfills a bound registered after its samples exist, and registers nothing twice', async () => {
    expect(await rollup()).toEqual([]);
    const store = new MonitorStore(postgres.db);
    expect(await store.registerLatencyBounds(KEYS, BOUNDS)).toEqual({ registered: 4, dropped: 0 });
    await expectExact(4 * 31 * 24);
    // Another monitor (its own pool) with the same checks: nothing to add, nothing counted twice.
    const other = testPool(postgres.database.target, 1);
    try {
      expect(await new MonitorStore(other).registerLatencyBounds(KEYS, BOUNDS)).toEqual({
        registered: 0,
        dropped: 0,
      });
    } finally {
      await other.close();
    }
    await expectExact(4 * 31 * 24);
  });

  it('counts a bulk INSERT … SELECT and the monitor’s inserts per bound, held samples left out', async () => {
    await seed(1, 7);
    const store = new MonitorStore(postgres.db);
    const probe = (key: string, at: Date, ok: boolean, latencyMs: number, held: string | null): Sample =>
      ({ key, at, ok, status: ok ? 200 : 503, latencyMs, error: ok ? null : 'status 503', held }) as Sample;
    await store.insertSamples([
      probe('check-1', new Date(NOW.getTime() + 1000), true, 200, null),
      probe('check-1', new Date(NOW.getTime() + 2000), true, 500, 'maintenance window "deploy"'),
      probe('check-2', new Date(NOW.getTime() + 3000), false, 10, null),
      probe('check-4', new Date(NOW.getTime() + 4000), true, 900, null),
    ]);
    const current = (await rollup()).filter((row) => row.hour === '2026-03-31T14');
    const before = (await counted()).filter((row) => row.hour === '2026-03-31T14');
    expect(current).toEqual(before);
    // check-4 declares no bound: nothing of it is counted.
    expect((await rollup()).some((row) => row.check_name === 'check-4')).toBe(false);
    await expectExact(4 * 31 * 24);
  });

  it('stays exact through a batched prune that ends in the middle of an hour', async () => {
    const store = new MonitorStore(postgres.db, {
      retention: { ...RETENTION_DEFAULTS, sampleBatchRows: 1_000, maxBatches: 4 },
    });
    const pruneNow = new Date(NOW.getTime() - 12 * 3_600_000);
    expect(await store.prune(29, pruneNow)).toMatchObject({ deleted: 4_000, complete: false });
    await expectExact(4 * 30 * 24);
    let complete = false;
    while (!complete) complete = (await store.prune(29, pruneNow)).complete;
    await expectExact(4 * 29 * 24);
  });

  it('moves the counts when an UPDATE holds samples, fails them, slows them or moves them', async () => {
    const day = [NOW];
    const held = await admin(
      `UPDATE monitor_samples SET held = true WHERE check_name = 'check-2' AND at > $1::timestamptz - interval '3 hours'`,
      day,
    );
    expect(held.rowCount).toBeGreaterThan(100);
    await expectExact(4 * 29 * 24);
    await admin(
      `UPDATE monitor_samples SET ok = NOT ok WHERE check_name = 'check-3' AND at > $1::timestamptz - interval '1 day'`,
      day,
    );
    await expectExact(4 * 29 * 24);
    // Across both of check-1's bounds: some samples become slow for one, or for both, or for neither.
    await admin(
      `UPDATE monitor_samples SET latency_ms = CASE WHEN latency_ms IS NULL THEN 150 ELSE 420 - latency_ms END
        WHERE check_name = 'check-1' AND at > $1::timestamptz - interval '2 days'`,
      day,
    );
    await expectExact(4 * 29 * 24);
    await admin(
      `UPDATE monitor_samples SET at = at - interval '90 minutes', check_name = 'check-3'
        WHERE check_name = 'check-1' AND at > $1::timestamptz - interval '2 hours'`,
      day,
    );
    await expectExact(4 * 29 * 24);
  });

  it('stays exact when monitors insert at once while a prune runs and a bound is registered', async () => {
    await writeWhilePruning(postgres.database.target, {
      keys: KEYS,
      now: NOW,
      writers: 3,
      pruneDays: 28,
      sample: (cycle, index) => ({ ok: (cycle + index) % 4 !== 0, latencyMs: 40 + cycle * 20 }),
      // While writers are in flight the lock is not taken: the call says busy, and the next one registers.
      alongside: async (store) => {
        while ((await store.registerLatencyBounds(KEYS, [...BOUNDS, { key: 'check-2', boundMs: 120 }])).busy);
      },
    });
    await expectExact(5 * 28 * 24);
  });

  it('drops a bound no check declares any more, with its hours, and leaves other checks’ bounds alone', async () => {
    const store = new MonitorStore(postgres.db);
    // check-1 now declares 300 ms only and check-2 nothing; check-3 is not among this monitor's checks.
    expect(
      await store.registerLatencyBounds(['check-1', 'check-2'], [{ key: 'check-1', boundMs: 300 }]),
    ).toEqual({ registered: 0, dropped: 3 });
    const bounds = await admin<{ check_name: string; bound_ms: number }>(
      `SELECT check_name, bound_ms FROM monitor_latency_bounds ORDER BY 1, 2`,
    );
    expect(bounds.rows).toEqual([
      { check_name: 'check-1', bound_ms: 300 },
      { check_name: 'check-3', bound_ms: 50 },
    ]);
    await expectExact(2 * 28 * 24);
  });

  it('answers busy instead of queueing behind a transaction that writes samples, and registers after its commit', async () => {
    const writer = testPool(postgres.database.target, 1);
    onTestFinished(() => writer.close());
    let commit = () => {};
    let inserted = () => {};
    const insertedOnce = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const holding = writer.transaction(async (client) => {
      await client.query(
        `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
         VALUES ('check-3', $1, true, 200, 70, NULL, false)`,
        [new Date(NOW.getTime() + 5_000)],
      );
      inserted();
      await new Promise<void>((resolve) => {
        commit = resolve;
      });
    });
    await insertedOnce;
    const store = new MonitorStore(postgres.db);
    const wanted = [
      { key: 'check-3', boundMs: 50 },
      { key: 'check-3', boundMs: 80 },
    ];
    const started = Date.now();
    expect(await store.registerLatencyBounds(['check-3'], wanted)).toEqual({
      registered: 0,
      dropped: 0,
      busy: true,
    });
    // Its five tries wait 750 ms in all; it never waited for the writer, which is still open.
    expect(Date.now() - started).toBeLessThan(4_000);
    // Writers of other checks are not held up by it meanwhile (one of the same check and hour waits for the rollup
    // row the open transaction updated).
    await store.insertSamples([
      {
        key: 'check-1',
        at: new Date(NOW.getTime() + 6_000),
        ok: false,
        status: 503,
        latencyMs: 90,
        error: 'status 503',
        held: null,
      } as Sample,
    ]);
    commit();
    await holding;
    expect(await store.registerLatencyBounds(['check-3'], wanted)).toEqual({ registered: 1, dropped: 0 });
    await expectExact(3 * 28 * 24);
  });

  it('is emptied by TRUNCATE, and registers again after its migration is reverted and applied again', async () => {
    await revertAndReapply(postgres.database.target, ROLLUP_MIGRATION, async () => {
      const tables = await admin<{ name: string | null }>(
        `SELECT to_regclass('monitor_latency_hourly') AS name`,
      );
      expect(tables.rows[0]?.name).toBeNull();
    });
    expect(await rollup()).toEqual([]);
    expect(await new MonitorStore(postgres.db).registerLatencyBounds(KEYS, BOUNDS)).toEqual({
      registered: 4,
      dropped: 0,
    });
    await expectExact(4 * 28 * 24);
    await admin(`TRUNCATE monitor_samples`);
    expect(await rollup()).toEqual([]);
    await seed(1, 10);
    await expectExact(4 * 24);
  });
});

describe('MonitorStore latency windows from the rollup', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  const admin = <T extends object>(sql: string, params: unknown[] = []) =>
    postgres.database.admin<T & Record<string, unknown>>(sql, params);

  beforeAll(async () => {
    // 32 days of a sample every 20 s (every edge lands between samples and on them), one in 13 failed, one in 17
    // held, latencies 20–399 ms with some missing; samples after NOW too, which no figure may count. A slow sample
    // on each of the edges NOW - 24 h, NOW and NOW's hour.
    await admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT 'api', $1::timestamptz - make_interval(secs => n * 20), n % 13 <> 0, 200,
              CASE WHEN n % 29 = 0 THEN NULL ELSE 20 + (n * 37) % 380 END, NULL, n % 17 = 0
         FROM generate_series(-200, 32 * 4320) AS n
       UNION ALL
       SELECT 'api', edge, true, 200, 999, NULL, false
         FROM unnest(ARRAY[$1::timestamptz - interval '24 hours', $1::timestamptz, '2026-03-31T14:00:00Z']) AS edge`,
      [NOW],
    );
  });

  /** What the window held, counted from every sample in it. */
  const rawWindow = async (now: Date, seconds: number, boundMs: number) => {
    const row = (
      await admin<{ total: string; bad: string }>(
        `SELECT count(*) AS total, count(*) FILTER (WHERE NOT ok OR latency_ms > $3) AS bad FROM monitor_samples
          WHERE check_name = 'api' AND NOT held AND at > $1::timestamptz - make_interval(secs => $2) AND at <= $1`,
        [now, seconds, boundMs],
      )
    ).rows[0];
    return { total: Number(row?.total), bad: Number(row?.bad) };
  };
  const windows = [300, 1800, 3600, 5400, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400];
  const ends = [
    NOW,
    new Date('2026-03-31T14:00:00Z'),
    new Date('2026-03-31T14:00:20Z'),
    new Date('2026-03-31T00:00:00Z'),
  ];
  const expectRaw = async (store: MonitorStore, boundMs: number) => {
    for (const now of ends) {
      const expected = new Map(
        await Promise.all(
          windows.map(async (seconds) => [seconds, await rawWindow(now, seconds, boundMs)] as const),
        ),
      );
      expect(
        await store.windowCounts('api', now, windows, boundMs),
        `${boundMs} ms to ${now.toISOString()}`,
      ).toEqual(expected);
    }
  };

  it('counts a bound not registered yet from the samples, exactly', async () => {
    await expectRaw(new MonitorStore(postgres.db), 200);
  });

  it('counts each window of a registered bound exactly as its samples do, ending on and off the hour', async () => {
    const store = new MonitorStore(postgres.db);
    await store.registerLatencyBounds(['api'], [{ key: 'api', boundMs: 200 }]);
    const hours = await admin<{ count: string }>(
      `SELECT count(*) FROM monitor_latency_hourly WHERE check_name = 'api' AND bound_ms = 200`,
    );
    expect(Number(hours.rows[0]?.count)).toBeGreaterThan(32 * 24);
    await expectRaw(store, 200);
    // Another bound of the same check, not registered, still counted from the samples.
    await expectRaw(store, 75);
    // A bound dropped by another monitor is counted from the samples again, not from what its hours were.
    await admin(`DELETE FROM monitor_latency_bounds WHERE check_name = 'api' AND bound_ms = 200`);
    await expectRaw(store, 200);
    // Not an empty comparison: a month is 129,600 samples less the held ones, a share of them slow.
    const month = await rawWindow(NOW, 30 * 86_400, 200);
    expect(month.total).toBeGreaterThan(120_000);
    expect(month.bad).toBeGreaterThan(month.total / 3);
    expect(month.bad).toBeLessThan(month.total);
  });
});

describe('a monitor cycle with latency objectives', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });

  it('registers its checks’ bounds before reading their windows, and the budget equals the samples’ count', async () => {
    const target = await startFaultTarget();
    onTestFinished(() => target.close());
    const now = new Date('2026-03-31T14:37:12.345Z');
    // Ten days of a sample a minute, one in four slower than 100 ms and one in nine slower than 300 ms.
    await postgres.database.admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT 'api', $1::timestamptz - make_interval(mins => n), true, 200,
              CASE WHEN n % 9 = 0 THEN 400 WHEN n % 4 = 0 THEN 150 ELSE 20 END, NULL, false
         FROM generate_series(1, 14400) AS n`,
      [now],
    );
    const store = new MonitorStore(postgres.db);
    const deps = testMonitorDeps(store, new RecordingSink(), () => now);
    const cycle = (latencyP95Ms: number) =>
      runCycle(
        parseMonitorDefinition(
          {
            checks: [
              { name: 'api', endpoint: '/health', timeout: 2000, slo: { latencyP95Ms, window: '30d' } },
              { name: 'web', endpoint: '/health', timeout: 2000 },
            ],
          },
          target.url,
          'test',
        ),
        deps,
      );
    const bounds = async () =>
      (await postgres.database.admin<{ bound_ms: number }>(`SELECT bound_ms FROM monitor_latency_bounds`))
        .rows;
    const expectBudget = async (boundMs: number) => {
      const raw = (
        await postgres.database.admin<{ total: string; bad: string }>(
          `SELECT count(*) AS total, count(*) FILTER (WHERE NOT ok OR latency_ms > $2) AS bad FROM monitor_samples
            WHERE check_name = 'api' AND NOT held AND at > $1::timestamptz - interval '30 days' AND at <= $1`,
          [now, boundMs],
        )
      ).rows[0];
      const counts = { total: Number(raw?.total), bad: Number(raw?.bad) };
      expect(counts.bad).toBeGreaterThan(counts.total / 10);
      const state = (await store.checkStates()).find((check) => check.check === 'api');
      expect(state?.slo?.budgetLeftPercent).toBe(
        budgetLeftPercent(counts, { kind: 'latency', targetPercent: 95, latencyMs: boundMs, windowDays: 30 }),
      );
    };
    await cycle(100);
    expect(await bounds()).toEqual([{ bound_ms: 100 }]);
    await expectBudget(100);
    // The objective changed in the checks file: the old bound goes, the new one is counted from the history.
    await cycle(300);
    expect(await bounds()).toEqual([{ bound_ms: 300 }]);
    await expectBudget(300);
  });
});
