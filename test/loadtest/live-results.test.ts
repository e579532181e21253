import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { mergeSnapshots } from '../../lib/loadtest/live.ts';
import { runLocally } from '../../lib/loadtest/local-runner.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('live results of a local run', () => {
  const postgres = useMigratedDatabase({ poolSize: 6 });
  let store: LoadTestStore;
  let server: Server;
  let target: string;
  let received = 0;
  /** After this many requests every answer waits `slowMs`; Infinity keeps the target fast. */
  let slowAfter = Number.POSITIVE_INFINITY;
  let slowMs = 0;
  /** Epoch ms of the first slow request's arrival, and of the latest arrival. */
  let slowSince = 0;
  let lastArrival = 0;
  const logger = createLogger({ level: 'error' });

  beforeAll(async () => {
    store = new LoadTestStore(postgres.db);
    server = createServer((_request, response) => {
      received++;
      lastArrival = Date.now();
      if (received > slowAfter && slowSince === 0) slowSince = lastArrival;
      setTimeout(() => response.end('ok'), received > slowAfter ? slowMs : 2);
    });
    target = await listenLocally(server);
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  const liveOf = async (runId: string) =>
    mergeSnapshots(await store.shardProgress(runId), { endpoints: [{ method: 'GET', path: '/' }] });

  it('shows growing figures while the run goes, and once it has finished the figures of its report', async () => {
    received = 0;
    slowAfter = Number.POSITIVE_INFINITY;
    const run = await createLoadTest(
      { target, endpoint: '/', rate: 60, duration: 8, workers: 4 },
      store,
      DEFAULT_LIMITS,
    );
    const execution = runLocally(run.runId, { store, logger });
    let finished = false;
    void execution.result.finally(() => {
      finished = true;
    });
    const seen: number[] = [];
    const windows: number[] = [];
    while (!finished) {
      const live = await liveOf(run.runId);
      if (!finished) {
        seen.push(live.totals.requests);
        if (live.shards.reporting === 4 && live.window.seconds >= 5) windows.push(live.window.rps);
      }
      await sleep(500);
    }
    const outcome = await execution.result;
    expect(outcome.status).toBe('passed');
    const report = (await store.getRun(run.runId))?.report;
    if (!report) throw new Error('no report');
    // Read while running: something, never less than before, never more than the run sent in the end.
    const during = seen.filter((requests) => requests > 0);
    expect(during.length).toBeGreaterThanOrEqual(5);
    for (let index = 1; index < seen.length; index++)
      expect(seen[index]).toBeGreaterThanOrEqual(seen[index - 1] as number);
    expect(Math.max(...seen)).toBeLessThanOrEqual(report.totals.requests);
    expect(Math.min(...during)).toBeLessThan(report.totals.requests);
    // The last seconds every shard reported ran at about the set rate (60 req/s); judged on the latest window
    // of five seconds or more, which a busy machine's catch-up bursts cannot skew much.
    expect(windows.length).toBeGreaterThan(0);
    expect(windows.at(-1)).toBeGreaterThan(35);
    expect(windows.at(-1)).toBeLessThan(85);

    const final = await liveOf(run.runId);
    expect(final.shards).toEqual({ reporting: 4, finished: 4 });
    expect(final.totals).toEqual(report.totals);
    expect(final.statusCodes).toEqual(report.statusCodes);
    expect(final.errors).toEqual(report.errors);
    expect(final.latencyMs).toEqual(report.latencyMs);
    // What the API serves: the same, as the Aggregate step stored it from the final snapshots.
    const stored = (await store.getRun(run.runId))?.live;
    expect(stored?.totals).toEqual(report.totals);
    expect(stored?.latencyMs).toEqual(report.latencyMs);
    expect(stored?.shards).toEqual({ reporting: 4, finished: 4 });
    expect(final.steps).toEqual([
      expect.objectContaining({ name: 'GET /', requests: report.totals.requests, failed: 0 }),
    ]);
  });

  it('stops a four-shard open-model run within 5 s of its target turning slow, naming the threshold and when', async () => {
    received = 0;
    slowSince = 0;
    // Slow from the fifth second; the grace keeps the first three out of the judgement, where a machine busy with
    // starting the shards' threads makes the generator itself late (and its latencies, measured from the intended
    // send time, with it).
    slowAfter = 400;
    slowMs = 900;
    const run = await createLoadTest(
      {
        target,
        endpoint: '/',
        rate: 100,
        duration: 40,
        workers: 4,
        thresholds: ['p99<500:abort:3s', 'errors<1%'],
      },
      store,
      DEFAULT_LIMITS,
    );
    const execution = runLocally(run.runId, { store, logger });
    const outcome = await execution.result;
    expect(outcome.status).toBe('aborted');
    expect(slowSince).toBeGreaterThan(0);
    // No shard sent anything more than 5 s after the target turned slow (the 40 s schedule was cut short).
    expect(lastArrival - slowSince).toBeLessThan(5000);
    const record = await store.getRun(run.runId);
    const report = record?.report;
    if (!report) throw new Error('no report');
    expect(report.aborted).toBe(true);
    expect(report.abortedBy).toMatchObject({ threshold: 'p99<500ms:abort:3s' });
    expect(report.abortedBy?.actual).toBeGreaterThanOrEqual(500);
    // Judged lost after the slowdown began, within the 5 s, in seconds from the run's start.
    const slowAtSeconds = (slowSince - Date.parse(report.startedAt ?? '')) / 1000;
    expect(report.abortedBy?.atSeconds).toBeGreaterThan(slowAtSeconds);
    expect(report.abortedBy?.atSeconds).toBeLessThan(slowAtSeconds + 5);
    expect(report.failedBecause[0]).toMatch(
      /^it was aborted: threshold p99<500ms:abort:3s lost \d+(\.\d+)? s into the run \(actual \d+(\.\d+)? ms\)$/,
    );
    expect(report.totals.requests).toBe(received);
    expect(report.thresholds.find((item) => item.expr === 'p99<500ms:abort:3s')?.passed).toBe(false);
  });

  it('holds an abort threshold back during its grace', async () => {
    received = 0;
    slowSince = 0;
    slowAfter = 0;
    slowMs = 50;
    const run = await createLoadTest(
      { target, endpoint: '/', rate: 40, duration: 4, workers: 2, thresholds: ['p99<10:abort:30s'] },
      store,
      DEFAULT_LIMITS,
    );
    const outcome = await runLocally(run.runId, { store, logger }).result;
    // Lost from the first response on, but the run ended inside the grace: judged at the end, never aborted.
    expect(outcome.status).toBe('failed');
    const report = (await store.getRun(run.runId))?.report;
    expect(report?.aborted).toBe(false);
    expect(report?.abortedBy).toBeUndefined();
    expect(report?.totals.requests).toBe(160);
    await vi.waitFor(async () => expect((await liveOf(run.runId)).totals.requests).toBe(160));
  });
});
