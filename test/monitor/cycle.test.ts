import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Metric, MetricsSink } from '../../lib/metrics/sink.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { type MonitorDeps, runCycle } from '../../lib/monitor/cycle.ts';
import { buildMonitorReport } from '../../lib/monitor/report.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

describe('monitor cycles against a fault-injecting target', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let store: MonitorStore;
  let target: FaultTarget;
  let sink: RecordingSink;
  let clock: Date;
  let loadTestHosts: string[];

  const definition = (rules: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    parseMonitorDefinition(
      {
        checks: [
          {
            name: 'api',
            endpoint: '/health',
            timeout: 300,
            latency: { warn: 100, critical: 250 },
            rules: {
              down: { consecutive: 2 },
              recoveryCycles: 2,
              reminderMinutes: 0,
              errorRate: { percent: 50, window: 4 },
              ...rules,
            },
          },
        ],
        ...extra,
      },
      target.url,
      'test',
    );

  const deps = (): MonitorDeps =>
    testMonitorDeps(store, sink, () => clock, { loadTestHosts: async () => loadTestHosts });

  async function cycles(monitor: ReturnType<typeof definition>, count: number, everyMs = 60_000) {
    const results = [];
    for (let index = 0; index < count; index++) {
      clock = new Date(clock.getTime() + everyMs);
      results.push(await runCycle(monitor, deps()));
    }
    return results;
  }

  beforeAll(async () => {
    store = new MonitorStore(postgres.db);
    target = await startFaultTarget();
  });
  beforeEach(async () => {
    await postgres.database.admin(
      'TRUNCATE monitor_samples, monitor_check_states, monitor_incidents, alert_outbox',
    );
    await target.set('healthy');
    sink = new RecordingSink();
    clock = new Date('2026-01-01T00:00:00Z');
    loadTestHosts = [];
  });
  afterAll(async () => {
    await target?.close();
  });

  it('sends exactly one alert and one recovery for an incident, whichever rules fired', async () => {
    const monitor = definition();
    const all = [...(await cycles(monitor, 2))];
    await target.set('error');
    all.push(...(await cycles(monitor, 5)));
    await target.set('healthy');
    all.push(...(await cycles(monitor, 6)));
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[OK] loadwatch/test: api recovered after 6m',
    ]);
    expect(sink.delivered[0]?.severity).toBe('critical');
    expect(sink.delivered[0]?.attributes).toEqual({ check: 'api', state: 'ALARM', kind: 'monitor' });
    expect(sink.delivered[0]?.message).toContain('status 500, expected 200');
    const report = buildMonitorReport(monitor.checks, all, {
      startedAt: clock,
      intervalSeconds: 60,
      metrics: 'x',
      alerts: 'y',
    });
    expect(report.checks[0]).toMatchObject({
      name: 'api',
      alertsRaised: 1,
      alertsResolved: 1,
      state: 'OK',
      breaches: 5,
    });
    expect(report.checks[0]?.availability).toBeCloseTo((8 / 13) * 100, 1);
  });

  it('raises a warning for slow responses and names timeouts and refused connections', async () => {
    const monitor = definition({ degradedCycles: 2 });
    await target.set('slow', 150);
    await cycles(monitor, 2);
    expect(sink.delivered.map((item) => [item.subject, item.severity])).toEqual([
      ['[ALARM] loadwatch/test: api is degraded', 'warning'],
    ]);
    await target.set('hang');
    const [hung] = await cycles(monitor, 1);
    expect(hung?.samples[0]?.error).toBe('timeout');
    await target.set('refuse');
    const [refused] = await cycles(monitor, 1);
    expect(refused?.samples[0]?.error).toBe('ECONNREFUSED');
    expect(sink.delivered).toHaveLength(1);
  });

  it('holds alerts inside a maintenance window and while a load test targets the host', async () => {
    const start = new Date(clock.getTime() + 30_000).toISOString();
    const end = new Date(clock.getTime() + 5 * 60_000).toISOString();
    const windowed = definition({}, { maintenance: [{ checks: ['api'], start, end, reason: 'deploy' }] });
    await target.set('error');
    const during = await cycles(windowed, 4);
    expect(sink.delivered).toEqual([]);
    expect(during.at(-1)?.transitions[0]).toMatchObject({ action: 'suppress' });
    await target.set('healthy');
    await cycles(windowed, 2);

    loadTestHosts = [new URL(target.url).host];
    await target.set('error');
    await cycles(definition(), 4);
    expect(sink.delivered).toEqual([]);
    loadTestHosts = [];
    // Failures while held count for nothing: it takes two fresh failures to raise.
    await cycles(definition(), 1);
    expect(sink.delivered).toEqual([]);
    await cycles(definition(), 1);
    expect(sink.delivered.map((item) => item.subject)).toEqual(['[ALARM] loadwatch/test: api is down']);
  });

  it('keeps an announced incident open through a maintenance window and after it while the check still fails', async () => {
    const start = new Date(clock.getTime() + 3.5 * 60_000).toISOString();
    const end = new Date(clock.getTime() + 7.5 * 60_000).toISOString();
    const monitor = definition(
      { down: { consecutive: 3 } },
      { maintenance: [{ checks: ['api'], start, end, reason: 'deploy' }] },
    );
    await target.set('error');
    await cycles(monitor, 3);
    expect(sink.delivered.map((item) => item.subject)).toEqual(['[ALARM] loadwatch/test: api is down']);
    const held = await cycles(monitor, 4);
    expect(held.every((cycle) => cycle.samples[0]?.held?.startsWith('maintenance window'))).toBe(true);
    // After the window the held failures still count for the open incident: too few fresh ones is no recovery.
    const after = await cycles(monitor, 3);
    expect(after.map((cycle) => cycle.states.api)).toEqual(['ALARM', 'ALARM', 'ALARM']);
    expect(sink.delivered).toHaveLength(1);
    await target.set('healthy');
    await cycles(monitor, 5);
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[OK] loadwatch/test: api recovered after 10m',
    ]);
  });

  it('says how long an incident under a minute lasted in seconds, as the status page does', async () => {
    const monitor = definition();
    await target.set('error');
    await cycles(monitor, 2, 15_000);
    await target.set('healthy');
    await cycles(monitor, 2, 15_000);
    // Raised on the second failed cycle, resolved on the second healthy one: 30 s later.
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[OK] loadwatch/test: api recovered after 30s',
    ]);
  });

  it('sends the recovery of an announced incident that recovers inside a maintenance window', async () => {
    const start = new Date(clock.getTime() + 2.5 * 60_000).toISOString();
    const end = new Date(clock.getTime() + 30 * 60_000).toISOString();
    const monitor = definition({}, { maintenance: [{ checks: ['api'], start, end, reason: 'deploy' }] });
    await target.set('error');
    await cycles(monitor, 2);
    await target.set('healthy');
    await cycles(monitor, 4);
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[OK] loadwatch/test: api recovered after 2m',
    ]);
  });

  it('reports true availability and, for the alarms, a held failure as available', async () => {
    const sent: Metric[] = [];
    const metrics: MetricsSink = { description: 'recorder', put: async (batch) => void sent.push(...batch) };
    await target.set('error');
    loadTestHosts = [new URL(target.url).host];
    clock = new Date(clock.getTime() + 60_000);
    const held = await runCycle(definition(), { ...deps(), metrics });
    loadTestHosts = [];
    clock = new Date(clock.getTime() + 60_000);
    await runCycle(definition(), { ...deps(), metrics });
    const values = (name: string) =>
      sent.filter((metric) => metric.name === name).map((metric) => metric.value);
    expect(held.metrics).toBe('sent');
    expect(values('Availability')).toEqual([0, 0]);
    expect(values('AlertAvailability')).toEqual([100, 0]);
    expect(sent.find((metric) => metric.name === 'Availability')?.dimensions).toEqual({
      Service: 'loadwatch',
      Stage: 'test',
      Check: 'api',
    });
    expect(values('MonitorMemory')[0]).toBeGreaterThan(1_000_000);
  });

  it('keeps alerts in the outbox while SNS fails, retried with backoff, then delivers each exactly once', async () => {
    const monitor = definition();
    sink.failuresLeft = 4;
    await target.set('error');
    const failing = await cycles(monitor, 4);
    expect(sink.delivered).toEqual([]);
    expect(failing.at(-1)?.delivery.pending).toBe(1);
    // Raised in minute 2 and tried in minutes 2, 3 and 4: put off by 30 s, 60 s, then 120 s.
    expect(sink.attempts).toBe(3);
    await target.set('healthy');
    await cycles(monitor, 8);
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[OK] loadwatch/test: api recovered after 5m',
    ]);
    await cycles(monitor, 3);
    expect(sink.delivered).toHaveLength(2);
    const outbox = await postgres.database.admin<{ kind: string; attempts: number; sent: boolean }>(
      'SELECT kind, attempts, sent_at IS NOT NULL AS sent FROM alert_outbox ORDER BY id',
    );
    expect(outbox.rows).toEqual([
      { kind: 'raised', attempts: 5, sent: true },
      { kind: 'resolved', attempts: 1, sent: true },
    ]);
  });

  it('reminds while an incident stays open', async () => {
    const monitor = definition({ reminderMinutes: 2 });
    await target.set('error');
    await cycles(monitor, 6);
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[REMINDER] loadwatch/test: api still in alarm for 2m',
      '[REMINDER] loadwatch/test: api still in alarm for 4m',
    ]);
  });

  it('needs longer to recover while flapping, so flapping makes one incident', async () => {
    const monitor = definition({ down: { consecutive: 1 }, recoveryCycles: 1, errorRate: null });
    for (let round = 0; round < 4; round++) {
      await target.set('error');
      await cycles(monitor, 1);
      await target.set('healthy');
      await cycles(monitor, 1);
    }
    const raised = sink.delivered.filter((item) => item.subject.startsWith('[ALARM]')).length;
    expect(raised).toBeLessThanOrEqual(3);
    expect(raised).toBeGreaterThanOrEqual(1);
  });

  it('stores and alerts on a fast check while a slow one is still probing, then stores the slow one', async () => {
    const slow = await startFaultTarget();
    try {
      await slow.set('hang');
      await target.set('error');
      const rules = { down: { consecutive: 1 }, reminderMinutes: 0, errorRate: null };
      const monitor = parseMonitorDefinition(
        {
          checks: [
            { name: 'api', endpoint: '/health', timeout: 1500, rules },
            { name: 'stuck', url: `${slow.url}/health`, timeout: 1500, rules },
          ],
        },
        target.url,
        'test',
      );
      clock = new Date(clock.getTime() + 60_000);
      const started = performance.now();
      let finished = false;
      const cycle = runCycle(monitor, deps()).finally(() => {
        finished = true;
      });
      const stored = async (key: string) => (await store.samples(key, new Date(0), 10)).length;
      while ((await stored('api')) === 0 && performance.now() - started < 3000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const fastStoredAfter = performance.now() - started;
      expect(finished).toBe(false);
      expect(fastStoredAfter).toBeLessThan(1000);
      expect(await stored('stuck')).toBe(0);
      // The fast check's alert went out without waiting for the slow probe either.
      while (sink.delivered.length === 0 && performance.now() - started < 1400) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(sink.delivered.map((item) => item.subject)).toEqual(['[ALARM] loadwatch/test: api is down']);
      expect(finished).toBe(false);
      const result = await cycle;
      expect(performance.now() - started).toBeGreaterThanOrEqual(1450);
      expect(result.samples.map((sample) => [sample.key, sample.error])).toEqual([
        ['api', 'status 500, expected 200'],
        ['stuck', 'timeout'],
      ]);
      expect(await stored('stuck')).toBe(1);
      expect(result.states).toEqual({ api: 'ALARM', stuck: 'ALARM' });
      expect(result.delivery).toMatchObject({ sent: 2, failed: 0, pending: 0 });
    } finally {
      await slow.close();
    }
  }, 10_000);
});
