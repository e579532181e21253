// Assembles the API from configuration and adapters: the one place both runtimes build it.

import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../config/config.ts';
import type { Db } from '../db/pool.ts';
import { type ApiHandler, createApiHandler } from '../http/app.ts';
import type { CapacityCheck } from '../loadtest/capacity.ts';
import type { ExecutionStarter } from '../loadtest/launcher.ts';
import { LoadTestStore } from '../loadtest/store.ts';
import type { Logger } from '../log/logger.ts';
import { MonitorStore } from '../monitor/store.ts';
import { apiRoutes } from './routes.ts';

export const SERVICE_VERSION: string = packageJson.version;

export interface CreateApiDeps {
  config: Config;
  db: Db;
  logger: Logger;
  knownMigrations: string[];
  /** Starts load-test executions: Step Functions on AWS, the in-process state machine locally. */
  starter: ExecutionStarter;
  /** The Lambda concurrency preflight on AWS; unset locally. */
  capacity?: CapacityCheck;
  startedAt?: number;
}

export function createApi(deps: CreateApiDeps): ApiHandler {
  const startedAt = deps.startedAt ?? Date.now();
  return createApiHandler({
    routes: apiRoutes,
    deps: {
      identity: { service: deps.config.service, stage: deps.config.stage, version: SERVICE_VERSION },
      db: deps.db,
      knownMigrations: deps.knownMigrations,
      readinessTimeoutMs: deps.config.timeouts.readinessTimeoutMs,
      uptimeSeconds: () => (Date.now() - startedAt) / 1000,
      loadTestApi: {
        db: deps.db,
        loadTests: new LoadTestStore(deps.db),
        limits: deps.config.loadtest,
        apiUrl: deps.config.apiUrl,
        runtime: deps.config.runtime,
        starter: deps.starter,
        capacity: deps.capacity,
      },
      monitorApi: {
        monitor: new MonitorStore(deps.db),
        service: deps.config.service,
        stage: deps.config.stage,
      },
    },
    cors: deps.config.cors,
    logger: deps.logger,
    handlerTimeoutMs: deps.config.timeouts.handlerTimeoutMs,
  });
}
