import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createLambdaConcurrencyReader } from '../../lib/loadtest/lambda-capacity.ts';

const lambda = mockClient(LambdaClient);

describe('createLambdaConcurrencyReader', () => {
  beforeEach(() => lambda.reset());
  afterAll(() => lambda.restore());

  const read = () =>
    createLambdaConcurrencyReader({
      functionName: 'loadwatch-prod-loadtestWorker',
      client: new LambdaClient({ region: 'us-east-1' }),
    })();

  it("reads the account's limits and the worker function's reservation", async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 700 } });
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'loadwatch-prod-loadtestWorker' })
      .resolves({ ReservedConcurrentExecutions: 300 });
    await expect(read()).resolves.toEqual({ accountLimit: 1000, unreserved: 700, workerReserved: 300 });
    expect(lambda.commandCalls(GetAccountSettingsCommand)).toHaveLength(1);
    expect(lambda.commandCalls(GetFunctionConcurrencyCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'loadwatch-prod-loadtestWorker',
    });
  });

  it('reports no reservation as null, so the workers count against the unreserved pool', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
    lambda.on(GetFunctionConcurrencyCommand).resolves({});
    await expect(read()).resolves.toEqual({ accountLimit: 1000, unreserved: 1000, workerReserved: null });
  });

  it('fails rather than guess when the account settings carry no concurrency', async () => {
    lambda.on(GetAccountSettingsCommand).resolves({});
    lambda.on(GetFunctionConcurrencyCommand).resolves({});
    await expect(read()).rejects.toThrow('Lambda GetAccountSettings returned no AccountLimit concurrency');
  });

  it('passes on an access error of either call', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
    lambda.on(GetFunctionConcurrencyCommand).rejects(new Error('AccessDeniedException'));
    await expect(read()).rejects.toThrow('AccessDeniedException');
  });
});
