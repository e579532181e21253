// The Aggregate step's merge against a real PostgreSQL: page by page, over several rounds, with a retried shard
// and a row stored in the older format, it reports exactly what one histogram of every sample would.

import * as hdr from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import type { Db } from '../../lib/db/pool.ts';
import type { ShardResult } from '../../lib/loadtest/engine.ts';
import {
  createHistogram,
  distribution,
  encodeHistogram,
  type Histogram,
  mergeHistograms,
  recordMs,
  summarize,
} from '../../lib/loadtest/histogram.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/options.ts';
import { buildReport, type LegacyShardResult, type ShardRow } from '../../lib/loadtest/report.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { aggregateStep } from '../../lib/loadtest/steps.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { TimelineWriter } from '../../lib/loadtest/timeline.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../support/database.ts';

const RUN_STARTED_AT = Date.parse('2026-01-05T10:00:00Z');

/** Deterministic pseudo-random numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) % 4_294_967_296;
    return state / 4_294_967_296;
  };
}

/** Every sample of every shard kept, as one histogram would: the figures a merge must reproduce. */
class Truth {
  readonly latency = createHistogram();
  readonly uncorrected = createHistogram();
  readonly seconds = new Map<number, { requests: number; errors: number; histogram: Histogram }>();
  requests = 0;

  second(second: number) {
    let entry = this.seconds.get(second);
    if (!entry) {
      entry = { requests: 0, errors: 0, histogram: createHistogram('timeline') };
      this.seconds.set(second, entry);
    }
    return entry;
  }
}

interface SyntheticShard {
  /** The result in today's encoding, and the same samples in the encoding of rows stored before it. */
  result: ShardResult;
  legacy: LegacyShardResult;
}

/** One shard of one round: a long-tailed latency per request, some 503s, a second with refused connections. */
function syntheticShard(
  seed: number,
  fromSecond: number,
  seconds: number,
  truth: Truth | null,
): SyntheticShard {
  const random = seededRandom(seed);
  const latency = createHistogram();
  const uncorrected = createHistogram();
  const timeline = new TimelineWriter();
  const legacyTimeline: LegacyShardResult['timeline'] = [];
  let requests = 0;
  let failed = 0;
  for (let second = fromSecond; second < fromSecond + seconds; second++) {
    // Shards skip seconds now and then: a merge must not assume every shard covers every second.
    if (random() < 0.1) continue;
    const perSecond = createHistogram('timeline');
    const count = 1 + Math.floor(random() * 120);
    let errors = 0;
    for (let index = 0; index < count; index++) {
      const refused = random() < 0.02;
      const milliseconds = (random() < 0.03 ? 400 : 20) * Math.exp(random() ** 2 * 2.5) + random();
      const late = milliseconds + (random() < 0.1 ? random() * 50 : 0);
      requests++;
      if (refused || random() < 0.05) {
        errors++;
        failed++;
      }
      if (refused) continue;
      recordMs(latency, late);
      recordMs(uncorrected, milliseconds);
      recordMs(perSecond, late);
      if (truth) {
        recordMs(truth.latency, late);
        recordMs(truth.uncorrected, milliseconds);
        recordMs(truth.second(second).histogram, late);
      }
    }
    if (truth) {
      truth.second(second).requests += count;
      truth.second(second).errors += errors;
      truth.requests += count;
    }
    timeline.add(second, count, errors, perSecond);
    legacyTimeline.push({
      second,
      requests: count,
      errors,
      histogram: hdr.encodeIntoCompressedBase64(perSecond),
    });
    perSecond.destroy();
  }
  const summary = {
    requests,
    ok: requests - failed,
    failed,
    remaining: 0,
    aborted: false,
    statusCodes: { 200: requests - failed },
    errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
    startedAt: RUN_STARTED_AT + fromSecond * 1000,
    finishedAt: RUN_STARTED_AT + (fromSecond + seconds) * 1000,
    generator: {
      eventLoopLagP99Ms: (seed % 7) + 1,
      eventLoopLagMaxMs: 20,
      sendLagP99Ms: seed % 5,
      cpuPercent: 30 + (seed % 11),
      saturated: false,
    },
  };
  const shard = {
    result: {
      ...summary,
      latency: encodeHistogram(latency),
      latencyUncorrected: encodeHistogram(uncorrected),
      timeline: timeline.finish(),
    },
    legacy: {
      ...summary,
      latency: hdr.encodeIntoCompressedBase64(latency),
      latencyUncorrected: hdr.encodeIntoCompressedBase64(uncorrected),
      timeline: legacyTimeline,
    },
  };
  latency.destroy();
  uncorrected.destroy();
  return shard;
}

const ROUNDS = 3;
const SHARDS = 5;
const ROUND_SECONDS = 20;

describe('aggregateStep', () => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase();
    await runMigrations({ target: database.target, direction: 'up' });
    db = testPool(database.target);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('reports, page by page over several rounds, exactly the figures of one histogram of every sample', async () => {
    // Pages of 4 rows: the 15 rows of the run take four pages, the last one short.
    const store = new LoadTestStore(db, { shardPageSize: 4 });
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', rate: 50, duration: ROUNDS * ROUND_SECONDS, workers: SHARDS },
      store,
      { ...DEFAULT_LIMITS, shardSeconds: ROUND_SECONDS },
    );
    await store.markStarted(runId);
    const truth = new Truth();
    const rows: ShardRow[] = [];
    const legacyRows: ShardRow[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let shard = 0; shard < SHARDS; shard++) {
        const seed = 1 + round * SHARDS + shard;
        if (round === 1 && shard === 3) {
          // A first attempt whose Lambda died after saving: its retry replaces the row, never adds to it.
          const discarded = syntheticShard(9_999, round * ROUND_SECONDS, ROUND_SECONDS, null);
          await store.saveShardResult(runId, round, shard, discarded.result);
        }
        const synthetic = syntheticShard(seed, round * ROUND_SECONDS, ROUND_SECONDS, truth);
        if (round === 0 && shard === 2) {
          // Written by the previous version during an upgrade: the whole result as JSON.
          await database.admin(
            `INSERT INTO loadtest_shard_results (run_id, round, shard, result) VALUES ($1, $2, $3, $4)`,
            [runId, round, shard, JSON.stringify(synthetic.legacy)],
          );
        } else {
          await store.saveShardResult(runId, round, shard, synthetic.result);
        }
        const attempts = round === 1 && shard === 3 ? 2 : 1;
        rows.push({ round, shard, attempts, result: synthetic.result });
        legacyRows.push({ round, shard, attempts, result: synthetic.legacy });
      }
    }

    const pages: number[] = [];
    for await (const page of store.shardResultPages(runId)) pages.push(page.length);
    expect(pages).toEqual([4, 4, 4, 3]);

    const outcome = await aggregateStep(
      {
        runId,
        round: ROUNDS - 1,
        shards: [0, 1, 2, 3, 4],
        distributed: false,
        maxConcurrency: SHARDS,
        toleratedFailurePercent: 0,
        done: true,
      },
      { store, logger: createLogger({ level: 'error' }) },
    );
    const report = (await store.getRun(runId))?.report;
    if (!report) throw new Error('no report stored');
    expect(outcome.requests).toBe(truth.requests);
    expect(report.totals.requests).toBe(truth.requests);
    expect(report.shards).toMatchObject({ planned: 15, completed: 15, retried: 1, failed: 0 });
    expect(report.rounds).toBe(ROUNDS);

    // The run's percentiles, as one histogram holding every sample of every shard gives them.
    expect(JSON.stringify(report.latencyMs)).toBe(JSON.stringify(summarize(truth.latency)));
    expect(JSON.stringify(report.latencyUncorrectedMs)).toBe(JSON.stringify(summarize(truth.uncorrected)));
    expect(report.responses).toBe(truth.latency.totalCount);
    // Every second's counts and percentiles, as one histogram of that second's samples gives them.
    const expectedTimeline = [...truth.seconds.entries()]
      .sort(([a], [b]) => a - b)
      .map(([second, entry]) => ({
        second,
        requests: entry.requests,
        errors: entry.errors,
        p50: entry.histogram.totalCount ? Math.round(entry.histogram.getValueAtPercentile(50)) / 1000 : 0,
        p99: entry.histogram.totalCount ? Math.round(entry.histogram.getValueAtPercentile(99)) / 1000 : 0,
      }));
    expect(report.timeline.length).toBeGreaterThan(ROUNDS * ROUND_SECONDS * 0.8);
    expect(JSON.stringify(report.timeline)).toBe(JSON.stringify(expectedTimeline));

    // The whole report, byte for byte, as the decode-every-histogram merge of the same samples gives it,
    // and as all rows merged at once in memory.
    const run = await store.getRun(runId);
    if (!run?.plan) throw new Error('no plan');
    const inMemory = buildReport({
      runId,
      options: run.options,
      plan: run.plan,
      shards: rows,
      expectedShards: 15,
      aborted: false,
    });
    const decodedOneByOne = buildReport({
      runId,
      options: run.options,
      plan: run.plan,
      shards: legacyRows,
      expectedShards: 15,
      aborted: false,
    });
    expect(JSON.stringify(report)).toBe(JSON.stringify(inMemory));
    expect(JSON.stringify(report)).toBe(JSON.stringify(decodedOneByOne));
    // The plotted distribution reads the merged minimum and maximum: bucket bounds, not raw samples.
    const legacyMerged = hdr.build({
      bitBucketSize: 32,
      autoResize: false,
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
    for (const row of legacyRows) {
      const decoded = hdr.decodeFromCompressedBase64(row.result.latency as string, 32, false);
      legacyMerged.add(decoded);
    }
    // As stored: JSON, where the -0 of an empty bucket is 0.
    expect(JSON.stringify(report.histogram)).toBe(JSON.stringify(distribution(legacyMerged)));
  });
});

describe('mergeHistograms', () => {
  it('gives the percentiles, minimum and maximum that decoding and adding each HDR histogram gives', () => {
    const random = seededRandom(42);
    const parts = Array.from({ length: 6 }, () => createHistogram());
    const added = createHistogram();
    for (let index = 0; index < 30_000; index++) {
      recordMs(parts[index % 6] as Histogram, random() ** 5 * 3000 + 0.2);
    }
    for (const part of parts) added.add(hdr.decodeFromCompressedBase64(hdr.encodeIntoCompressedBase64(part)));
    const merged = mergeHistograms(parts.map(encodeHistogram));
    const mixed = mergeHistograms(
      parts.map((part, index) => (index % 2 ? encodeHistogram(part) : hdr.encodeIntoCompressedBase64(part))),
    );
    for (const histogram of [merged, mixed]) {
      expect(histogram.totalCount).toBe(30_000);
      expect(summarize(histogram)).toEqual(summarize(added));
      expect([histogram.minNonZeroValue, histogram.maxValue]).toEqual([
        added.minNonZeroValue,
        added.maxValue,
      ]);
      expect(distribution(histogram)).toEqual(distribution(added));
    }
  });
});
