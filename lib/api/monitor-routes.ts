// Monitor state over HTTP: /v1/checks, /v1/alerts, /v1/checks/{name}/samples and the /status page.

import { HttpError } from '../http/errors.ts';
import type { Route } from '../http/router.ts';
import { renderStatusPage } from '../monitor/status-page.ts';
import type { MonitorStore } from '../monitor/store.ts';

export interface MonitorApiDeps {
  monitor: MonitorStore;
  service: string;
  stage: string;
}

const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

export function monitorRoutes<Deps extends { monitorApi: MonitorApiDeps }>(): Route<Deps>[] {
  return [
    {
      method: 'GET',
      path: '/v1/checks',
      handler: async (_request, { monitorApi }) => ({
        status: 200,
        body: { checks: await monitorApi.monitor.checkStates() },
      }),
    },
    {
      method: 'GET',
      path: '/v1/alerts',
      handler: async (request, { monitorApi }) => {
        const state = request.query.state ?? 'all';
        if (state !== 'firing' && state !== 'resolved' && state !== 'all') {
          throw new HttpError(400, 'BAD_REQUEST', `state: "${state}" is not one of firing, resolved, all`);
        }
        const limit = Math.min(500, Math.max(1, Number(request.query.limit ?? 100) || 100));
        return { status: 200, body: { state, alerts: await monitorApi.monitor.incidents(state, limit) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/checks/{name}/samples',
      handler: async (request, { monitorApi }) => {
        const since = request.query.since ? new Date(request.query.since) : new Date(Date.now() - 3_600_000);
        if (Number.isNaN(since.getTime())) {
          throw new HttpError(400, 'BAD_REQUEST', `since: "${request.query.since}" is not an ISO 8601 time`);
        }
        const name = request.params.name ?? '';
        const known = (await monitorApi.monitor.checkStates()).some((check) => check.check === name);
        if (!known) throw new HttpError(404, 'NOT_FOUND', `no check named "${name}"`);
        const limit = Math.min(5000, Math.max(1, Number(request.query.limit ?? 1000) || 1000));
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
        const states = await monitorApi.monitor.checkStates();
        const since = new Date(Date.now() - 6 * 3_600_000);
        const checks = await Promise.all(
          states.map(async (state) => ({
            ...state,
            latencies: (await monitorApi.monitor.samples(state.check, since, 60))
              .reverse()
              .map((sample) => (sample.ok ? sample.latencyMs : null)),
          })),
        );
        const html = renderStatusPage({
          service: monitorApi.service,
          stage: monitorApi.stage,
          generatedAt: new Date(),
          checks,
          incidents: await monitorApi.monitor.incidents('all', 10),
        });
        return {
          status: 200,
          headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': STATUS_PAGE_CSP },
          body: html,
        };
      },
    },
  ];
}
