// Assembles the API from configuration and adapters: the one place both runtimes build it.

import type { Context } from 'aws-lambda';
import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../config/config.ts';
import type { Db } from '../db/pool.ts';
import { type ApiHandler, createApiHandler } from '../http/app.ts';
import type { CapacityCheck } from '../loadtest/capacity.ts';
import type { ExecutionStarter } from '../loadtest/launcher.ts';
import { LoadTestStore } from '../loadtest/store.ts';
import type { LogFields, Logger } from '../log/logger.ts';
import { MonitorStore } from '../monitor/store.ts';
import { apiRoutes } from './routes.ts';

export const SERVICE_VERSION: string = packageJson.version;

export interface CreateApiDeps {
  config: Config;
  db: Db;
  logger: Logger;
  knownMigrations: string[];
  /**
   * Starts load-test executions: Step Functions on AWS, the in-process state machine locally. A function of the
   * invocation's context when the adapter needs it (on Lambda, the account in the function's ARN).
   */
  starter: ExecutionStarter | ((context: Context) => ExecutionStarter);
  /** The Lambda concurrency preflight on AWS; unset locally. */
  capacity?: CapacityCheck | ((context: Context) => CapacityCheck);
  /** Reads the token of METRICS_TOKEN_SECRET_NAME on AWS, from the invocation's account and region. */
  metricsToken?: (context: Context) => () => Promise<string>;
  /** Fields each invocation's log lines carry (on Lambda: request id, cold start, trace id). */
  logFields?: (context: Context) => LogFields;
}

const forInvocation = <T extends object>(adapter: T | ((context: Context) => T), context: Context): T =>
  typeof adapter === 'function' ? adapter(context) : adapter;

/** Built only when a run starts, so an API without the load-test settings still answers everything else. */
const lazyStarter = (starter: CreateApiDeps['starter'], context: Context): ExecutionStarter => ({
  start: (runId) => forInvocation(starter, context).start(runId),
});
const lazyCapacity = (capacity: NonNullable<CreateApiDeps['capacity']>, context: Context): CapacityCheck => ({
  check: (plan) => forInvocation(capacity, context).check(plan),
});

export function createApi(deps: CreateApiDeps): ApiHandler {
  const startedAt = Date.now();
  const { starter, capacity } = deps;
  const loadTests = new LoadTestStore(deps.db);
  const monitor = new MonitorStore(deps.db);
  const depsFor = (context: Context) => ({
    identity: { service: deps.config.service, stage: deps.config.stage, version: SERVICE_VERSION },
    db: deps.db,
    knownMigrations: deps.knownMigrations,
    readinessTimeoutMs: deps.config.timeouts.readinessTimeoutMs,
    uptimeSeconds: () => (Date.now() - startedAt) / 1000,
    loadTestApi: {
      db: deps.db,
      loadTests,
      limits: deps.config.loadtest,
      apiUrl: deps.config.apiUrl,
      runtime: deps.config.runtime,
      starter: typeof starter === 'function' ? lazyStarter(starter, context) : starter,
      capacity: typeof capacity === 'function' ? lazyCapacity(capacity, context) : capacity,
    },
    monitorApi: { monitor, service: deps.config.service, stage: deps.config.stage },
    metricsApi: {
      access: deps.config.metricsAccess,
      ...(deps.metricsToken ? { token: deps.metricsToken(context) } : {}),
      monitor,
      loadTests,
      db: deps.db,
    },
  });
  const perInvocation = typeof starter === 'function' || typeof capacity === 'function';
  return createApiHandler({
    routes: apiRoutes,
    // Adapters that need no context are resolved once, so local runs build nothing per request.
    ...(perInvocation ? { depsFor } : { deps: depsFor({} as Context) }),
    cors: deps.config.cors,
    logger: deps.logger,
    logFields: deps.logFields,
    handlerTimeoutMs: deps.config.timeouts.handlerTimeoutMs,
  });
}
