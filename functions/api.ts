// API Lambda: API Gateway HTTP API (payload 2.0) events in, responses out.

import { createApi } from '../lib/api/create-api.ts';
import { listMigrations } from '../lib/db/migrations.ts';
import { lambdaDeps } from './deps.ts';

const deps = lambdaDeps();

export const handler = createApi({
  config: deps.config,
  db: deps.db(),
  logger: deps.logger,
  knownMigrations: listMigrations(),
});
