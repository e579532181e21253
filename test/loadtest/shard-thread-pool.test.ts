import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { runLocally } from '../../lib/loadtest/local-runner.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { createShardThreadPool, ShardThreadError } from '../../lib/loadtest/shard-thread-pool.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('local load test on worker threads', () => {
  const postgres = useMigratedDatabase({ poolSize: 4 });
  let store: LoadTestStore;
  let server: Server;
  let target: string;
  let received = 0;
  /** performance.now() of the latest request's arrival: after an abort, when the last thread stopped sending. */
  let lastArrival = 0;
  const logger = createLogger({ level: 'error' });

  beforeAll(async () => {
    store = new LoadTestStore(postgres.db);
    server = createServer((_request, response) => {
      received++;
      lastArrival = performance.now();
      setTimeout(() => response.end('ok'), 2);
    });
    target = await listenLocally(server);
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('runs a four-shard run on one thread per core, sends exactly users × requests, and ends the threads', async () => {
    received = 0;
    const run = await createLoadTest({ target, users: 40, requests: 25, workers: 4 }, store, DEFAULT_LIMITS);
    const execution = runLocally(run.runId, { store, logger, progress: () => undefined });
    const outcome = await execution.result;
    expect(outcome).toMatchObject({ status: 'passed', requests: 1000 });
    expect(received).toBe(1000);
    const report = (await store.getRun(run.runId))?.report;
    expect(report?.totals).toEqual({ requests: 1000, ok: 1000, failed: 0 });
    expect(report?.shards).toMatchObject({ planned: 4, completed: 4, failed: 0 });
    expect(execution.threads?.threads).toBeGreaterThanOrEqual(1);
    expect(execution.threads?.alive()).toBe(0);
  });

  it('spreads shards over the threads, reports their progress, and stops each at once on abort', async () => {
    received = 0;
    const pool = createShardThreadPool({ threads: 2 });
    try {
      const progress = new Map<number, number>();
      const controller = new AbortController();
      const shard = (shardIndex: number) =>
        pool.runShard(
          {
            target,
            endpoints: [{ path: '/', method: 'GET', headers: {}, weight: 1 }],
            timeoutMs: 2000,
            runStartedAt: Date.now(),
            deadline: Date.now() + 30_000,
            load: {
              model: 'open',
              stages: [{ durationSeconds: 20, from: 100, to: 100 }],
              shardIndex,
              shardCount: 4,
              fromSeconds: 0,
              toSeconds: 20,
              maxConnections: 8,
            },
          },
          {
            signal: controller.signal,
            onProgress: ({ requests }) => progress.set(shardIndex, requests),
          },
        );
      const results = Promise.all([0, 1, 2, 3].map(shard));
      expect(pool.alive()).toBe(2);
      // Every shard is sending, as its progress from its thread says.
      await vi.waitFor(
        () => expect(Math.min(...[0, 1, 2, 3].map((index) => progress.get(index) ?? 0))).toBeGreaterThan(5),
        {
          timeout: 10_000,
          interval: 50,
        },
      );
      const abortedAt = performance.now();
      controller.abort();
      const shards = await results;
      // The 20 s schedule ended within the requests in flight, not at a poll a second later.
      expect(performance.now() - abortedAt).toBeLessThan(1000);
      expect(shards.every((result) => result.aborted)).toBe(true);
      expect(shards.reduce((sum, result) => sum + result.requests, 0)).toBe(received);
      expect(received).toBeLessThan(1000);
    } finally {
      await pool.close();
    }
    expect(pool.alive()).toBe(0);
    await expect(pool.runShard({} as never)).rejects.toMatchObject({ code: 'SHARD_THREAD_POOL_CLOSED' });
  });

  it('aborts a multi-shard run on every thread within two seconds of the request, with exact totals', async () => {
    received = 0;
    const run = await createLoadTest({ target, rate: 80, duration: 30, workers: 4 }, store, DEFAULT_LIMITS);
    const execution = runLocally(run.runId, { store, logger });
    await vi.waitFor(() => expect(received).toBeGreaterThan(50), { timeout: 10_000, interval: 50 });
    const requestedAt = performance.now();
    await store.requestAbort(run.runId);
    const outcome = await execution.result;
    // One poll of the abort flag (1 s) and the requests in flight: then no thread sends any more.
    expect(lastArrival - requestedAt).toBeLessThan(2000);
    expect(outcome.status).toBe('aborted');
    const report = (await store.getRun(run.runId))?.report;
    expect(report?.shards).toMatchObject({ planned: 4, completed: 4 });
    expect(report?.totals.requests).toBe(received);
    expect(received).toBeLessThan(1000);
    expect(execution.threads?.alive()).toBe(0);
  });

  it('rejects a shard the engine throws on with its error as thrown, and the thread runs the next shard', async () => {
    const pool = createShardThreadPool({ threads: 1 });
    try {
      const broken = pool.runShard({
        target: 'not a url',
        endpoints: [],
        timeoutMs: 100,
        runStartedAt: Date.now(),
        deadline: Date.now() + 1000,
        load: { model: 'closed', requestsPerUser: [1], thinkTimeMs: 0 },
      });
      await expect(broken).rejects.toBeInstanceOf(ShardThreadError);
      // Named as on Lambda, where the same shard would throw the same error.
      await expect(broken).rejects.toMatchObject({
        name: 'TypeError',
        code: 'ERR_INVALID_URL',
        message: 'Invalid URL',
      });
      const healthy = await pool.runShard({
        target,
        endpoints: [{ path: '/', method: 'GET', headers: {}, weight: 1 }],
        timeoutMs: 2000,
        runStartedAt: Date.now(),
        deadline: Date.now() + 10_000,
        load: { model: 'closed', requestsPerUser: [3], thinkTimeMs: 0 },
      });
      expect(healthy).toMatchObject({ requests: 3, ok: 3 });
      expect(pool.alive()).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
