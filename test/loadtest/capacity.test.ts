import { beforeAll, describe, expect, it } from 'vitest';
import {
  concurrentWorkers,
  createCapacityCheck,
  decideCapacity,
  type LambdaConcurrency,
  localCapacityCheck,
} from '../../lib/loadtest/capacity.ts';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { useMigratedDatabase } from '../support/database.ts';

const target = 'http://localhost:3000';
const account = (unreserved: number, workerReserved: number | null = null): LambdaConcurrency => ({
  accountLimit: 1000,
  unreserved,
  workerReserved,
});

describe('decideCapacity', () => {
  it('fits workers that leave the reserve of the unreserved pool free', () => {
    expect(decideCapacity(400, account(900), 100)).toEqual({
      fits: true,
      note: '400 concurrent workers leave 500 of 900 unreserved Lambda concurrency (account limit 1000)',
    });
    expect(decideCapacity(800, account(900), 100).fits).toBe(true);
  });

  it('refuses workers that would starve the API under test, naming the numbers and the variable', () => {
    expect(decideCapacity(801, account(900), 100)).toEqual({
      fits: false,
      problem:
        "workers: 801 concurrent workers would leave 99 of the account's 900 unreserved Lambda concurrency " +
        '(account limit 1000), under the 100 kept for the API under test and the other functions ' +
        '(LOADTEST_CONCURRENCY_RESERVE); give fewer workers, reserve concurrency for the worker function, or ask ' +
        'AWS for a higher limit',
    });
  });

  it('refuses workers that do not fit in the account at all', () => {
    const decision = decideCapacity(2000, account(900), 0);
    expect(decision.fits).toBe(false);
    expect(!decision.fits && decision.problem).toMatch(/would leave 0 of the account's 900 unreserved/);
  });

  it('judges a worker function with reserved concurrency by its reservation alone', () => {
    expect(decideCapacity(300, account(100, 300), 100)).toEqual({
      fits: true,
      note: "300 concurrent workers within the worker function's reserved concurrency of 300",
    });
    expect(decideCapacity(301, account(900, 300), 100)).toEqual({
      fits: false,
      problem:
        "workers: 301 concurrent workers are over the worker function's reserved concurrency of 300 " +
        '(account limit 1000); give fewer workers or raise its reserved concurrency',
    });
    expect(decideCapacity(1, account(900, 0), 100).fits).toBe(false);
  });
});

describe('createCapacityCheck', () => {
  const planFor = (workers: number) =>
    planLoadTest(parseLoadTestInput({ target, users: workers, requests: 1, workers }), DEFAULT_LIMITS);

  it('reports what it read when the workers fit', async () => {
    const check = createCapacityCheck({ read: async () => account(1000), reserve: 100 });
    await expect(check.check(planFor(50))).resolves.toEqual({
      checked: true,
      concurrentWorkers: 50,
      reserve: 100,
      accountLimit: 1000,
      unreserved: 1000,
      workerReserved: null,
      note: '50 concurrent workers leave 950 of 1000 unreserved Lambda concurrency (account limit 1000)',
    });
  });

  it('counts the workers a round runs at once', () => {
    expect(concurrentWorkers({ ...planFor(50), maxConcurrency: 20 })).toBe(20);
  });

  it('refuses with a LoadTestInputError when they do not fit', async () => {
    const check = createCapacityCheck({ read: async () => account(120), reserve: 100 });
    await expect(check.check(planFor(50))).rejects.toThrow(LoadTestInputError);
    await expect(check.check(planFor(50))).rejects.toThrow(/workers: 50 concurrent workers would leave 70/);
  });

  it('is a no-op that says so locally', async () => {
    await expect(localCapacityCheck.check(planFor(1))).resolves.toEqual({
      checked: false,
      note: 'local run: shards run in this process, no Lambda concurrency to check',
    });
  });
});

describe('createLoadTest with a capacity check', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let store: LoadTestStore;

  beforeAll(() => {
    store = new LoadTestStore(postgres.db);
  });

  it('records no run that the account cannot hold, and records one it can with the report', async () => {
    const tight = createCapacityCheck({ read: async () => account(105), reserve: 100 });
    await expect(
      createLoadTest(
        { target, users: 10, requests: 1, workers: 10 },
        store,
        DEFAULT_LIMITS,
        undefined,
        tight,
      ),
    ).rejects.toThrow(/workers: 10 concurrent workers would leave 95/);
    expect(await store.listRuns(10)).toEqual([]);

    const roomy = createCapacityCheck({ read: async () => account(1000), reserve: 100 });
    const run = await createLoadTest(
      { target, users: 10, requests: 1, workers: 10 },
      store,
      DEFAULT_LIMITS,
      undefined,
      roomy,
    );
    expect(run.capacity).toMatchObject({ checked: true, concurrentWorkers: 10, unreserved: 1000 });
    expect((await store.listRuns(10)).map((item) => item.id)).toEqual([run.runId]);
  });
});
