// Reads the account's Lambda concurrency and the worker function's reservation for the capacity preflight.

import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import type { LambdaConcurrency } from './capacity.ts';

export function createLambdaConcurrencyReader(options: {
  /** The worker function's name (or ARN). */
  functionName: string;
  region?: string;
  client?: Pick<LambdaClient, 'send'>;
}): () => Promise<LambdaConcurrency> {
  const client = options.client ?? new LambdaClient({ region: options.region });
  return async () => {
    const [settings, reservation] = await Promise.all([
      client.send(new GetAccountSettingsCommand({})),
      client.send(new GetFunctionConcurrencyCommand({ FunctionName: options.functionName })),
    ]);
    const accountLimit = settings.AccountLimit?.ConcurrentExecutions;
    const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions;
    if (accountLimit === undefined || unreserved === undefined) {
      throw new Error('Lambda GetAccountSettings returned no AccountLimit concurrency');
    }
    return {
      accountLimit,
      unreserved,
      workerReserved: reservation.ReservedConcurrentExecutions ?? null,
    };
  };
}
