// GET /metrics in the OpenMetrics text format: the monitor's checks, each target's last load test and the pool,
// behind its own bearer token (METRICS_TOKEN, or on AWS the secret METRICS_TOKEN_SECRET_NAME); open locally without
// one, absent on AWS without one.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { MetricsAccess } from '../config/config.ts';
import type { Db } from '../db/pool.ts';
import { HttpError } from '../http/errors.ts';
import type { Route } from '../http/router.ts';
import type { LoadTestStore } from '../loadtest/store.ts';
import {
  bucketBound,
  type MetricFamily,
  OPENMETRICS_CONTENT_TYPE,
  renderOpenMetrics,
} from '../metrics/openmetrics.ts';
import type { MonitorStore } from '../monitor/store.ts';

export interface MetricsApiDeps {
  access: MetricsAccess;
  /** The token of a `secret` access, read at run time (Secrets Manager on AWS) and cached by the reader. */
  token?: () => Promise<string>;
  monitor: MonitorStore;
  loadTests: LoadTestStore;
  db: Db;
}

/** Latency buckets in seconds, from a fast health check to a probe's longest timeout. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The checks' latency histogram covers the samples of this last stretch. */
const HISTOGRAM_WINDOW_MS = 3_600_000;

const gauge = (family: Omit<MetricFamily, 'type'>): MetricFamily => ({ ...family, type: 'gauge' });

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The token a scrape must present; a secret that cannot be read leaves /metrics unavailable, not open. */
async function expectedToken(deps: MetricsApiDeps): Promise<string | null> {
  const { access } = deps;
  if (access.kind === 'disabled')
    throw new HttpError(404, 'NOT_FOUND', 'GET /metrics is disabled: set METRICS_TOKEN to turn it on');
  if (access.kind === 'open') return null;
  if (access.kind === 'token') return access.token;
  try {
    if (!deps.token) throw new Error('no reader for the metrics token secret');
    return await deps.token();
  } catch (error) {
    throw new HttpError(
      503,
      'METRICS_TOKEN_UNAVAILABLE',
      `the metrics token could not be read from secret ${access.secretName}`,
      {
        cause: error,
        expose: false,
        publicMessage: "the metrics token is unavailable; the API's log says why",
      },
    );
  }
}

async function authorize(deps: MetricsApiDeps, authorization: string | undefined) {
  const token = await expectedToken(deps);
  if (token === null) return;
  const presented = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  // Compared as digests, so that neither the length nor the content leaks through timing.
  if (!presented || !timingSafeEqual(digest(presented), digest(token)))
    throw new HttpError(401, 'METRICS_TOKEN_REQUIRED', 'send "Authorization: Bearer <METRICS_TOKEN>"', {
      headers: { 'WWW-Authenticate': 'Bearer realm="loadwatch metrics"' },
    });
}

export async function metricFamilies(deps: MetricsApiDeps): Promise<MetricFamily[]> {
  const now = new Date();
  const [states, histograms, runs] = await Promise.all([
    deps.monitor.checkStates(now),
    deps.monitor.latencyHistograms(
      new Date(now.getTime() - HISTOGRAM_WINDOW_MS),
      LATENCY_BUCKETS_SECONDS.map((seconds) => seconds * 1000),
    ),
    deps.loadTests.lastRunsByTarget(),
  ]);
  const check = (name: string) => ({ check: name });
  const latency: MetricFamily = {
    name: 'loadwatch_check_latency_seconds',
    help: 'Latency of the samples that passed over the last hour.',
    type: 'gaugehistogram',
    unit: 'seconds',
    samples: [],
  };
  for (const state of states) {
    const histogram = histograms.get(state.check) ?? { buckets: [], count: 0, sumMs: 0 };
    latency.samples.push(
      ...LATENCY_BUCKETS_SECONDS.map((le, index) => ({
        suffix: '_bucket',
        labels: { ...check(state.check), le: bucketBound(le) },
        value: histogram.buckets[index] ?? 0,
      })),
      {
        suffix: '_bucket',
        labels: { ...check(state.check), le: '+Inf' },
        value: histogram.count,
      },
      { suffix: '_gcount', labels: check(state.check), value: histogram.count },
      { suffix: '_gsum', labels: check(state.check), value: histogram.sumMs / 1000 },
    );
  }
  const withSlo = states.filter((state) => state.slo);
  const pool = deps.db.stats();
  return [
    gauge({
      name: 'loadwatch_check_up',
      help: 'Whether the check passed its newest probe (1) or failed it (0).',
      samples: states
        .filter((state) => state.lastSample)
        .map((state) => ({ labels: check(state.check), value: state.lastSample?.ok ? 1 : 0 })),
    }),
    latency,
    gauge({
      name: 'loadwatch_check_incident_open',
      help: 'Whether the check is in an incident (ALARM).',
      samples: states.map((state) => ({
        labels: check(state.check),
        value: state.state === 'ALARM' ? 1 : 0,
      })),
    }),
    gauge({
      name: 'loadwatch_check_stale',
      help: 'Whether the check has not been probed for three of its intervals.',
      samples: states.map((state) => ({ labels: check(state.check), value: state.stale ? 1 : 0 })),
    }),
    gauge({
      name: 'loadwatch_check_last_probe_timestamp_seconds',
      help: 'When the check was last probed, in Unix seconds.',
      unit: 'seconds',
      samples: states.flatMap((state) =>
        state.lastCheckedAt
          ? [{ labels: check(state.check), value: Date.parse(state.lastCheckedAt) / 1000 }]
          : [],
      ),
    }),
    gauge({
      name: 'loadwatch_slo_error_budget_remaining_ratio',
      help: "Share of the objective window's error budget not yet spent (1 untouched, below 0 once missed).",
      unit: 'ratio',
      samples: withSlo.map((state) => ({
        labels: { ...check(state.check), window: `${state.slo?.windowDays}d` },
        value: (state.slo?.budgetLeftPercent ?? 0) / 100,
      })),
    }),
    gauge({
      name: 'loadwatch_slo_objective_ratio',
      help: 'The share of samples the objective requires to be good.',
      unit: 'ratio',
      samples: withSlo.map((state) => ({
        labels: { ...check(state.check), kind: state.slo?.kind ?? 'availability' },
        value: (state.slo?.targetPercent ?? 0) / 100,
      })),
    }),
    gauge({
      name: 'loadwatch_slo_burn_rate',
      help: 'How many times faster than sustainable the error budget burned over each window.',
      samples: withSlo.flatMap((state) =>
        Object.entries(state.slo?.burnRates ?? {}).map(([seconds, rate]) => ({
          labels: { ...check(state.check), window: `${seconds}s` },
          value: rate,
        })),
      ),
    }),
    gauge({
      name: 'loadwatch_loadtest_last_requests',
      help: "Requests of each target's newest finished load test, by outcome.",
      samples: runs.flatMap((run) => [
        { labels: { target: run.target, outcome: 'ok' }, value: run.report.totals.ok },
        { labels: { target: run.target, outcome: 'failed' }, value: run.report.totals.failed },
      ]),
    }),
    gauge({
      name: 'loadwatch_loadtest_last_errors',
      help: "Requests without a response in each target's newest finished load test, by kind.",
      samples: runs.flatMap((run) =>
        Object.entries(run.report.errors ?? {}).map(([kind, count]) => ({
          labels: { target: run.target, kind },
          value: Number(count),
        })),
      ),
    }),
    gauge({
      name: 'loadwatch_loadtest_last_latency_seconds',
      help: "Latency quantiles of each target's newest finished load test.",
      unit: 'seconds',
      samples: runs.flatMap((run) =>
        (['p50', 'p95', 'p99'] as const).map((quantile) => ({
          labels: { target: run.target, quantile: String(Number(quantile.slice(1)) / 100) },
          value: run.report.latencyMs[quantile] / 1000,
        })),
      ),
    }),
    gauge({
      name: 'loadwatch_loadtest_last_finished_timestamp_seconds',
      help: "When each target's newest load test finished, in Unix seconds.",
      unit: 'seconds',
      samples: runs.map((run) => ({
        labels: { target: run.target, status: run.status },
        value: run.finishedAt.getTime() / 1000,
      })),
    }),
    gauge({
      name: 'loadwatch_db_pool_connections',
      help: "The API's database pool: open, idle and waiting connections, and its maximum.",
      samples: (['total', 'idle', 'waiting', 'max'] as const).map((state) => ({
        labels: { state },
        value: pool[state],
      })),
    }),
  ];
}

export function metricsRoutes<Deps extends { metricsApi: MetricsApiDeps }>(): Route<Deps>[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      handler: async (request, { metricsApi }) => {
        await authorize(metricsApi, request.headers.authorization);
        return {
          status: 200,
          headers: { 'Content-Type': OPENMETRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' },
          body: renderOpenMetrics(await metricFamilies(metricsApi)),
        };
      },
    },
  ];
}
