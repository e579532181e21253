import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MonitorDefinition, parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

interface JsonResponse {
  status: number;
  contentType: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below
  body: any;
}

interface Sample {
  at: string;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  error: string | null;
}

const RULES = { down: { consecutive: 2 }, recoveryCycles: 2, reminderMinutes: 0, errorRate: null };

describe('monitor routes over HTTP, after real monitor cycles', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: RunningApi;
  let flaky: FaultTarget;
  let steady: FaultTarget;
  const sink = new RecordingSink();
  /** Every cycle's time, oldest first; the monitor's clock runs in the last half hour so /status shows it too. */
  const cycleTimes: Date[] = [];
  let steadyKey = '';
  let duringIncident: { checks: JsonResponse; firing: JsonResponse; resolved: JsonResponse };
  let afterRecovery: { checks: JsonResponse; firing: JsonResponse; resolved: JsonResponse };

  const get = async (path: string): Promise<JsonResponse> => {
    const response = await fetch(`${api.url}${path}`);
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: await response.json(),
    };
  };
  const snapshot = async () => ({
    checks: await get('/v1/checks'),
    firing: await get('/v1/alerts?state=firing'),
    resolved: await get('/v1/alerts?state=resolved'),
  });

  beforeAll(async () => {
    const store = new MonitorStore(postgres.db);
    flaky = await startFaultTarget();
    steady = await startFaultTarget();
    api = await startApiServer({ DATABASE_URL: postgres.database.url });

    const own = parseMonitorDefinition(
      { checks: [{ name: 'api', endpoint: '/health', timeout: 1000, rules: RULES }] },
      flaky.url,
      'test',
    );
    // A check run with --target carries its host in its key: "steady@127.0.0.1:port".
    const targeted = parseMonitorDefinition(
      { checks: [{ name: 'steady', endpoint: '/health', timeout: 1000, rules: RULES }] },
      steady.url,
      'test',
      true,
    );
    steadyKey = targeted.checks[0]?.key ?? '';
    let clock = new Date(Date.now() - 20 * 60_000);
    const cycle = async (definitions: MonitorDefinition[]) => {
      clock = new Date(clock.getTime() + 60_000);
      cycleTimes.push(clock);
      for (const definition of definitions) {
        await runCycle(
          definition,
          testMonitorDeps(store, sink, () => clock),
        );
      }
    };

    for (let index = 0; index < 2; index++) await cycle([own, targeted]);
    await flaky.set('error');
    for (let index = 0; index < 3; index++) await cycle([own, targeted]);
    duringIncident = await snapshot();
    await flaky.set('healthy');
    for (let index = 0; index < 4; index++) await cycle([own, targeted]);
    afterRecovery = await snapshot();
  });
  afterAll(async () => {
    await api?.close();
    await flaky?.close();
    await steady?.close();
  });

  const at = (cycle: number) => cycleTimes[cycle - 1]?.toISOString();

  it('drove one incident: raised on the second failure, resolved after two healthy cycles', () => {
    expect(steadyKey).toMatch(/^steady@127\.0\.0\.1:\d+$/);
    expect(sink.delivered.map((notification) => notification.subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[OK] loadwatch/test: api recovered after 3m',
    ]);
  });

  it('lists every check with its state and last sample while one is failing', () => {
    const { checks } = duringIncident;
    expect(checks.status).toBe(200);
    expect(checks.contentType).toMatch(/^application\/json/);
    expect(checks.body.checks).toHaveLength(2);
    expect(checks.body.checks[0]).toMatchObject({
      check: 'api',
      state: 'ALARM',
      since: at(4),
      lastSample: { at: at(5), ok: false, status: 500, error: 'status 500, expected 200' },
    });
    expect(checks.body.checks[1]).toMatchObject({
      check: steadyKey,
      state: 'OK',
      lastSample: { at: at(5), ok: true, status: 200, error: null },
    });
    expect(checks.body.checks[1].lastSample.latencyMs).toBeGreaterThan(0);
  });

  it('shows the check back to OK with a healthy last sample after recovery', () => {
    const [apiCheck] = afterRecovery.checks.body.checks;
    expect(apiCheck).toMatchObject({
      check: 'api',
      state: 'OK',
      lastSample: { at: at(9), ok: true, status: 200, error: null },
    });
  });

  it('lists the incident under state=firing while it lasts, and nothing as resolved', () => {
    const { firing, resolved } = duringIncident;
    expect(firing.status).toBe(200);
    expect(firing.contentType).toMatch(/^application\/json/);
    expect(firing.body.state).toBe('firing');
    expect(firing.body.alerts).toHaveLength(1);
    expect(firing.body.alerts[0]).toMatchObject({
      check: 'api',
      openedAt: at(4),
      resolvedAt: null,
      severity: 'critical',
      rules: ['down'],
    });
    expect(resolved.body).toEqual({ state: 'resolved', alerts: [] });
  });

  it('moves the incident to state=resolved once the check recovers', () => {
    const { firing, resolved } = afterRecovery;
    expect(firing.body).toEqual({ state: 'firing', alerts: [] });
    expect(resolved.status).toBe(200);
    expect(resolved.contentType).toMatch(/^application\/json/);
    expect(resolved.body.alerts).toHaveLength(1);
    expect(resolved.body.alerts[0]).toMatchObject({
      id: duringIncident.firing.body.alerts[0].id,
      check: 'api',
      openedAt: at(4),
      resolvedAt: at(7),
    });
  });

  it('lists every incident when no state is given', async () => {
    const all = await get('/v1/alerts');
    expect(all.status).toBe(200);
    expect(all.body.state).toBe('all');
    expect(all.body.alerts.map((alert: { check: string }) => alert.check)).toEqual(['api']);
  });

  it('refuses an unknown state with a 400 that names the parameter', async () => {
    const bogus = await get('/v1/alerts?state=bogus');
    expect(bogus.status).toBe(400);
    expect(bogus.contentType).toMatch(/^application\/json/);
    expect(bogus.body.error.code).toBe('BAD_REQUEST');
    expect(bogus.body.error.message).toMatch(/^state: "bogus"/);
  });

  it('returns the samples since a time, newest first, the boundary included', async () => {
    const response = await get(`/v1/checks/api/samples?since=${encodeURIComponent(at(3) ?? '')}`);
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.body.check).toBe('api');
    expect(response.body.since).toBe(at(3));
    const samples = response.body.samples as Sample[];
    expect(samples.map((sample) => sample.at)).toEqual([9, 8, 7, 6, 5, 4, 3].map(at));
    expect(samples.map((sample) => sample.ok)).toEqual([true, true, true, true, false, false, false]);
    expect(samples[4]).toMatchObject({ status: 500, error: 'status 500, expected 200' });
  });

  it('returns the last hour of samples when no since is given, and none for a future since', async () => {
    const recent = await get('/v1/checks/api/samples');
    expect((recent.body.samples as Sample[]).map((sample) => sample.at)).toEqual(
      [9, 8, 7, 6, 5, 4, 3, 2, 1].map(at),
    );
    const future = await get(`/v1/checks/api/samples?since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.status).toBe(200);
    expect(future.body.samples).toEqual([]);
  });

  it('finds a check whose key carries a host once the key is percent-encoded', async () => {
    const response = await get(`/v1/checks/${encodeURIComponent(steadyKey)}/samples?since=${at(8)}`);
    expect(response.status).toBe(200);
    expect(response.body.check).toBe(steadyKey);
    expect((response.body.samples as Sample[]).map((sample) => [sample.at, sample.ok])).toEqual([
      [at(9), true],
      [at(8), true],
    ]);
  });

  it('answers 404 for a check that never ran', async () => {
    const missing = await get('/v1/checks/nope/samples');
    expect(missing.status).toBe(404);
    expect(missing.contentType).toMatch(/^application\/json/);
    expect(missing.body.error).toEqual({ code: 'NOT_FOUND', message: 'no check named "nope"' });
  });

  it('answers 400 naming since when since is not a time', async () => {
    const bad = await get('/v1/checks/api/samples?since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.contentType).toMatch(/^application\/json/);
    expect(bad.body.error.code).toBe('BAD_REQUEST');
    expect(bad.body.error.message).toMatch(/^since: "yesterday"/);
  });
});
