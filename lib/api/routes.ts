// Every route of the API, used by the Lambda handler and the local server alike.

import type { Db } from '../db/pool.ts';
import { liveness, readiness, type ServiceIdentity } from '../health/readiness.ts';
import type { ApiResponse, Route } from '../http/router.ts';
import { type LoadTestApiDeps, loadTestRoutes } from './loadtest-routes.ts';
import { type MetricsApiDeps, metricsRoutes } from './metrics-route.ts';
import { type MonitorApiDeps, monitorRoutes } from './monitor-routes.ts';

export interface ApiDeps {
  identity: ServiceIdentity;
  db: Db;
  /** Migration names this code ships, newest last. */
  knownMigrations: string[];
  /** Longest /health/ready waits for the database (READINESS_TIMEOUT). */
  readinessTimeoutMs: number;
  /** Seconds since this process or container started. */
  uptimeSeconds: () => number;
  loadTestApi: LoadTestApiDeps;
  monitorApi: MonitorApiDeps;
  metricsApi: MetricsApiDeps;
}

export const apiRoutes: Route<ApiDeps>[] = [
  {
    method: 'GET',
    path: '/health',
    handler: (_request, deps) => ({
      status: 200,
      // Probes ask the container that answers now, never a cache.
      headers: { 'Cache-Control': 'no-store' },
      body: liveness(deps.identity, deps.uptimeSeconds()),
    }),
  },
  {
    method: 'GET',
    path: '/health/ready',
    handler: async (_request, deps): Promise<ApiResponse> => {
      const report = await readiness(deps.identity, deps.db, deps.knownMigrations, deps.readinessTimeoutMs);
      if (report.status === 'ready')
        return { status: 200, headers: { 'Cache-Control': 'no-store' }, body: report };
      return { status: 503, headers: { 'Retry-After': '5' }, body: report };
    },
  },
  ...loadTestRoutes<ApiDeps>(),
  ...monitorRoutes<ApiDeps>(),
  ...metricsRoutes<ApiDeps>(),
];
