import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config/config.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import {
  planLoadTest,
  SAVE_MARGIN_SECONDS,
  shardFailuresTolerated,
  shardTimeBudget,
  startLeadSeconds,
} from '../../lib/loadtest/plan.ts';

const target = 'http://127.0.0.1:9';
const onLambda = {
  ...DEFAULT_LIMITS,
  workersRunOn: 'lambda' as const,
  maxWorkers: 10_000,
  maxUsers: 100_000,
};

describe('startLeadSeconds', () => {
  it('leaves Lambda 10 s per 1,000 workers past the first 1,000 to scale, and a process milliseconds', () => {
    expect(startLeadSeconds(1, 'lambda')).toBe(10);
    expect(startLeadSeconds(1000, 'lambda')).toBe(10);
    expect(startLeadSeconds(1001, 'lambda')).toBe(20);
    expect(startLeadSeconds(10_000, 'lambda')).toBe(100);
    expect(startLeadSeconds(2000, 'local')).toBe(4.5);
  });
});

describe('planLoadTest at scale', () => {
  it('runs 10,000 workers at once in 250 blocks of 40, with no waves', () => {
    const plan = planLoadTest(
      parseLoadTestInput({ target, users: 10_000, workers: 10_000 }, onLambda),
      onLambda,
    );
    expect(plan).toMatchObject({
      mode: 'DISTRIBUTED',
      shards: 10_000,
      maxConcurrency: 10_000,
      blocks: 250,
      startLeadSeconds: 100,
      workerTimeoutSeconds: 900,
    });
  });

  it('refuses a request timeout that would not fit the worker, naming the field and the most it may be', () => {
    const limits = { ...onLambda, shardSeconds: 840 };
    const options = parseLoadTestInput({ target, users: 10, timeout: '60s' }, limits);
    expect(() => planLoadTest(options, limits)).toThrow(
      "timeout: 60s is too long: a 10 s start, 840 s of sending (LOADTEST_SHARD_SECONDS=840), the request timeout and 20 s to save the result must fit the worker's 900 s (LOADTEST_WORKER_TIMEOUT); at most 30s",
    );
    expect(() =>
      planLoadTest(parseLoadTestInput({ target, users: 10, timeout: '30s' }, limits), limits),
    ).not.toThrow();
  });

  it('refuses more workers than can start within the worker timeout, naming the field', () => {
    const limits = { ...onLambda, shardSeconds: 840 };
    const options = parseLoadTestInput({ target, users: 5000, workers: 5000, timeout: '1s' }, limits);
    expect(() => planLoadTest(options, limits)).toThrow(/^workers: 5000 workers take 50 s to start; /);
  });

  it('counts an open-model run only for as long as it sends', () => {
    const limits = { ...onLambda, shardSeconds: 840 };
    // 60 s of sending, not 840: a two-minute request timeout fits.
    const options = parseLoadTestInput({ target, rate: 100, duration: 60, timeout: '120s' }, limits);
    expect(planLoadTest(options, limits).shards).toBe(1);
  });
});

describe('worker time budget in the configuration', () => {
  it('refuses a shard length that cannot fit the worker timeout, naming both variables', () => {
    const lambda = {
      AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-dev-api',
      DATABASE_URL: 'postgres://u:p@db:5432/x',
    };
    let error: unknown;
    try {
      loadConfig({ ...lambda, LOADTEST_SHARD_SECONDS: '600', LOADTEST_WORKER_TIMEOUT: '600' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toContain(
      'LOADTEST_SHARD_SECONDS: 600 s does not fit LOADTEST_WORKER_TIMEOUT (600 s) with a 10 s start, a 1 s request timeout and 20 s to save the result; at most 569 s',
    );
    expect(
      loadConfig({ ...lambda, LOADTEST_SHARD_SECONDS: '569', LOADTEST_WORKER_TIMEOUT: '600' }).loadtest,
    ).toMatchObject({ shardSeconds: 569, workerTimeoutSeconds: 600, workersRunOn: 'lambda' });
  });
});

describe('shardTimeBudget', () => {
  const startsAt = 1_000_000;
  it('sends for the shard length from the round start, and cuts requests in flight one request timeout later', () => {
    expect(
      shardTimeBudget({
        startsAt,
        readyAt: startsAt - 5000,
        lambdaEndsAt: startsAt + 900_000,
        sendSeconds: 600,
        requestTimeoutMs: 10_000,
      }),
    ).toEqual({ deadline: startsAt + 600_000, cutoff: startsAt + 610_000 });
  });

  it('stops early enough for the requests in flight and the save when the Lambda has less time left', () => {
    const lambdaEndsAt = startsAt + 100_000;
    const budget = shardTimeBudget({
      startsAt,
      readyAt: startsAt,
      lambdaEndsAt,
      sendSeconds: 600,
      requestTimeoutMs: 10_000,
    });
    expect(budget.cutoff).toBe(lambdaEndsAt - SAVE_MARGIN_SECONDS * 1000);
    expect(budget.deadline).toBe(budget.cutoff - 10_000);
  });

  it('gives a late closed-model shard its full length and an open-model shard until its window is sent', () => {
    const late = {
      startsAt,
      readyAt: startsAt + 30_000,
      lambdaEndsAt: startsAt + 930_000,
      requestTimeoutMs: 1000,
    };
    expect(shardTimeBudget({ ...late, sendSeconds: 60 }).deadline).toBe(startsAt + 90_000);
    expect(shardTimeBudget({ ...late, sendSeconds: null }).cutoff).toBe(startsAt + 910_000);
  });
});

describe('shardFailuresTolerated', () => {
  it('tolerates failures up to the percentage of the shards run so far', () => {
    expect(shardFailuresTolerated(3, 60, 5)).toBe(true);
    expect(shardFailuresTolerated(3, 60, 4)).toBe(false);
    expect(shardFailuresTolerated(0, 60, 0)).toBe(true);
    expect(shardFailuresTolerated(1, 60, 0)).toBe(false);
  });
});
