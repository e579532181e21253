// loadtestWorker Lambda: runs one shard of one round and stores its measurements.

import type { Context } from 'aws-lambda';
import { runShard } from '../lib/loadtest/engine.ts';
import { parseShardTask } from '../lib/loadtest/lambda-events.ts';
import { shardStep } from '../lib/loadtest/shard-step.ts';
import { LoadTestStore } from '../lib/loadtest/store.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { lambdaDb } from './adapters/database.ts';
import { lambdaEnvironment } from './environment.ts';

const environment = lambdaEnvironment();
// The pool opens on first use, so a misconfigured database fails the invocation that needs it.
const store = () => new LoadTestStore(lambdaDb(environment));
const logFields = invocationLogFields(environment.config.traceHeader);

export const handler = async (event: unknown, context: Context) => {
  const task = parseShardTask(event);
  return shardStep(task, {
    store: store(),
    runShard,
    logger: environment.logger.child(logFields(context)),
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  });
};
