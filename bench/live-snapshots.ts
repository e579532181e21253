// What live results cost (lib/loadtest/live.ts, store.ts): one real shard's progress snapshots, in bytes as
// stored, against its final result row (the anchor); and merging many shards' snapshots into the live view,
// against the Aggregate step's merge of as many shard results, timed in the same run.

import type { ShardResult } from '../lib/loadtest/engine.ts';
import { runShard } from '../lib/loadtest/engine.ts';
import { DEFAULT_LIMITS } from '../lib/loadtest/limits.ts';
import {
  mergeSnapshots,
  type ShardSnapshot,
  SNAPSHOT_SECONDS_KEPT,
  snapshotIntervalSeconds,
} from '../lib/loadtest/live.ts';
import { parseLoadTestInput } from '../lib/loadtest/options.ts';
import { planLoadTest } from '../lib/loadtest/plan.ts';
import { buildReport, ShardResultsMerge } from '../lib/loadtest/report.ts';
import { StepRecorder, snapshotSteps } from '../lib/loadtest/step-recorder.ts';
import { encodeSnapshot } from '../lib/loadtest/store.ts';
import { SCENARIO_CAPS } from '../lib/scenario/schema.ts';
import { formatBytes, formatMilliseconds, formatRatio, type Table } from './support/report.ts';
import { startHttpTarget } from './support/target-process.ts';

const RATE = 200;
const SECONDS = 20;
/** Latencies spread over 2–32 ms: more distinct buckets per second than a steady target gives. */
const DELAYS_MS = [2, 4, 6, 8, 12, 16, 24, 32];
const SHARD_COUNTS = [1_000, 10_000];

export interface LiveSnapshotsResult {
  rate: number;
  seconds: number;
  /** Stored bytes of each snapshot the shard wrote, in order. */
  snapshotBytes: number[];
  /** The shard's result as the Aggregate step reads it: summary JSON and its three byte columns. */
  resultBytes: number;
  merges: Array<{ shards: number; liveMs: number; aggregateMs: number; writeIntervalSeconds: number }>;
  /** The steps' part of a snapshot at the scenario caps: SCENARIO_CAPS.steps steps of SCENARIO_CAPS.checksPerStep checks. */
  steps: { steps: number; checks: number; requestsPerStepSecond: number; bytes: number; millis: number };
}

const STEP_REQUESTS_PER_SECOND = 20;

/**
 * A snapshot's steps at the caps, recorded by the engine's step recorders over the seconds a snapshot keeps:
 * every step answered at STEP_REQUESTS_PER_SECOND with latencies spread over DELAYS_MS, every check run.
 */
function measureStepFigures(): LiveSnapshotsResult['steps'] {
  const steps = Array.from(
    { length: SCENARIO_CAPS.steps },
    () => new StepRecorder(SCENARIO_CAPS.checksPerStep, SNAPSHOT_SECONDS_KEPT),
  );
  const seconds = SNAPSHOT_SECONDS_KEPT + 1;
  for (let second = 0; second < seconds; second++)
    for (const [index, step] of steps.entries())
      for (let request = 0; request < STEP_REQUESTS_PER_SECOND; request++) {
        const delay = DELAYS_MS[(request + index) % DELAYS_MS.length] as number;
        step.record(second, delay * (1 + request / 100), 200, null, false);
        for (let check = 0; check < SCENARIO_CAPS.checksPerStep; check++)
          step.recordCheck(check, request % 7 !== 0);
      }
  const started = performance.now();
  const part = snapshotSteps(steps, seconds);
  const millis = performance.now() - started;
  for (const step of steps) step.latency.destroy();
  return {
    steps: SCENARIO_CAPS.steps,
    checks: SCENARIO_CAPS.checksPerStep,
    requestsPerStepSecond: STEP_REQUESTS_PER_SECOND,
    // As stored: the steps' JSON and their figures' base64, which is what they add to the row.
    bytes: encodeSnapshot(part as unknown as ShardSnapshot).length,
    millis,
  };
}

const time = (work: () => void) => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

function resultBytes(result: ShardResult): number {
  const { latency, latencyUncorrected, timeline, ...summary } = result;
  return JSON.stringify(summary).length + latency.length + latencyUncorrected.length + timeline.length;
}

export async function measureLiveSnapshots(
  progress: (message: string) => void,
): Promise<LiveSnapshotsResult> {
  progress(`live snapshots: one shard at ${RATE} req/s for ${SECONDS} s, then merges`);
  const target = await startHttpTarget({ delaysMs: DELAYS_MS });
  const snapshots: ShardSnapshot[] = [];
  let result: ShardResult;
  try {
    const startedAt = Date.now();
    result = await runShard(
      {
        target: target.url,
        endpoints: [{ path: '/', method: 'GET', headers: {}, weight: 1 }],
        timeoutMs: 5_000,
        runStartedAt: startedAt,
        deadline: startedAt + (SECONDS + 10) * 1000,
        load: {
          model: 'open',
          stages: [{ durationSeconds: SECONDS, from: RATE, to: RATE }],
          shardIndex: 0,
          shardCount: 1,
          fromSeconds: 0,
          toSeconds: SECONDS,
          maxConnections: 32,
        },
      },
      { onSnapshot: (snapshot) => snapshots.push(snapshot), snapshotEveryMs: 1000 },
    );
  } finally {
    await target.stop();
  }
  // The last snapshot of a running shard: the largest a row gets.
  const running = snapshots.filter((snapshot) => !snapshot.finished).at(-1);
  if (!running) throw new Error('the shard wrote no snapshot while running');
  const options = parseLoadTestInput(
    { target: 'http://127.0.0.1:9', rate: RATE, duration: SECONDS },
    DEFAULT_LIMITS,
  );
  const plan = planLoadTest(options, DEFAULT_LIMITS);
  const row = { round: 0, shard: 0, attempts: 1, result };
  const merges = SHARD_COUNTS.map((shards) => {
    const liveMs = time(() => mergeSnapshots(Array(shards).fill(running), options));
    const aggregateMs = time(() => {
      const merge = new ShardResultsMerge();
      for (let shard = 0; shard < shards; shard++) merge.add(row);
      buildReport({ runId: 'bench', options, plan, shards: merge, expectedShards: shards, aborted: false });
    });
    return { shards, liveMs, aggregateMs, writeIntervalSeconds: snapshotIntervalSeconds(shards) };
  });
  return {
    rate: RATE,
    seconds: SECONDS,
    snapshotBytes: snapshots.map((snapshot) => encodeSnapshot(snapshot).length),
    resultBytes: resultBytes(result),
    merges,
    steps: measureStepFigures(),
  };
}

export function liveSnapshotsTables(result: LiveSnapshotsResult): Table[] {
  const bytes = result.snapshotBytes;
  const largest = Math.max(...bytes);
  return [
    {
      title: `Live snapshots: one shard at ${result.rate} req/s for ${result.seconds} s, bytes as stored`,
      columns: ['row', 'bytes', 'vs anchor'],
      rows: [
        ['anchor: the shard result row (Aggregate reads it)', formatBytes(result.resultBytes), '1.00×'],
        [
          'first snapshot (1 s in)',
          formatBytes(bytes[0] ?? 0),
          formatRatio((bytes[0] ?? 0) / result.resultBytes),
        ],
        ['largest snapshot (15 s kept)', formatBytes(largest), formatRatio(largest / result.resultBytes)],
        [
          'final snapshot',
          formatBytes(bytes.at(-1) ?? 0),
          formatRatio((bytes.at(-1) ?? 0) / result.resultBytes),
        ],
        [
          `a scenario's steps at the caps (${result.steps.steps} steps × ${result.steps.checks} checks, ${result.steps.requestsPerStepSecond} req/s each), added`,
          formatBytes(result.steps.bytes),
          formatRatio(result.steps.bytes / result.resultBytes),
        ],
      ],
      notes: [
        'one row per shard and round, replaced in place: a round of N shards holds N of these',
        `the steps' part (counters, checks, latencies so far and their last ${SNAPSHOT_SECONDS_KEPT} s) took ${formatMilliseconds(result.steps.millis)} to encode`,
      ],
    },
    {
      title: 'Merging snapshots into the live view, against the Aggregate merge of as many results',
      columns: ['shards', 'live view', 'anchor: Aggregate merge', 'ratio', 'each shard writes every'],
      rows: result.merges.map((merge) => [
        merge.shards.toLocaleString('en-US'),
        formatMilliseconds(merge.liveMs),
        formatMilliseconds(merge.aggregateMs),
        formatRatio(merge.liveMs / merge.aggregateMs),
        `${merge.writeIntervalSeconds} s`,
      ]),
      notes: ['CPU of the merge alone, in this process; reading the rows from PostgreSQL comes on top'],
    },
  ];
}
