// API Lambda: API Gateway HTTP API (payload 2.0) events in, responses out.

import type { Context } from 'aws-lambda';
import { createApi } from '../lib/api/create-api.ts';
import { listMigrations } from '../lib/db/migrations.ts';
import type { HttpEvent } from '../lib/http/middleware/types.ts';
import { lambdaDeps } from './deps.ts';

const deps = lambdaDeps();
// A container serves one invocation at a time; the starter needs its ARN to name the state machine.
let currentContext: Context | undefined;

const api = createApi({
  config: deps.config,
  db: deps.db(),
  logger: deps.logger,
  knownMigrations: listMigrations(),
  starter: {
    start: (runId) => {
      if (!currentContext) throw new Error('no Lambda context');
      return deps.starter(currentContext).start(runId);
    },
  },
  capacity: {
    check: (plan) => {
      if (!currentContext) throw new Error('no Lambda context');
      return deps.capacity(currentContext).check(plan);
    },
  },
});

export const handler = (event: HttpEvent, context: Context) => {
  currentContext = context;
  return api(event, context);
};
