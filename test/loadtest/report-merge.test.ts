// The Aggregate step's merge against a real PostgreSQL: page by page, over several rounds, with a retried shard
// and rows stored in the older formats, it reports exactly what one histogram of every sample would.

import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { aggregateStep } from '../../lib/loadtest/coordinator-steps.ts';
import {
  BucketFormat,
  bucketCount,
  createHistogram,
  distribution,
  encodeHistogram,
  type Histogram,
  mergeHistograms,
  recordMs,
  summarize,
  twoDigitTimelineBuckets,
  VarintWriter,
} from '../../lib/loadtest/histogram.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { buildReport, type ShardRow } from '../../lib/loadtest/report.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { TimelineMerge, TimelineWriter } from '../../lib/loadtest/timeline.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { createTwoDigitTimelineHistogram } from '../support/pairs-format.ts';
import { SampleTruth, seededRandom, syntheticShard } from '../support/synthetic-shards.ts';

const ROUNDS = 3;
const SHARDS = 5;
const ROUND_SECONDS = 20;

describe('aggregateStep', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });

  it('reports, page by page over several rounds, exactly the figures of one histogram of every sample', async () => {
    // Pages of 4 rows: the 15 rows of the run take four pages, the last one short.
    const store = new LoadTestStore(postgres.db, { shardPageSize: 4 });
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', rate: 50, duration: ROUNDS * ROUND_SECONDS, workers: SHARDS },
      store,
      { ...DEFAULT_LIMITS, shardSeconds: ROUND_SECONDS },
    );
    await store.markStarted(runId);
    const truth = new SampleTruth();
    const rows: ShardRow[] = [];
    const legacyRows: ShardRow[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let shard = 0; shard < SHARDS; shard++) {
        const seed = 1 + round * SHARDS + shard;
        const window = { fromSecond: round * ROUND_SECONDS, seconds: ROUND_SECONDS, requestsPerSecond: 60 };
        if (round === 1 && shard === 3) {
          // A first attempt whose Lambda died after saving: its retry replaces the row, never adds to it.
          const discarded = syntheticShard({ seed: 9_999, ...window });
          await store.saveShardResult(runId, round, shard, discarded.result);
        }
        // Shards skip seconds now and then: a merge must not assume every shard covers every second.
        const synthetic = syntheticShard({
          seed,
          ...window,
          idleShare: 0.1,
          truth,
          legacy: true,
          pairs: true,
        });
        if (!synthetic.legacy || !synthetic.pairs) throw new Error('no older encoding');
        if (round === 0 && shard === 2) {
          // Written by the previous version during an upgrade: the whole result as JSON.
          await postgres.database.admin(
            `INSERT INTO loadtest_shard_results (run_id, round, shard, result) VALUES ($1, $2, $3, $4)`,
            [runId, round, shard, JSON.stringify(synthetic.legacy)],
          );
        } else if (round === 2 && shard === 1) {
          // Bucket pairs with 2 significant digits per second, deflated: the format before the runs one.
          await store.saveShardResult(runId, round, shard, synthetic.pairs);
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
        startsAt: 0,
        blocks: [0],
        blockCount: 1,
        lastShard: SHARDS - 1,
        distributed: false,
        failedShards: 0,
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

  it('refuses bytes of a format it does not know instead of merging garbage', () => {
    const encoded = encodeHistogram(createHistogram());
    encoded[0] = 9;
    expect(() => mergeHistograms([encoded])).toThrow(
      expect.objectContaining({ code: 'LOADTEST_ENCODING', message: 'unknown histogram format 9' }),
    );
  });
});

describe('timeline encoding', () => {
  it("maps each 2-significant-digit bucket of an older timeline into the one bucket of today's holding all its values", () => {
    const older = createTwoDigitTimelineHistogram();
    const today = createHistogram('timeline') as hdr.JsHistogram;
    const indexes = twoDigitTimelineBuckets();
    expect(indexes.length).toBe(older.countsArrayLength);
    for (let index = 0; index < older.countsArrayLength; index++) {
      const lowest = older.valueFromIndex(index);
      const highest = older.highestEquivalentValue(lowest);
      expect([today.countsArrayIndex(lowest), today.countsArrayIndex(highest)]).toEqual([
        indexes[index],
        indexes[index],
      ]);
    }
  });

  it('refuses a second whose buckets run past the histogram instead of merging garbage', () => {
    const writer = new VarintWriter();
    // Second 0: one request, no error, 5 buckets from the second-to-last one on.
    for (const value of [0, 1, 0, 5, bucketCount('timeline') - 2]) writer.write(value);
    for (let bucket = 0; bucket < 5; bucket++) writer.write(1);
    expect(() => new TimelineMerge().add(writer.finish())).toThrow(
      expect.objectContaining({ code: 'LOADTEST_ENCODING' }),
    );
  });

  it('merges dense and sparse seconds, empty stretches and all, into exactly their own buckets', () => {
    const random = seededRandom(7);
    const writer = new TimelineWriter();
    const merge = new TimelineMerge();
    const expected: Array<{ second: number; p50: number; p99: number; total: number }> = [];
    const samples: Record<number, number[]> = {
      // Dense: 2,000 latencies around 20 ms. Sparse: three, from 1 ms to 100 s.
      0: Array.from({ length: 2000 }, () => 15 + random() * 10),
      2: [1, 1000, 100_000],
      3: [0.5],
    };
    for (const [second, values] of Object.entries(samples)) {
      const histogram = createHistogram('timeline');
      for (const value of values) recordMs(histogram, value);
      writer.add(Number(second), values.length, 0, histogram);
      expected.push({
        second: Number(second),
        p50: Math.round(histogram.getValueAtPercentile(50)) / 1000,
        p99: Math.round(histogram.getValueAtPercentile(99)) / 1000,
        total: histogram.totalCount,
      });
    }
    merge.add(writer.finish());
    expect(
      merge.points().map(({ second, p50, p99, requests }) => ({ second, p50, p99, total: requests })),
    ).toEqual(expected);
  });

  it('refuses bytes that do not decompress, naming why', () => {
    const encoded = new Uint8Array([BucketFormat.runs, 0xff, 0x13, 0x37]);
    expect(() => new TimelineMerge().add(encoded)).toThrow(
      expect.objectContaining({
        code: 'LOADTEST_ENCODING',
        message: expect.stringMatching(/^histogram bytes do not decompress: /),
      }),
    );
  });
});
