// The Lambda concurrency preflight for the runs a function starts, read from the worker function's settings.

import type { Context } from 'aws-lambda';
import { type Config, ConfigError } from '../../lib/config/config.ts';
import {
  type CapacityCheck,
  createCapacityCheck,
  type LambdaConcurrency,
} from '../../lib/loadtest/capacity.ts';
import { arnParts, perContainer } from '../environment.ts';

export function lambdaCapacityCheck(config: Config): (context: Context) => CapacityCheck {
  return perContainer((context) => {
    const name = config.aws.loadtestWorkerFunctionName;
    if (!name)
      throw new ConfigError([
        'LOADTEST_WORKER_FUNCTION_NAME: is required to check Lambda concurrency before load tests on AWS',
      ]);
    const region = arnParts(context).region;
    let read: Promise<() => Promise<LambdaConcurrency>> | undefined;
    return createCapacityCheck({
      read: async () => {
        // The bundle holds the SDK either way; evaluating it waits for the first run, off every cold start.
        read ??= import('../../lib/loadtest/lambda-capacity.ts').then((module) =>
          module.createLambdaConcurrencyReader({ functionName: name, region }),
        );
        return (await read)();
      },
      reserve: config.loadtest.concurrencyReserve,
    });
  });
}
