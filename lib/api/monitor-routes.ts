// Monitor state over HTTP: /v1/checks, /v1/alerts, /v1/checks/{name}/samples, the /status page, and the heartbeats
// jobs send to POST /v1/heartbeats/{name}.

import * as v from 'valibot';
import { HttpError } from '../http/errors.ts';
import { choiceParameter, parseQuery, timeParameter, wholeNumberParameter } from '../http/query.ts';
import type { Route } from '../http/router.ts';
import { DEFAULT_MONITOR_INTERVAL_SECONDS } from '../monitor/settings.ts';
import { renderStatusPage, UPTIME_DAYS } from '../monitor/status-page.ts';
import type { MonitorStore } from '../monitor/store.ts';

export interface MonitorApiDeps {
  monitor: MonitorStore;
  service: string;
  stage: string;
}

/**
 * Check states change once per monitor cycle: half the shortest interval of the monitors that ran the checks
 * (at most 30 s) keeps a reader at most one and a half cycles behind, and spares the database repeated reads.
 */
export function checkStatesMaxAge(states: Array<{ intervalSeconds: number }>): number {
  const shortest = Math.min(
    DEFAULT_MONITOR_INTERVAL_SECONDS,
    ...states.map((state) => state.intervalSeconds),
  );
  return Math.max(1, Math.min(30, Math.floor(shortest / 2)));
}

/** The status page's uptime figures: the last 24 hours, 7 days and 30 days. */
const UPTIME_WINDOWS_SECONDS = [86_400, 7 * 86_400, 30 * 86_400];

const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

const ALERTS_QUERY = v.object({
  state: choiceParameter(['firing', 'resolved', 'all'], 'all'),
  limit: wholeNumberParameter({ fallback: 100, min: 1, max: 500 }),
});
const SAMPLES_QUERY = v.object({
  since: timeParameter(),
  limit: wholeNumberParameter({ fallback: 1000, min: 1, max: 5000 }),
});

/** One answer for an unknown heartbeat and a wrong token, so that neither tells which it was. */
const heartbeatRefused = (name: string) =>
  new HttpError(
    401,
    'HEARTBEAT_REFUSED',
    `no heartbeat "${name}" takes this token: send "Authorization: Bearer <the heartbeat's token>" (not the API token), for a heartbeat the monitor has run`,
    { headers: { 'WWW-Authenticate': 'Bearer realm="loadwatch heartbeats"' } },
  );

export function monitorRoutes<Deps extends { monitorApi: MonitorApiDeps }>(): Route<Deps>[] {
  return [
    {
      method: 'POST',
      path: '/v1/heartbeats/{name}',
      handler: async (request, { monitorApi }) => {
        const name = request.params.name ?? '';
        const token = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
        const at = new Date();
        if (!token || !(await monitorApi.monitor.recordBeat(name, token, at))) throw heartbeatRefused(name);
        return { status: 200, body: { heartbeat: name, receivedAt: at.toISOString() } };
      },
    },
    {
      method: 'GET',
      path: '/v1/checks',
      handler: async (_request, { monitorApi }) => {
        const checks = await monitorApi.monitor.checkStates();
        return {
          status: 200,
          headers: { 'Cache-Control': `private, max-age=${checkStatesMaxAge(checks)}` },
          body: { checks },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/alerts',
      handler: async (request, { monitorApi }) => {
        const { state, limit } = parseQuery(request, ALERTS_QUERY);
        return { status: 200, body: { state, alerts: await monitorApi.monitor.incidents(state, limit) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/checks/{name}/samples',
      handler: async (request, { monitorApi }) => {
        const { since = new Date(Date.now() - 3_600_000), limit } = parseQuery(request, SAMPLES_QUERY);
        const name = request.params.name ?? '';
        const known = (await monitorApi.monitor.checkStates()).some((check) => check.check === name);
        if (!known) throw new HttpError(404, 'NOT_FOUND', `no check named "${name}"`);
        return {
          status: 200,
          body: {
            check: name,
            since: since.toISOString(),
            samples: await monitorApi.monitor.samples(name, since, limit),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/status',
      handler: async (_request, { monitorApi }) => {
        const now = new Date();
        const store = monitorApi.monitor;
        const states = await store.checkStates(now);
        const since = new Date(now.getTime() - 6 * 3_600_000);
        const keys = states.map((state) => state.check);
        const [samples, days, windows] = await Promise.all([
          store.samplesOf(keys, since, 60),
          store.dailyUptime(keys, now, UPTIME_DAYS),
          store.uptimeWindows(keys, now, UPTIME_WINDOWS_SECONDS),
        ]);
        const percentUp = (counts: { total: number; bad: number } | undefined) =>
          counts && counts.total > 0 ? (100 * (counts.total - counts.bad)) / counts.total : null;
        const checks = states.map((state) => {
          const recent = [...(samples.get(state.check) ?? [])].reverse();
          const uptime = windows.get(state.check);
          return {
            ...state,
            latencies: recent.map((sample) => (sample.ok ? sample.latencyMs : null)),
            latencySamples: recent.map((sample) => ({
              at: sample.at,
              latencyMs: sample.ok ? sample.latencyMs : null,
            })),
            uptime: {
              day: percentUp(uptime?.get(86_400)),
              week: percentUp(uptime?.get(7 * 86_400)),
              month: percentUp(uptime?.get(30 * 86_400)),
            },
            days: days.get(state.check) ?? [],
          };
        });
        const body = renderStatusPage({
          service: monitorApi.service,
          stage: monitorApi.stage,
          generatedAt: now,
          checks,
          incidents: await store.incidents('all', 20),
        });
        return {
          status: 200,
          headers: {
            'Content-Type': 'text/html; charset=utf-8',
            'Content-Security-Policy': STATUS_PAGE_CSP,
            // Public like the page itself; an authenticated request gets it private (conditionalGet).
            'Cache-Control': `public, max-age=${checkStatesMaxAge(states)}`,
          },
          body,
        };
      },
    },
  ];
}
