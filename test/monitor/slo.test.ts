import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { monitorDefinition } from '../../lib/monitor/service.ts';
import {
  budgetLeftPercent,
  burnRate,
  evaluateBurn,
  type SloObjective,
  sampleRetentionDays,
  type WindowCounts,
} from '../../lib/monitor/slo.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

const THREE_NINES: SloObjective = { kind: 'availability', targetPercent: 99.9, windowDays: 30 };
const DAY = 86_400;

/** Counts per window for a steady error ratio in every window except those given. */
function counts(ratios: Record<number, number>, base = 0): Map<number, WindowCounts> {
  const windows = [300, 1800, 3600, 6 * 3600, 30 * DAY];
  return new Map(
    windows.map((seconds) => {
      const total = seconds / 60;
      return [seconds, { total, bad: total * (ratios[seconds] ?? base) }];
    }),
  );
}

describe('burn-rate maths', () => {
  it('burns at 1× when the error ratio equals the budget, and at 0 without samples', () => {
    expect(burnRate({ total: 10_000, bad: 10 }, THREE_NINES)).toBeCloseTo(1, 9);
    expect(burnRate({ total: 0, bad: 0 }, THREE_NINES)).toBe(0);
    expect(
      burnRate({ total: 1000, bad: 50 }, { kind: 'latency', targetPercent: 95, windowDays: 28 }),
    ).toBeCloseTo(1, 9);
  });

  it('counts the budget left over the objective window, below zero once it is spent', () => {
    expect(budgetLeftPercent({ total: 43_200, bad: 0 }, THREE_NINES)).toBe(100);
    expect(budgetLeftPercent({ total: 43_200, bad: 21.6 }, THREE_NINES)).toBeCloseTo(50, 9);
    expect(budgetLeftPercent({ total: 43_200, bad: 86.4 }, THREE_NINES)).toBeCloseTo(-100, 9);
  });

  it('pages when both the hour and its five minutes burn at 14.4× or more', () => {
    const verdict = evaluateBurn(THREE_NINES, counts({ 3600: 0.02, 300: 0.02 }));
    expect(verdict.firing?.name).toBe('page');
    expect(verdict.firing?.severity).toBe('critical');
    expect(verdict.rates.get(3600)).toBeCloseTo(20, 6);
  });

  it('does not page once the last five minutes are clean, however bad the hour was', () => {
    expect(evaluateBurn(THREE_NINES, counts({ 3600: 0.02, 300: 0 })).firing).toBeNull();
  });

  it('opens a ticket when six hours and their thirty minutes burn at 6× or more but the hour stays under 14.4×', () => {
    const verdict = evaluateBurn(
      THREE_NINES,
      counts({ [6 * 3600]: 0.008, 1800: 0.008, 3600: 0.008, 300: 0.008 }),
    );
    expect(verdict.firing?.name).toBe('ticket');
    expect(verdict.firing?.severity).toBe('warning');
  });

  it('stays quiet when a short spike burns the five minutes but not the hour', () => {
    expect(evaluateBurn(THREE_NINES, counts({ 300: 0.2, 3600: 0.01 })).firing).toBeNull();
  });
});

describe('SLO in the checks file', () => {
  const parse = (slo: unknown) =>
    parseMonitorDefinition(
      { checks: [{ name: 'api', endpoint: '/health', slo }] },
      'http://127.0.0.1:1',
      'checks.json',
    );

  it('reads an availability objective and a p95 latency one', () => {
    expect(parse({ availability: 99.9 }).checks[0]?.slo).toEqual(THREE_NINES);
    expect(parse({ latencyP95Ms: 300, window: '28d' }).checks[0]?.slo).toEqual({
      kind: 'latency',
      targetPercent: 95,
      latencyMs: 300,
      windowDays: 28,
    });
  });

  it('names what is wrong with an objective', () => {
    expect(() => parse({ availability: 99.9, latencyP95Ms: 300 })).toThrow(
      'checks[0].slo: give "availability" or "latencyP95Ms", not both',
    );
    expect(() => parse({ availability: 100, window: '7d' })).toThrow(
      /checks\[0\]\.slo\.availability: 100 is not a percentage from 50 to 99\.999[\s\S]*checks\[0\]\.slo\.window: "7d" is not "28d" or "30d"/,
    );
  });

  const sloConfig = (env: Record<string, string>) => {
    const config = loadConfig(env);
    return { ...config, monitor: { ...config.monitor, checksFile: 'test/monitor/fixtures/slo-checks.json' } };
  };

  it('refuses an objective window longer than MONITOR_RETENTION_DAYS when that is set, naming both', () => {
    expect(loadConfig({ MONITOR_RETENTION_DAYS: '14' }).monitor).toMatchObject({
      retentionDays: 14,
      retentionDaysSet: true,
    });
    expect(() =>
      monitorDefinition(sloConfig({ MONITOR_RETENTION_DAYS: '14' }), 'http://127.0.0.1:1'),
    ).toThrow(
      'checks[0].slo.window: 30 days for check "api" is longer than MONITOR_RETENTION_DAYS (14); keep samples at least as long, or unset it to keep them for the longest window',
    );
    expect(
      monitorDefinition(sloConfig({ MONITOR_RETENTION_DAYS: '30' }), 'http://127.0.0.1:1').checks[0]?.slo,
    ).toMatchObject({ windowDays: 30 });
  });

  it('keeps samples for the longest objective window when MONITOR_RETENTION_DAYS is unset', () => {
    expect(loadConfig({}).monitor).toMatchObject({ retentionDays: 14, retentionDaysSet: false });
    const definition = monitorDefinition(sloConfig({}), 'http://127.0.0.1:1');
    expect(
      sampleRetentionDays(
        14,
        definition.checks.map((check) => check.slo),
      ),
    ).toBe(30);
    expect(sampleRetentionDays(14, [undefined, { ...THREE_NINES, windowDays: 28 }])).toBe(28);
    expect(sampleRetentionDays(45, [THREE_NINES])).toBe(45);
    expect(sampleRetentionDays(14, [undefined])).toBe(14);
  });
});

describe('SLOs over a sample history in PostgreSQL', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let target: FaultTarget;
  beforeAll(async () => {
    target = await startFaultTarget();
    await target.set('healthy');
  });
  afterAll(async () => {
    await target?.close();
  });

  it('keeps a 20-day-old sample while a check declares a 30-day objective, and prunes it once none does', async () => {
    const store = new MonitorStore(postgres.db);
    const now = new Date('2026-04-01T00:00:00Z');
    const old = new Date(now.getTime() - 20 * DAY * 1000);
    await store.insertSamples([
      {
        key: 'history',
        name: 'history',
        at: old,
        ok: true,
        status: 200,
        latencyMs: 5,
        error: null,
        warning: null,
        details: null,
      },
    ]);
    const cycle = (checks: unknown[]) =>
      runCycle(
        parseMonitorDefinition({ checks }, target.url, 'test'),
        testMonitorDeps(store, new RecordingSink(), () => now, { retentionDays: 14 }),
      );
    const oldSamples = async () =>
      (await postgres.database.admin('SELECT 1 FROM monitor_samples WHERE at = $1', [old])).rowCount;
    await cycle([{ name: 'api', endpoint: '/health', slo: { availability: 99.9, window: '30d' } }]);
    expect(await oldSamples()).toBe(1);
    await cycle([{ name: 'api', endpoint: '/health' }]);
    expect(await oldSamples()).toBe(0);
  });

  it('pages on a burning hour of a 30-day history, then recovers minutes after the burning stops', async () => {
    const store = new MonitorStore(postgres.db);
    const start = new Date('2026-03-31T00:00:00Z');
    // One sample a minute for 30 days before `start`: a failure every 5,000 minutes, and every third minute of the
    // last hour (never three in a row, so only the burn rate can fire).
    await postgres.database.admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT 'api', $1::timestamptz - make_interval(mins => n), NOT (n % 5000 = 0 OR (n <= 60 AND n % 3 = 0)),
              200, 20, NULL, false
         FROM generate_series(1, 43200) AS n`,
      [start],
    );
    const definition = parseMonitorDefinition(
      {
        checks: [
          {
            name: 'api',
            endpoint: '/health',
            timeout: 300,
            slo: { availability: 99.9, window: '30d' },
            rules: { errorRate: null, recoveryCycles: 2, reminderMinutes: 0 },
          },
        ],
      },
      target.url,
      'test',
    );
    const sink = new RecordingSink();
    let clock = new Date(start.getTime() + 60_000);
    const deps = testMonitorDeps(store, sink, () => clock);
    const first = await runCycle(definition, deps);
    expect(first.transitions.map((item) => item.action)).toEqual(['raise']);
    expect(sink.delivered).toHaveLength(1);
    const alarm = sink.delivered[0];
    expect(alarm?.subject).toBe('[ALARM] loadwatch/test: api is burning its error budget');
    expect(alarm?.severity).toBe('critical');
    // At start + 1 min, with the probe's healthy sample: the five minutes hold 4 samples, 1 failed (3 minutes
    // before start); the hour 59, 19 failed; the 30 days 43,199, 28 failed.
    const hour = Math.round(19 / 59 / 0.001);
    const left = Math.round(100 * (1 - 28 / 43_199 / 0.001));
    expect(alarm?.message).toContain(
      `error budget burning ${hour}× over 1 h and 250× over 5 min (page, at least 14.4×); ${left}% of the 30-day budget left`,
    );
    const cycles = [];
    for (let index = 0; index < 30; index++) {
      clock = new Date(clock.getTime() + 60_000);
      cycles.push(await runCycle(definition, deps));
    }
    const resolvedAt = cycles.findIndex((cycle) =>
      cycle.transitions.some((item) => item.action === 'resolve'),
    );
    // A minute later the five minutes hold no failure and the page stops, but six hours and thirty minutes still
    // burn at over 6×: the same incident goes on as a ticket until the thirty minutes no longer hold the last
    // failure (start - 3 min), at start + 27 min; the second healthy cycle after that resolves it.
    expect(cycles[0]?.transitions).toEqual([]);
    expect(resolvedAt).toBe(26);
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is burning its error budget',
      '[OK] loadwatch/test: api recovered after 27m',
    ]);
  });
});
