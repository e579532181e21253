// loadtestWorker Lambda: runs one shard of one round and stores its measurements.

import type { Context } from 'aws-lambda';
import { type ShardTask, shardStep } from '../lib/loadtest/steps.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (event: ShardTask, context: Context) => {
  const deps = lambdaDeps();
  return shardStep(event, {
    store: deps.loadTests(),
    logger: deps.logger,
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  });
};
