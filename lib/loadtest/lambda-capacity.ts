// Reads the account's Lambda concurrency and the worker function's reservation for the capacity preflight.

import { type AwsClient, createAwsClient, LAMBDA, pathLabel } from '../aws/client.ts';
import type { LambdaConcurrency } from './capacity.ts';

interface AccountSettings {
  AccountLimit?: { ConcurrentExecutions?: number; UnreservedConcurrentExecutions?: number };
}

export function createLambdaConcurrencyReader(options: {
  /** The worker function's name (or ARN). */
  functionName: string;
  region?: string;
  client?: AwsClient;
}): () => Promise<LambdaConcurrency> {
  const client = options.client ?? createAwsClient({ service: LAMBDA, region: options.region });
  return async () => {
    // The paths of GetAccountSettings and GetFunctionConcurrency in Lambda's REST API.
    const [settings, reservation] = await Promise.all([
      client.get<AccountSettings>('GetAccountSettings', '/2016-08-19/account-settings'),
      client.get<{ ReservedConcurrentExecutions?: number }>(
        'GetFunctionConcurrency',
        `/2019-09-30/functions/${pathLabel(options.functionName)}/concurrency`,
      ),
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
