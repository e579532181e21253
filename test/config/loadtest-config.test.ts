import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config/config.ts';
import { minimumWorkerMemoryMb, workerLoadFor } from '../../lib/loadtest/worker-capacity.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

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
    expect(problemsOf({ LOADTEST_RATE_PER_WORKER: '0', LOADTEST_USERS_PER_WORKER: '600' })).toEqual([
      'LOADTEST_RATE_PER_WORKER: 0 is out of range (1 to 100000 requests per second)',
      'LOADTEST_USERS_PER_WORKER: 600 is out of range (1 to 512 users (one connection each))',
    ]);
    expect(problemsOf({ LOADTEST_USERS_PER_WORKER: 'many' })).toEqual([
      'LOADTEST_USERS_PER_WORKER: "many" is not a whole number of users (one connection each)',
    ]);
  });

  it('refuses a worker memory too small for the load engine, naming the smallest that works', () => {
    const floor = minimumWorkerMemoryMb();
    expect(problemsOf({ LOADTEST_WORKER_MEMORY_MB: String(floor - 1) })).toEqual([
      expect.stringMatching(
        new RegExp(
          `^LOADTEST_WORKER_MEMORY_MB: ${floor - 1} MB is too small a CPU share: .* give at least ${floor} MB$`,
        ),
      ),
    ]);
    expect(loadConfig({ LOADTEST_WORKER_MEMORY_MB: String(floor) }).loadtest.workerMemoryMb).toBe(floor);
  });
});
