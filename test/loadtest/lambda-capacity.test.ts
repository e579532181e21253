import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClient, LAMBDA } from '../../lib/aws/client.ts';
import { createLambdaConcurrencyReader } from '../../lib/loadtest/lambda-capacity.ts';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const ACCOUNT_SETTINGS = '/2016-08-19/account-settings';
const WORKER_CONCURRENCY = '/2019-09-30/functions/loadwatch-prod-loadtestWorker/concurrency';

describe('createLambdaConcurrencyReader', () => {
  let lambda: AwsRecorder;
  /** Answers by path, as Lambda's REST API does: the two reads go out together, in either order. */
  let answers: Record<string, { status: number; body: unknown }>;

  beforeAll(async () => {
    lambda = await startAwsRecorder({ status: 500, body: '' }, (request) => {
      const answer = answers[request.path] ?? { status: 200, body: {} };
      return {
        status: answer.status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(answer.body),
      };
    });
  });
  beforeEach(() => {
    lambda.reset();
    answers = {};
  });
  afterAll(async () => {
    await lambda.close();
  });

  const read = () =>
    createLambdaConcurrencyReader({
      functionName: 'loadwatch-prod-loadtestWorker',
      client: createAwsClient({
        service: LAMBDA,
        region: 'us-east-1',
        endpoint: lambda.url,
        credentials: async () => ({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET }),
        maxAttempts: 1,
      }),
    })();

  it("reads the account's limits and the worker function's reservation, with signed GETs", async () => {
    answers[ACCOUNT_SETTINGS] = {
      status: 200,
      body: { AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 700 } },
    };
    answers[WORKER_CONCURRENCY] = { status: 200, body: { ReservedConcurrentExecutions: 300 } };
    await expect(read()).resolves.toEqual({ accountLimit: 1000, unreserved: 700, workerReserved: 300 });
    expect(lambda.requests.map((request) => `${request.method} ${request.path}`).sort()).toEqual([
      `GET ${ACCOUNT_SETTINGS}`,
      `GET ${WORKER_CONCURRENCY}`,
    ]);
    for (const request of lambda.requests) expect(verifySigV4(request, SECRET).valid).toBe(true);
  });

  it('reports no reservation as null, so the workers count against the unreserved pool', async () => {
    answers[ACCOUNT_SETTINGS] = {
      status: 200,
      body: { AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } },
    };
    await expect(read()).resolves.toEqual({ accountLimit: 1000, unreserved: 1000, workerReserved: null });
  });

  it('fails rather than guess when the account settings carry no concurrency', async () => {
    await expect(read()).rejects.toThrow('Lambda GetAccountSettings returned no AccountLimit concurrency');
  });

  it('passes on an access error of either call', async () => {
    answers[ACCOUNT_SETTINGS] = {
      status: 200,
      body: { AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } },
    };
    answers[WORKER_CONCURRENCY] = {
      status: 403,
      body: { __type: 'AccessDeniedException', Message: 'not authorized to GetFunctionConcurrency' },
    };
    await expect(read()).rejects.toThrow(
      'Lambda GetFunctionConcurrency: AccessDeniedException (HTTP 403): not authorized to GetFunctionConcurrency',
    );
  });
});
