import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { renderOpenMetrics } from '../../lib/metrics/openmetrics.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { configProblems } from '../support/config.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

const TOKEN = 'metrics-token-0123456789';

describe('GET /metrics', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: RunningApi;
  let healthy: FaultTarget;
  let failing: FaultTarget;

  beforeAll(async () => {
    healthy = await startFaultTarget();
    failing = await startFaultTarget();
    await healthy.set('healthy');
    await failing.set('error');
    const store = new MonitorStore(postgres.db);
    const definition = parseMonitorDefinition(
      {
        checks: [
          { name: 'api', url: `${healthy.url}/health`, timeout: 1000, slo: { availability: 99 } },
          {
            name: 'search "v2"',
            url: `${failing.url}/search`,
            timeout: 1000,
            rules: { down: { consecutive: 2 }, errorRate: null },
          },
        ].map((check) => ({ ...check, name: check.name.replace(/[^\w.-]/g, '-') })),
      },
      healthy.url,
      'test',
    );
    let clock = new Date(Date.now() - 5 * 60_000);
    const deps = testMonitorDeps(store, new RecordingSink(), () => clock);
    for (let index = 0; index < 3; index++) {
      clock = new Date(clock.getTime() + 60_000);
      await runCycle(definition, deps);
    }
    await postgres.database.admin(
      `INSERT INTO loadtest_runs (id, status, target, options, finished_at, report)
       VALUES (gen_random_uuid(), 'passed', 'http://127.0.0.1:9/', '{}', now() - interval '1 hour', $1),
              (gen_random_uuid(), 'failed', 'http://127.0.0.1:9/', '{}', now(), $2)`,
      [
        JSON.stringify({ totals: { ok: 1, failed: 1 }, errors: {}, latencyMs: { p50: 1, p95: 2, p99: 3 } }),
        JSON.stringify({
          totals: { ok: 980, failed: 20 },
          errors: { timeout: 5, refused: 0 },
          latencyMs: { p50: 12.5, p95: 40, p99: 80 },
        }),
      ],
    );
    api = await startApiServer({ DATABASE_URL: postgres.database.url, METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await api?.close();
    await healthy?.close();
    await failing?.close();
  });

  it('answers 401 with WWW-Authenticate without the metrics token, whatever else is sent', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`]) {
      const response = await fetch(`${api.url}/metrics`, {
        headers: authorization ? { authorization } : {},
      });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="loadwatch metrics"');
    }
  });

  it('exposes checks, SLO budget, the last load test per target and the pool, as a Prometheus parser reads them', async () => {
    const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status, JSON.stringify(api.logs.filter((line) => line.level === 'error'))).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    const text = await response.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    const parsed = parsePrometheusTextFormat(text);
    const families = new Map(parsed.map((family) => [family.name, family]));
    // The parser knows no gauge histogram: it reads its _bucket, _gcount and _gsum lines as families of their own,
    // one per run of lines, so each name's samples are gathered across them.
    const values = (name: string) =>
      parsed
        .filter((family) => family.name === name)
        .flatMap((family) => family.metrics)
        .map((sample) => ({ labels: sample.labels, value: Number(sample.value) }));
    expect(families.get('loadwatch_check_latency_seconds')?.type).toBe('GAUGEHISTOGRAM');

    expect(families.get('loadwatch_check_up')?.type).toBe('GAUGE');
    expect(values('loadwatch_check_up')).toEqual([
      { labels: { check: 'api' }, value: 1 },
      { labels: { check: 'search--v2-' }, value: 0 },
    ]);
    expect(values('loadwatch_check_incident_open')).toEqual([
      { labels: { check: 'api' }, value: 0 },
      { labels: { check: 'search--v2-' }, value: 1 },
    ]);
    // Three passing samples of 1% allowed bad: the budget is whole.
    expect(values('loadwatch_slo_error_budget_remaining_ratio')).toEqual([
      { labels: { check: 'api', window: '30d' }, value: 1 },
    ]);
    expect(values('loadwatch_slo_objective_ratio')).toEqual([
      { labels: { check: 'api', kind: 'availability' }, value: 0.99 },
    ]);
    expect(values('loadwatch_slo_burn_rate')).toContainEqual({
      labels: { check: 'api', window: '3600s' },
      value: 0,
    });

    // The gauge histogram: cumulative buckets ending in +Inf, equal to its count, for each check.
    const buckets = values('loadwatch_check_latency_seconds_bucket').filter(
      (sample) => sample.labels?.check === 'api',
    );
    expect(buckets.at(-1)?.labels?.le).toBe('+Inf');
    expect(buckets.at(-1)?.value).toBe(3);
    for (let index = 1; index < buckets.length; index++)
      expect(buckets[index]?.value).toBeGreaterThanOrEqual(buckets[index - 1]?.value ?? 0);
    expect(values('loadwatch_check_latency_seconds_gcount')).toContainEqual({
      labels: { check: 'api' },
      value: 3,
    });
    // A failed probe has no latency to count.
    expect(values('loadwatch_check_latency_seconds_gcount')).toContainEqual({
      labels: { check: 'search--v2-' },
      value: 0,
    });

    // Only the newest run of the target.
    expect(values('loadwatch_loadtest_last_requests')).toEqual([
      { labels: { target: 'http://127.0.0.1:9/', outcome: 'ok' }, value: 980 },
      { labels: { target: 'http://127.0.0.1:9/', outcome: 'failed' }, value: 20 },
    ]);
    expect(values('loadwatch_loadtest_last_errors')).toContainEqual({
      labels: { target: 'http://127.0.0.1:9/', kind: 'timeout' },
      value: 5,
    });
    expect(values('loadwatch_loadtest_last_latency_seconds')).toEqual([
      { labels: { target: 'http://127.0.0.1:9/', quantile: '0.5' }, value: 0.0125 },
      { labels: { target: 'http://127.0.0.1:9/', quantile: '0.95' }, value: 0.04 },
      { labels: { target: 'http://127.0.0.1:9/', quantile: '0.99' }, value: 0.08 },
    ]);
    const pool = values('loadwatch_db_pool_connections');
    expect(pool.map((sample) => sample.labels?.state)).toEqual(['total', 'idle', 'waiting', 'max']);
    expect(pool.find((sample) => sample.labels?.state === 'total')?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('OpenMetrics exposition', () => {
  it('escapes label values so that a parser reads them back unchanged', () => {
    const text = renderOpenMetrics([
      {
        name: 'x_up',
        help: 'a\nhelp',
        type: 'gauge',
        samples: [{ labels: { target: 'say "hi"\\ \nthere' }, value: 1 }],
      },
    ]);
    const [family] = parsePrometheusTextFormat(text);
    expect(family?.metrics[0]?.labels).toEqual({ target: 'say "hi"\\ \nthere' });
  });

  it('refuses a metric whose name does not end in its unit', () => {
    expect(() =>
      renderOpenMetrics([{ name: 'x_latency', help: '', type: 'gauge', unit: 'seconds', samples: [] }]),
    ).toThrow('metric "x_latency" must end in its unit "_seconds"');
  });

  it('is open locally, off on Lambda without a token, and refuses a short token', () => {
    expect(loadConfig({}).metricsAccess).toEqual({ kind: 'open' });
    expect(
      loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'api', DATABASE_URL: 'postgres://u:p@db.internal:5432/x' })
        .metricsAccess,
    ).toEqual({ kind: 'disabled' });
    expect(configProblems({ METRICS_TOKEN: 'short' })).toContain(
      'METRICS_TOKEN: must be at least 16 characters without spaces',
    );
  });
});
