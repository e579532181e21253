// API Lambda: API Gateway HTTP API (payload 2.0) events in, responses out.

import { createApi } from '../lib/api/create-api.ts';
import { listMigrations } from '../lib/db/migrations.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { lambdaCapacityCheck } from './adapters/capacity.ts';
import { lambdaDb } from './adapters/database.ts';
import { metricsTokenReader } from './adapters/metrics-token.ts';
import { stepFunctionsStarter } from './adapters/step-functions.ts';
import { lambdaEnvironment } from './environment.ts';

const environment = lambdaEnvironment();
const { config, logger } = environment;
const metricsToken = metricsTokenReader(config);

export const handler = createApi({
  config,
  db: lambdaDb(environment),
  logger,
  logFields: invocationLogFields(config.traceHeader),
  knownMigrations: listMigrations(),
  // Both need the account, which only an invocation's context names: built on the first that uses them.
  starter: stepFunctionsStarter(config),
  capacity: lambdaCapacityCheck(config),
  ...(metricsToken ? { metricsToken } : {}),
});
