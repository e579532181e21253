// loadtestWorker Lambda: runs one shard of one round and stores its measurements.

import type { Context } from 'aws-lambda';
import { parseShardTask } from '../lib/loadtest/lambda-events.ts';
import { shardStep } from '../lib/loadtest/steps.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (event: unknown, context: Context) => {
  const task = parseShardTask(event);
  const deps = lambdaDeps();
  return shardStep(task, {
    store: deps.loadTests(),
    logger: deps.logger,
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  });
};
