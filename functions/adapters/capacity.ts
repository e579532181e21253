// The Lambda concurrency preflight for the runs a function starts, read from the worker function's settings.

import type { Context } from 'aws-lambda';
import { type Config, ConfigError } from '../../lib/config/config.ts';
import { type CapacityCheck, createCapacityCheck } from '../../lib/loadtest/capacity.ts';
import { createLambdaConcurrencyReader } from '../../lib/loadtest/lambda-capacity.ts';
import { arnParts, perContainer } from '../environment.ts';

export function lambdaCapacityCheck(config: Config): (context: Context) => CapacityCheck {
  return perContainer((context) => {
    const name = config.aws.loadtestWorkerFunctionName;
    if (!name)
      throw new ConfigError([
        'LOADTEST_WORKER_FUNCTION_NAME: is required to check Lambda concurrency before load tests on AWS',
      ]);
    return createCapacityCheck({
      read: createLambdaConcurrencyReader({ functionName: name, region: arnParts(context).region }),
      reserve: config.loadtest.concurrencyReserve,
    });
  });
}
