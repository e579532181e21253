// Progress snapshots in PostgreSQL and their merge: one row per shard however often it writes, pruned with the
// shard results, one judge per interval, and figures that add up as the report's do.

import { beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../lib/alerts/sink.ts';
import { aggregateStep } from '../../lib/loadtest/coordinator-steps.ts';
import { createHistogram, encodeHistogram, recordMs } from '../../lib/loadtest/histogram.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { lostAbortThreshold, mergeSnapshots, type ShardSnapshot } from '../../lib/loadtest/live.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore, SHARD_RESULT_RETENTION_HOURS } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { scenario, stepsOf } from '../support/step-snapshots.ts';
import { syntheticShard } from '../support/synthetic-shards.ts';

const LIMITS = { ...DEFAULT_LIMITS, maxConcurrentRuns: 1000 };
const NO_ERRORS = { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 };

function encoded(kind: 'precise' | 'timeline', values: number[]): Uint8Array {
  const histogram = createHistogram(kind);
  for (const value of values) recordMs(histogram, value);
  const bytes = encodeHistogram(histogram);
  histogram.destroy();
  return bytes;
}

/** A shard's snapshot of `perSecond` requests a second at `latencyMs`, for seconds [from, windowEnd). */
function snapshot(options: {
  from: number;
  windowEnd: number;
  perSecond: number;
  latencyMs: number;
  finished?: boolean;
  failedPerSecond?: number;
  steps?: ShardSnapshot['steps'];
}): ShardSnapshot {
  const seconds = options.windowEnd - options.from;
  const failed = (options.failedPerSecond ?? 0) * seconds;
  const requests = options.perSecond * seconds;
  return {
    requests,
    ok: requests - failed,
    failed,
    statusCodes: { '200': requests - failed, ...(failed ? { '500': failed } : {}) },
    errors: NO_ERRORS,
    latency: encoded(
      'precise',
      Array.from({ length: requests }, () => options.latencyMs),
    ),
    recent: Array.from({ length: seconds }, (_, index) => ({
      second: options.from + index,
      requests: options.perSecond,
      errors: options.failedPerSecond ?? 0,
      latency: encoded(
        'timeline',
        Array.from({ length: options.perSecond }, () => options.latencyMs),
      ),
    })),
    windowEnd: options.windowEnd,
    runStartedAt: 1_000_000,
    takenAt: 1_000_000 + options.windowEnd * 1000,
    finished: options.finished ?? false,
    ...(options.steps ? { steps: options.steps } : {}),
  };
}

describe('mergeSnapshots', () => {
  it('adds every shard up and ends the window where the most behind running shard is', () => {
    const live = mergeSnapshots(
      [
        snapshot({ from: 0, windowEnd: 14, perSecond: 10, latencyMs: 5 }),
        snapshot({ from: 0, windowEnd: 12, perSecond: 10, latencyMs: 50, failedPerSecond: 1 }),
      ],
      { endpoints: [{ method: 'GET', path: '/a' }] },
    );
    expect(live.totals).toEqual({ requests: 260, ok: 248, failed: 12 });
    expect(live.statusCodes).toEqual({ '200': 248, '500': 12 });
    // Seconds 2–11: both shards reported them; seconds 12 and 13 only the first, so they wait.
    expect(live.window).toMatchObject({
      seconds: 10,
      fromSecond: 2,
      toSecond: 12,
      requests: 200,
      errors: 10,
    });
    expect(live.window.rps).toBe(20);
    expect(live.window.errorPercent).toBe(5);
    // A timeline second holds 1 significant digit: its percentiles read up to 6.25 % high, never low.
    expect(live.window.latencyMs.p50).toBeGreaterThanOrEqual(5);
    expect(live.window.latencyMs.p50).toBeLessThanOrEqual(5 * 1.0625);
    expect(live.window.latencyMs.p99).toBeGreaterThanOrEqual(50);
    expect(live.window.latencyMs.p99).toBeLessThanOrEqual(50 * 1.0625);
    expect(live.elapsedSeconds).toBe(14);
    expect(live.shards).toEqual({ reporting: 2, finished: 0 });
    expect(live.steps).toEqual([
      expect.objectContaining({ name: 'GET /a', method: 'GET', path: '/a', requests: 260, failed: 12 }),
    ]);
  });

  it('ends the window with the run once every shard has finished, and names a run of several endpoints as one', () => {
    const live = mergeSnapshots(
      [
        snapshot({ from: 0, windowEnd: 8, perSecond: 4, latencyMs: 5, finished: true }),
        snapshot({ from: 0, windowEnd: 9, perSecond: 4, latencyMs: 5, finished: true }),
      ],
      {
        endpoints: [
          { method: 'GET', path: '/a' },
          { method: 'POST', path: '/b' },
        ],
      },
    );
    expect(live.window).toMatchObject({ fromSecond: 0, toSecond: 9, requests: 68 });
    expect(live.shards).toEqual({ reporting: 2, finished: 2 });
    expect(live.steps.map((step) => step.name)).toEqual(['all endpoints']);
  });

  it("names a run's one endpoint as the report does, so a step-tagged abort threshold finds it", () => {
    const live = mergeSnapshots([snapshot({ from: 0, windowEnd: 12, perSecond: 10, latencyMs: 900 })], {
      endpoints: [{ method: 'GET', path: '/orders?token=s3cret' }],
    });
    expect(live.steps.map((step) => step.name)).toEqual(['GET /orders?token=***']);
    expect(lostAbortThreshold(['p99{step:GET /orders?token=***}<800:abort'], live, 12)).toMatchObject({
      threshold: 'p99{step:GET /orders?token=***}<800ms:abort',
    });
  });

  it('merges each step of every shard, so far and over the window, with its checks by name', () => {
    const live = mergeSnapshots(
      [
        { ...snapshot({ from: 0, windowEnd: 12, perSecond: 10, latencyMs: 5 }), ...stepsOf(100, 5, 0) },
        { ...snapshot({ from: 0, windowEnd: 12, perSecond: 10, latencyMs: 5 }), ...stepsOf(300, 5, 3) },
      ],
      { endpoints: [], scenario },
    );
    expect(live.steps.map(({ name, method, path, requests }) => [name, method, path, requests])).toEqual([
      ['login', 'POST', '/login', 96],
      ['list', 'GET', '/items', 144],
    ]);
    const [login, list] = live.steps;
    // Half of the logins took 300 ms: p95 so far reads the slow shard's.
    expect(login?.latencyMs.p50).toBeCloseTo(100, -1);
    expect(login?.latencyMs.p95).toBeCloseTo(300, -1);
    // The window is the run's: seconds 2–11 of both shards, 8 logins a second.
    expect(login?.window).toMatchObject({ requests: 80, errors: 0, rps: 8 });
    expect(login?.window.latencyMs.p99).toBeGreaterThanOrEqual(300);
    expect(login?.window.latencyMs.p99).toBeLessThanOrEqual(300 * 1.0625);
    expect(list?.checks).toEqual([
      { name: 'status 200', passed: 144, failed: 0 },
      { name: 'has items', passed: 108, failed: 36 },
    ]);
    expect(live.window.requests).toBe(200);
  });

  it('reads no shard as an empty view', () => {
    const live = mergeSnapshots([], { endpoints: [{ method: 'GET', path: '/' }] });
    expect(live).toMatchObject({ updatedAt: null, totals: { requests: 0 }, window: { seconds: 0, rps: 0 } });
  });
});

describe('lostAbortThreshold', () => {
  const slow = mergeSnapshots([snapshot({ from: 0, windowEnd: 20, perSecond: 10, latencyMs: 900 })], {
    endpoints: [],
  });

  it('names the first abort threshold the run so far has lost, with its figure and when', () => {
    expect(lostAbortThreshold(['errors<1%:abort', 'p99<800:abort'], slow, 20)).toEqual({
      threshold: 'p99<800ms:abort',
      actual: expect.closeTo(900, -1),
      atSeconds: 20,
    });
  });

  it('judges step- and check-tagged thresholds on the steps so far, while the whole run holds', () => {
    const live = mergeSnapshots(
      [
        { ...snapshot({ from: 0, windowEnd: 12, perSecond: 10, latencyMs: 5 }), ...stepsOf(100, 5, 0) },
        { ...snapshot({ from: 0, windowEnd: 12, perSecond: 10, latencyMs: 5 }), ...stepsOf(400, 5, 3) },
      ],
      { endpoints: [], scenario },
    );
    expect(lostAbortThreshold(['p95<300:abort', 'p95{step:list}<300:abort'], live, 12)).toBeNull();
    expect(lostAbortThreshold(['p95<300:abort', 'p95{step:login}<300:abort'], live, 12)).toEqual({
      threshold: 'p95{step:login}<300ms:abort',
      actual: expect.closeTo(400, -1),
      atSeconds: 12,
    });
    expect(lostAbortThreshold(['checks{check:status 200}==100%:abort'], live, 12)).toBeNull();
    expect(lostAbortThreshold(['checks{step:list,check:has items}>=90%:abort'], live, 12)).toEqual({
      threshold: 'checks{step:list,check:has items}>=90%:abort',
      actual: 75,
      atSeconds: 12,
    });
    // A step the run lacks, or a check that never ran, is not judged: it never aborts.
    expect(lostAbortThreshold(['p95{step:checkout}<1:abort'], live, 12)).toBeNull();
  });

  it('holds a lost threshold back until its grace is over', () => {
    expect(lostAbortThreshold(['p99<800:abort:30s'], slow, 20)).toBeNull();
    expect(lostAbortThreshold(['p99<800:abort:30s'], slow, 30)).toMatchObject({
      threshold: 'p99<800ms:abort:30s',
    });
  });
});

describe('LoadTestStore progress snapshots', () => {
  const postgres = useMigratedDatabase({ poolSize: 3 });
  let store: LoadTestStore;

  beforeAll(() => {
    store = new LoadTestStore(postgres.db);
  });

  const rowsOf = async (runId: string) =>
    Number(
      (
        await postgres.database.admin<{ count: string }>(
          'SELECT count(*) FROM loadtest_shard_progress WHERE run_id = $1',
          [runId],
        )
      ).rows[0]?.count,
    );

  it('keeps one row per shard and round, the latest snapshot, bytes and all', async () => {
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', users: 2, requests: 1 },
      store,
      LIMITS,
    );
    for (let second = 1; second <= 5; second++)
      await store.saveShardProgress(
        runId,
        0,
        0,
        snapshot({ from: 0, windowEnd: second, perSecond: 3, latencyMs: 7 }),
      );
    await store.saveShardProgress(
      runId,
      0,
      1,
      snapshot({ from: 0, windowEnd: 2, perSecond: 3, latencyMs: 7 }),
    );
    const withSteps = {
      ...snapshot({ from: 0, windowEnd: 5, perSecond: 3, latencyMs: 7 }),
      ...stepsOf(9, 4, 1),
    };
    await store.saveShardProgress(runId, 0, 0, withSteps);
    expect(await rowsOf(runId)).toBe(2);
    const [first, second] = await store.shardProgress(runId);
    expect(first).toEqual(withSteps);
    expect(second?.windowEnd).toBe(2);
  });

  it('gives the turn to judge to one caller per interval, and none once the run is stopping', async () => {
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', users: 1, requests: 1 },
      store,
      LIMITS,
    );
    expect(await store.takeLiveCheck(runId, 60)).toBe(false);
    await store.markStarted(runId);
    const turns = await Promise.all(Array.from({ length: 8 }, () => store.takeLiveCheck(runId, 60)));
    expect(turns.filter(Boolean)).toHaveLength(1);
    await postgres.database.admin(
      `UPDATE loadtest_runs SET live_checked_at = now() - interval '2 minutes' WHERE id = $1`,
      [runId],
    );
    const reason = { threshold: 'p99<800ms:abort', actual: 912, atSeconds: 4.2 };
    expect(await store.requestAbort(runId, reason)).toBe('aborting');
    expect(await store.takeLiveCheck(runId, 60)).toBe(false);
    // The first reason stays; a later abort (Ctrl-C, DELETE) does not replace it.
    await store.requestAbort(runId);
    expect((await store.getRun(runId))?.abortReason).toEqual(reason);
  });

  it('prunes the snapshots with the shard rows, once the run finished longer ago than the retention', async () => {
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', users: 1, requests: 1 },
      store,
      LIMITS,
    );
    await store.saveShardProgress(
      runId,
      0,
      0,
      snapshot({ from: 0, windowEnd: 1, perSecond: 1, latencyMs: 1 }),
    );
    await store.finish(runId, 'passed', null);
    await store.pruneShardResults();
    expect(await rowsOf(runId)).toBe(1);
    await postgres.database.admin(
      `UPDATE loadtest_runs SET finished_at = now() - make_interval(hours => $2) WHERE id = $1`,
      [runId, SHARD_RESULT_RETENTION_HOURS + 1],
    );
    await store.pruneShardResults();
    expect(await rowsOf(runId)).toBe(0);
  });
});

describe('aggregateStep of a run an abort threshold stopped', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });

  /** The run's one round aggregated, its notifications kept in `sent`. */
  const aggregateOnce = (store: LoadTestStore, runId: string, sent: Notification[]) =>
    aggregateStep(
      {
        runId,
        round: 0,
        startsAt: 0,
        blocks: [0],
        blockCount: 1,
        lastShard: 0,
        distributed: false,
        failedShards: 0,
        done: true,
      },
      {
        store,
        logger: createLogger({ level: 'error' }),
        alerts: { description: 'recorded', publish: async (notification) => void sent.push(notification) },
      },
    );

  it('reports the threshold and when, and sends the notification a failed run gets', async () => {
    const store = new LoadTestStore(postgres.db);
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', rate: 50, duration: 20, thresholds: ['p99<800:abort'] },
      store,
      LIMITS,
    );
    await store.markStarted(runId);
    const { result } = syntheticShard({ seed: 7, fromSecond: 0, seconds: 5, requestsPerSecond: 50 });
    await store.saveShardResult(runId, 0, 0, { ...result, aborted: true });
    const reason = { threshold: 'p99<800ms:abort', actual: 950.5, atSeconds: 4.1 };
    await store.requestAbort(runId, reason);
    const sent: Notification[] = [];
    const outcome = await aggregateOnce(store, runId, sent);
    expect(outcome.status).toBe('aborted');
    const report = (await store.getRun(runId))?.report;
    expect(report?.abortedBy).toEqual(reason);
    expect(report?.failedBecause[0]).toBe(
      'it was aborted: threshold p99<800ms:abort lost 4.1 s into the run (actual 950.5 ms)',
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toMatch(/^Load test aborted: http:\/\/127\.0\.0\.1:9 /);
    expect(sent[0]?.message).toContain(
      'Why: it was aborted: threshold p99<800ms:abort lost 4.1 s into the run',
    );
  });

  it('sends nothing for a run stopped on request', async () => {
    const store = new LoadTestStore(postgres.db);
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', rate: 50, duration: 20 },
      store,
      LIMITS,
    );
    await store.markStarted(runId);
    const { result } = syntheticShard({ seed: 8, fromSecond: 0, seconds: 3, requestsPerSecond: 50 });
    await store.saveShardResult(runId, 0, 0, { ...result, aborted: true });
    await store.requestAbort(runId);
    const sent: Notification[] = [];
    const outcome = await aggregateOnce(store, runId, sent);
    expect(outcome.status).toBe('aborted');
    expect((await store.getRun(runId))?.report?.abortedBy).toBeUndefined();
    expect(sent).toEqual([]);
  });
});
