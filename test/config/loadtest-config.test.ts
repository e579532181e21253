import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { minimumWorkerMemoryMb, workerLoadFor } from '../../lib/loadtest/worker-capacity.ts';
import { configProblems } from '../support/config.ts';

describe('loadConfig load-test worker sizing', () => {
  it("derives the per-worker load from the worker's memory", () => {
    const small = loadConfig({ LOADTEST_WORKER_MEMORY_MB: '512' }).loadtest;
    expect(small.ratePerWorker).toBe(workerLoadFor(512).ratePerWorker);
    expect(small.usersPerWorker).toBe(workerLoadFor(512).usersPerWorker);
    const standard = loadConfig({}).loadtest;
    expect(standard.ratePerWorker).toBe(workerLoadFor(1024).ratePerWorker);
  });

  it('takes LOADTEST_RATE_PER_WORKER and LOADTEST_USERS_PER_WORKER over the derived figures', () => {
    const limits = loadConfig({ LOADTEST_RATE_PER_WORKER: '750', LOADTEST_USERS_PER_WORKER: '40' }).loadtest;
    expect(limits).toMatchObject({ ratePerWorker: 750, usersPerWorker: 40 });
  });

  it('names the variable and the bound when a per-worker figure is out of range', () => {
    expect(configProblems({ LOADTEST_RATE_PER_WORKER: '0', LOADTEST_USERS_PER_WORKER: '600' })).toEqual([
      'LOADTEST_RATE_PER_WORKER: 0 is out of range (1 to 100000 requests per second)',
      'LOADTEST_USERS_PER_WORKER: 600 is out of range (1 to 512 users (one connection each))',
    ]);
    expect(configProblems({ LOADTEST_USERS_PER_WORKER: 'many' })).toEqual([
      'LOADTEST_USERS_PER_WORKER: "many" is not a whole number of users (one connection each)',
    ]);
  });

  it('refuses a worker memory too small for the load engine, naming the smallest that works', () => {
    const floor = minimumWorkerMemoryMb();
    expect(configProblems({ LOADTEST_WORKER_MEMORY_MB: String(floor - 1) })).toEqual([
      expect.stringMatching(
        new RegExp(
          `^LOADTEST_WORKER_MEMORY_MB: ${floor - 1} MB is too small a CPU share: .* give at least ${floor} MB$`,
        ),
      ),
    ]);
    expect(loadConfig({ LOADTEST_WORKER_MEMORY_MB: String(floor) }).loadtest.workerMemoryMb).toBe(floor);
  });
});

describe('loadConfig load-test cost guards', () => {
  it('defaults to a $25 cap, arm64 workers and 100 executions left to the rest of the account', () => {
    expect(loadConfig({}).loadtest).toMatchObject({
      maxUsd: 25,
      workerArchitecture: 'arm64',
      concurrencyReserve: 100,
    });
  });

  it('reads LOADTEST_MAX_USD in dollars and cents, the architecture and the reserve', () => {
    const limits = loadConfig({
      LOADTEST_MAX_USD: '2.50',
      LOADTEST_WORKER_ARCHITECTURE: 'x86_64',
      LOADTEST_CONCURRENCY_RESERVE: '250',
    }).loadtest;
    expect(limits).toMatchObject({ maxUsd: 2.5, workerArchitecture: 'x86_64', concurrencyReserve: 250 });
  });

  it('names each bad cost setting and what is wrong with it', () => {
    expect(
      configProblems({
        LOADTEST_MAX_USD: '$10',
        LOADTEST_WORKER_ARCHITECTURE: 'arm',
        LOADTEST_CONCURRENCY_RESERVE: '-1',
      }),
    ).toEqual([
      'LOADTEST_MAX_USD: "$10" is not an amount of US dollars over 0 and up to 1000000',
      'LOADTEST_WORKER_ARCHITECTURE: "arm" is not one of arm64, x86_64',
      'LOADTEST_CONCURRENCY_RESERVE: -1 is out of range (0 to 1000000 concurrent executions)',
    ]);
    expect(configProblems({ LOADTEST_MAX_USD: '0' })).toEqual([
      'LOADTEST_MAX_USD: "0" is not an amount of US dollars over 0 and up to 1000000',
    ]);
  });

  it('names the worker function for the concurrency preflight', () => {
    expect(
      loadConfig({ LOADTEST_WORKER_FUNCTION_NAME: 'loadwatch-prod-loadtestWorker' }).aws
        .loadtestWorkerFunctionName,
    ).toBe('loadwatch-prod-loadtestWorker');
  });
});

describe('loadConfig load-test caps for real scale', () => {
  it('allows 1,000,000 req/s and 10,000 workers by default', () => {
    expect(loadConfig({}).loadtest).toMatchObject({ maxRate: 1_000_000, maxWorkers: 10_000 });
  });

  it('accepts caps up to 10,000,000 req/s and an hour of it in requests, and no further', () => {
    expect(
      loadConfig({ LOADTEST_MAX_RATE: '10000000', LOADTEST_MAX_REQUESTS: '36000000000' }).loadtest,
    ).toMatchObject({ maxRate: 10_000_000, maxRequests: 36_000_000_000 });
    expect(configProblems({ LOADTEST_MAX_RATE: '10000001', LOADTEST_MAX_WORKERS: '10001' })).toEqual([
      'LOADTEST_MAX_RATE: 10000001 is out of range (1 to 10000000 requests per second)',
      'LOADTEST_MAX_WORKERS: 10001 is out of range (1 to 10000 workers)',
    ]);
  });
});
