import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeGenerator, runShard, type ShardWork } from '../../lib/loadtest/engine.ts';
import {
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  recordMs,
  summarize,
} from '../../lib/loadtest/histogram.ts';
import { renderHtmlReport } from '../../lib/loadtest/html-report.ts';
import { classifyError } from '../../lib/loadtest/measurement.ts';
import type { Endpoint } from '../../lib/loadtest/options.ts';
import { RateSchedule } from '../../lib/loadtest/schedule.ts';
import { formatSummary } from '../../lib/loadtest/text-summary.ts';
import { readTimeline } from '../../lib/loadtest/timeline.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { listenLocally } from '../support/listen.ts';
import { reportOf } from '../support/report.ts';

const endpoint = (path: string): Endpoint[] => [{ path, method: 'GET', headers: {}, weight: 1 }];

describe('histograms', () => {
  it('merge into exactly the percentiles of one histogram holding every sample', () => {
    const parts = [createHistogram(), createHistogram(), createHistogram(), createHistogram()];
    const all = createHistogram();
    for (let index = 0; index < 40_000; index++) {
      // A long-tailed distribution, spread unevenly across shards.
      const value = Math.random() ** 4 * 2000 + (index % 7 === 0 ? 50 : 0);
      recordMs(parts[index % 3 === 0 ? 0 : index % 4] ?? all, value);
      recordMs(all, value);
    }
    const merged = mergeHistograms(parts.map(encodeHistogram));
    expect(merged.totalCount).toBe(40_000);
    expect(summarize(merged)).toEqual(summarize(all));
  });
});

describe('RateSchedule', () => {
  it('spreads a ramp from 0 to 100 req/s and a steady minute exactly', () => {
    const schedule = new RateSchedule([
      { durationSeconds: 10, from: 0, to: 100 },
      { durationSeconds: 60, from: 100, to: 100 },
    ]);
    expect(schedule.total).toBe(500 + 6000);
    expect(schedule.timeOf(0)).toBe(0);
    expect(schedule.timeOf(500)).toBeCloseTo(10, 6);
    expect(schedule.timeOf(600)).toBeCloseTo(11, 6);
    expect(schedule.firstIndexAt(10)).toBe(500);
    for (let index = 1; index < schedule.total; index += 97) {
      expect(schedule.timeOf(index)).toBeGreaterThan(schedule.timeOf(index - 1));
    }
  });
});

describe('runShard', () => {
  let server: Server;
  let target: string;
  let stallUntil = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/hang') return; // never answers
      if (request.url === '/reset') {
        request.socket.destroy();
        return;
      }
      if (request.url === '/status/503') {
        response.statusCode = 503;
        response.end();
        return;
      }
      if (request.url === '/busy') {
        // Burns this process's CPU, which the shard measures as its own.
        const until = performance.now() + 40;
        while (performance.now() < until);
      }
      const wait = request.url === '/hundred' ? 100 : Math.max(0, stallUntil - Date.now());
      setTimeout(() => response.end('ok'), wait + 1);
    });
    target = await listenLocally(server);
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const work = (overrides: Partial<ShardWork>): ShardWork => ({
    target,
    endpoints: endpoint('/ok'),
    timeoutMs: 2000,
    runStartedAt: Date.now(),
    deadline: Date.now() + 30_000,
    load: { model: 'closed', requestsPerUser: [5, 5], thinkTimeMs: 0 },
    ...overrides,
  });

  it('sends every request of every virtual user and counts status codes', async () => {
    const result = await runShard(
      work({ load: { model: 'closed', requestsPerUser: [3, 4, 5], thinkTimeMs: 0 } }),
    );
    expect(result).toMatchObject({ requests: 12, ok: 12, failed: 0, remaining: 0, statusCodes: { 200: 12 } });
    expect(readTimeline(result.timeline).reduce((sum, second) => sum + second.requests, 0)).toBe(12);
    expect(decodeHistogram(result.latency).totalCount).toBe(12);
  });

  it('classifies refused, timed-out, reset and 5xx requests', async () => {
    const closedPort = await freePort();
    const refused = await runShard(work({ target: `http://127.0.0.1:${closedPort}` }));
    expect(refused).toMatchObject({ requests: 10, failed: 10, errors: { refused: 10 } });
    const timeouts = await runShard(
      work({
        endpoints: endpoint('/hang'),
        timeoutMs: 150,
        load: { model: 'closed', requestsPerUser: [2], thinkTimeMs: 0 },
      }),
    );
    expect(timeouts).toMatchObject({ requests: 2, failed: 2, errors: { timeout: 2 } });
    const resets = await runShard(
      work({
        endpoints: endpoint('/reset'),
        load: { model: 'closed', requestsPerUser: [2], thinkTimeMs: 0 },
      }),
    );
    expect(resets.errors.reset).toBe(2);
    const unavailable = await runShard(work({ endpoints: endpoint('/status/503') }));
    expect(unavailable).toMatchObject({
      failed: 10,
      statusCodes: { 503: 10 },
      errors: { timeout: 0, other: 0 },
    });
    expect(classifyError(Object.assign(new Error('x'), { cause: { code: 'ENOTFOUND' } }))).toBe('dns');
  });

  it('measures latency over responses only, and keeps it exact when shards merge into the report', async () => {
    const closedPort = await freePort();
    const refused = await runShard(
      work({
        target: `http://127.0.0.1:${closedPort}`,
        load: { model: 'closed', requestsPerUser: [10], thinkTimeMs: 0 },
      }),
    );
    const answered = await runShard(
      work({
        endpoints: endpoint('/hundred'),
        load: { model: 'closed', requestsPerUser: [4], thinkTimeMs: 0 },
      }),
    );
    expect(refused).toMatchObject({ requests: 10, errors: { refused: 10 } });
    expect(decodeHistogram(refused.latency).totalCount).toBe(0);
    expect(readTimeline(refused.timeline).reduce((sum, second) => sum + second.requests, 0)).toBe(10);

    const report = reportOf({ target, users: 2, requests: 7, workers: 2 }, [refused, answered]);
    expect(report).toMatchObject({
      responses: 4,
      noResponse: 10,
      totals: { requests: 14, ok: 4, failed: 10 },
    });
    // Ten refused connections of under a millisecond no longer make the median.
    expect(report.latencyMs.min).toBeGreaterThanOrEqual(100);
    expect(report.latencyMs.p50).toBeGreaterThanOrEqual(100);
    expect(report.latencyMs).toEqual(summarize(decodeHistogram(answered.latency)));
    for (const second of report.timeline) if (second.p50 > 0) expect(second.p50).toBeGreaterThanOrEqual(100);
    expect(formatSummary(report, 'failed')).toContain(
      'over 4 responses; 10 without a response are counted under errors only',
    );
    expect(renderHtmlReport(report)).toContain('Over 4 responses; 10 requests without a response');
  });

  it('stops at its deadline and reports the requests it did not send', async () => {
    const result = await runShard(
      work({
        deadline: Date.now() + 600,
        load: { model: 'closed', requestsPerUser: [100, 100], thinkTimeMs: 100 },
      }),
    );
    expect(result.requests).toBeGreaterThan(2);
    expect(result.requests + result.remaining).toBe(200);
    expect(result.remaining).toBeGreaterThan(150);
  });

  it('drops the queued requests of the open model at its deadline', async () => {
    const started = Date.now();
    const result = await runShard(
      work({
        endpoints: endpoint('/hundred'),
        deadline: Date.now() + 700,
        load: {
          model: 'open',
          stages: [{ durationSeconds: 0.5, from: 100, to: 100 }],
          shardIndex: 0,
          shardCount: 1,
          fromSeconds: 0,
          toSeconds: 0.5,
          maxConnections: 1,
        },
      }),
    );
    // 50 requests of 100 ms queue behind one connection; at the deadline the rest are dropped, not sent.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.requests).toBeGreaterThan(0);
    expect(result.requests).toBeLessThan(50);
  });

  it('starts an open-model shard that began late at its window on the run timeline, so its duration is the schedule', async () => {
    // The round's start instant passed 800 ms before the shard began (a slow load of the run, a busy machine).
    const runStartedAt = Date.now() - 800;
    const result = await runShard(
      work({
        runStartedAt,
        load: {
          model: 'open',
          stages: [{ durationSeconds: 2, from: 10, to: 10 }],
          shardIndex: 0,
          shardCount: 1,
          fromSeconds: 0,
          toSeconds: 2,
          maxConnections: 4,
        },
      }),
    );
    expect(result.requests).toBe(20);
    expect(result.startedAt).toBe(runStartedAt);
    // The last request was due 1.9 s into the window: the shard's span covers the whole schedule.
    expect(result.finishedAt - result.startedAt).toBeGreaterThanOrEqual(1900);
  });

  it('measures from the intended send time when the target stalls, and reports the uncorrected figure too', async () => {
    const runStartedAt = Date.now();
    stallUntil = Date.now() + 1500; // every request sent in the first 1.5 s waits until then
    const result = await runShard(
      work({
        runStartedAt,
        load: {
          model: 'open',
          stages: [{ durationSeconds: 2.5, from: 40, to: 40 }],
          shardIndex: 0,
          shardCount: 1,
          fromSeconds: 0,
          toSeconds: 2.5,
          maxConnections: 1,
        },
      }),
    );
    stallUntil = 0;
    expect(result.requests).toBe(100);
    const corrected = summarize(decodeHistogram(result.latency));
    const uncorrected = summarize(decodeHistogram(result.latencyUncorrected));
    // The stalled request took ~1.5 s; the ~60 requests due meanwhile waited for it. The bounds are set against
    // the 1.5 s stall, not a quiet machine's few milliseconds, so that a busy CI core cannot blur the two figures.
    expect(corrected.p50).toBeGreaterThan(300);
    expect(uncorrected.p50).toBeLessThan(corrected.p50 / 4);
    expect(corrected.max).toBeGreaterThan(1400);
    // The stall was the target's: the generator itself noticed every request due within a small part of it.
    expect(result.generator.sendLagP99Ms).toBeLessThan(200);
  });

  it('flags itself saturated when it could not send on time', async () => {
    // Something else hogs the generator's event loop for 300 ms, twice: requests fall due unnoticed.
    const hog = () => {
      const until = performance.now() + 300;
      while (performance.now() < until);
    };
    setTimeout(hog, 300);
    setTimeout(hog, 900);
    const result = await runShard(
      work({
        load: {
          model: 'open',
          stages: [{ durationSeconds: 1.5, from: 50, to: 50 }],
          shardIndex: 0,
          shardCount: 1,
          fromSeconds: 0,
          toSeconds: 1.5,
          maxConnections: 8,
        },
      }),
    );
    expect(result.generator.sendLagP99Ms).toBeGreaterThan(100);
    expect(result.generator.saturated).toBe(true);
  });

  it('says too short to judge, never saturated, when a shard ran for milliseconds at full CPU', async () => {
    // What a one-request run measured: 110 % CPU over 10 ms.
    expect(judgeGenerator({ wallMs: 10, cpuPercent: 110, eventLoopLagP99Ms: 0, sendLagP99Ms: 0 })).toEqual({
      saturated: false,
      tooShortToJudge: true,
    });
    expect(judgeGenerator({ wallMs: 1500, cpuPercent: 110, eventLoopLagP99Ms: 0, sendLagP99Ms: 0 })).toEqual({
      saturated: true,
      tooShortToJudge: false,
    });
    const result = await runShard(
      work({ endpoints: endpoint('/busy'), load: { model: 'closed', requestsPerUser: [1], thinkTimeMs: 0 } }),
    );
    expect(result.generator).toMatchObject({ saturated: false, tooShortToJudge: true });

    const report = reportOf({ target, users: 1, requests: 1 }, [result]);
    expect(report.generator).toMatchObject({ saturated: false, tooShortToJudge: true });
    expect(formatSummary(report, 'passed')).toMatch(
      /generator {3}too short to judge \(the self-check needs a shard to run 1 s; event-loop lag/,
    );
    expect(formatSummary(report, 'passed')).not.toContain('SATURATED');
    expect(renderHtmlReport(report)).toContain('too short to judge');
  });

  it('divides the open-model timeline between shards without losing or repeating a request', async () => {
    const stages = [
      { durationSeconds: 1, from: 0, to: 60 },
      { durationSeconds: 1, from: 60, to: 60 },
    ];
    const schedule = new RateSchedule(stages);
    const shard = (shardIndex: number, fromSeconds: number, toSeconds: number) =>
      runShard(
        work({
          load: {
            model: 'open',
            stages,
            shardIndex,
            shardCount: 3,
            fromSeconds,
            toSeconds,
            maxConnections: 8,
          },
        }),
      );
    const results = await Promise.all(
      [0, 1, 2].flatMap((index) => [shard(index, 0, 1.2), shard(index, 1.2, 2)]),
    );
    expect(results.reduce((sum, result) => sum + result.requests, 0)).toBe(schedule.total);
    expect(schedule.total).toBe(90);
  });
});
