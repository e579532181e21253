// The Aggregate step's merge of many shards (lib/loadtest/report.ts, store.ts, coordinator-steps.ts) on synthetic
// shard results seeded into a real embedded PostgreSQL, against today's anchor: decoding every per-second HDR
// histogram one by one (the older row format, still read during an upgrade). Also PostgreSQL bytes per
// shard-second of rows written by the store, against the same shards in the pairs format they were stored in
// before the runs format.

import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { runMigrations } from '../lib/db/migration-runner.ts';
import { createDb, type Db } from '../lib/db/pool.ts';
import type { ShardResult } from '../lib/loadtest/engine.ts';
import { DEFAULT_LIMITS, type LoadTestLimits } from '../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../lib/loadtest/options.ts';
import { planLoadTest } from '../lib/loadtest/plan.ts';
import { plural } from '../lib/loadtest/plural.ts';
import { buildReport, type ShardRow } from '../lib/loadtest/report.ts';
import { createLoadTest } from '../lib/loadtest/service.ts';
import {
  LoadTestStore,
  SHARD_RESULT_RETENTION_HOURS,
  SHARD_RESULTS_PAGE_SIZE,
} from '../lib/loadtest/store.ts';
import { startEmbeddedPostgres } from '../lib/local/embedded-postgres.ts';
import { projectRoot, urlTarget } from '../lib/local/stack.ts';
import { type SyntheticShard, syntheticShard } from '../test/support/synthetic-shards.ts';
import type { MergeChildResult } from './support/merge-child.ts';
import { formatRatio, type Table } from './support/report.ts';
import { median } from './support/statistics.ts';

const run = promisify(execFile);

/** Requests per second of each synthetic shard: 10,000 shards at this rate are a 1,000,000 req/s run. */
const SHARD_RATE = 100;
const ROUND_SECONDS = DEFAULT_LIMITS.shardSeconds;
/** Distinct shard results seeded per round through the store; the rest of the round copies them in SQL. */
const DISTINCT_PER_ROUND = 50;
/** Today's merge, timed on a run small enough to finish in seconds and extrapolated per shard-second. */
const ANCHOR = { shards: 5, seconds: ROUND_SECONDS };
const STORAGE_RATES = [10, 100, 1_000, 5_000];
const STORAGE_SHARDS = 10;

export interface MergeScenario {
  shards: number;
  seconds: number;
  targetSeconds: number;
}

export const MERGE_SCENARIOS: MergeScenario[] = [
  { shards: 1_000, seconds: 3_600, targetSeconds: 10 },
  { shards: 10_000, seconds: 600, targetSeconds: 20 },
];
const TARGET_RSS_BYTES = 1024 ** 3;
const TARGET_BYTES_PER_SHARD_SECOND = 100;
/** The highest shard rate the storage target holds for. */
const TARGET_STORAGE_RATE = 1_000;

export interface MergeScenarioResult extends MergeScenario {
  rounds: number;
  seedSeconds: number;
  runs: MergeChildResult[];
  wallSeconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  /** Today's merge for this size: the anchor's seconds per shard-second times this run's shard-seconds. */
  anchorSecondsExtrapolated: number;
  pruneSeconds: number;
  prunedRows: number;
}

export interface StorageResult {
  shardRate: number;
  shardSeconds: number;
  /** pg_column_size of the stored columns, per shard-second. */
  columnBytesPerShardSecond: number;
  /** Growth of pg_total_relation_size (table, TOAST, index) per shard-second. */
  relationBytesPerShardSecond: number;
  /** The same two figures for the same shards in the pairs format (2 significant digits per second, deflated). */
  pairsColumnBytesPerShardSecond: number;
  pairsRelationBytesPerShardSecond: number;
}

export interface MergeCostResult {
  shardRate: number;
  anchor: {
    shards: number;
    seconds: number;
    todaySeconds: number;
    bucketCountsSeconds: number;
    todaySecondsPerShardSecond: number;
  };
  scenarios: MergeScenarioResult[];
  storage: StorageResult[];
}

const LIMITS: LoadTestLimits = {
  ...DEFAULT_LIMITS,
  maxConcurrentRuns: 100,
  maxWorkers: 10_000,
  maxRate: 10_000_000,
  maxRequests: Number.MAX_SAFE_INTEGER,
  maxGbSeconds: Number.MAX_SAFE_INTEGER,
  // Seeded runs are never sent: their Lambda bill is no cap's business.
  maxUsd: Number.MAX_SAFE_INTEGER,
};

function timed<T>(work: () => T): { value: T; seconds: number } {
  const started = performance.now();
  const value = work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

/** Today's decode-everything merge against the bucket-count merge, on the same samples, in memory. */
function measureAnchor(runs: number): MergeCostResult['anchor'] {
  const legacyRows: ShardRow[] = [];
  const rows: ShardRow[] = [];
  for (let shard = 0; shard < ANCHOR.shards; shard++) {
    const synthetic = syntheticShard({
      seed: shard + 1,
      fromSecond: 0,
      seconds: ANCHOR.seconds,
      requestsPerSecond: SHARD_RATE,
      legacy: true,
    });
    if (!synthetic.legacy) throw new Error('no legacy encoding');
    legacyRows.push({ round: 0, shard, attempts: 1, result: synthetic.legacy });
    rows.push({ round: 0, shard, attempts: 1, result: synthetic.result });
  }
  const options = parseLoadTestInput(
    {
      target: 'http://127.0.0.1:9',
      rate: SHARD_RATE * ANCHOR.shards,
      duration: ANCHOR.seconds,
      workers: ANCHOR.shards,
    },
    LIMITS,
  );
  const plan = planLoadTest(options, LIMITS);
  const merge = (shards: ShardRow[]) =>
    buildReport({
      runId: 'bench',
      options,
      plan,
      shards,
      expectedShards: ANCHOR.shards,
      aborted: false,
    });
  const today: number[] = [];
  const buckets: number[] = [];
  for (let index = 0; index < runs; index++) {
    const old = timed(() => merge(legacyRows));
    const current = timed(() => merge(rows));
    if (JSON.stringify(old.value) !== JSON.stringify(current.value))
      throw new Error('the two merges disagree: the bench would compare different work');
    today.push(old.seconds);
    buckets.push(current.seconds);
  }
  const todaySeconds = median(today);
  return {
    ...ANCHOR,
    todaySeconds,
    bucketCountsSeconds: median(buckets),
    todaySecondsPerShardSecond: todaySeconds / (ANCHOR.shards * ANCHOR.seconds),
  };
}

async function relationSize(db: Db): Promise<number> {
  const result = await db.query<{ bytes: string }>(
    `SELECT pg_total_relation_size('loadtest_shard_results') AS bytes`,
  );
  return Number(result.rows[0]?.bytes ?? 0);
}

async function columnBytes(db: Db, runId: string): Promise<number> {
  const result = await db.query<{ bytes: string }>(
    `SELECT sum(pg_column_size(summary) + pg_column_size(latency)
               + coalesce(pg_column_size(latency_uncorrected), 0) + pg_column_size(timeline)) AS bytes
       FROM loadtest_shard_results WHERE run_id = $1`,
    [runId],
  );
  return Number(result.rows[0]?.bytes ?? 0);
}

async function createRun(store: LoadTestStore, shards: number, seconds: number): Promise<string> {
  const { runId } = await createLoadTest(
    { target: 'http://127.0.0.1:9', rate: SHARD_RATE * shards, duration: seconds, workers: shards },
    store,
    LIMITS,
  );
  await store.markStarted(runId);
  return runId;
}

/** Table growth per shard-second of STORAGE_SHARDS shards at `shardRate`, written as `encode` picks them. */
async function storedBytes(
  db: Db,
  store: LoadTestStore,
  shardRate: number,
  encode: (shard: SyntheticShard) => ShardResult | null,
): Promise<{ columns: number; relation: number }> {
  const runId = await createRun(store, STORAGE_SHARDS, ROUND_SECONDS);
  const before = await relationSize(db);
  for (let shard = 0; shard < STORAGE_SHARDS; shard++) {
    const synthetic = syntheticShard({
      seed: 7_000 + shard,
      fromSecond: 0,
      seconds: ROUND_SECONDS,
      requestsPerSecond: shardRate,
      pairs: true,
    });
    const result = encode(synthetic);
    if (!result) throw new Error('no pairs encoding');
    await store.saveShardResult(runId, 0, shard, result);
  }
  const shardSeconds = STORAGE_SHARDS * ROUND_SECONDS;
  return {
    columns: (await columnBytes(db, runId)) / shardSeconds,
    relation: ((await relationSize(db)) - before) / shardSeconds,
  };
}

async function measureStorage(db: Db, store: LoadTestStore): Promise<StorageResult[]> {
  const results: StorageResult[] = [];
  for (const shardRate of STORAGE_RATES) {
    const runs = await storedBytes(db, store, shardRate, (shard) => shard.result);
    const pairs = await storedBytes(db, store, shardRate, (shard) => shard.pairs);
    results.push({
      shardRate,
      shardSeconds: STORAGE_SHARDS * ROUND_SECONDS,
      columnBytesPerShardSecond: runs.columns,
      relationBytesPerShardSecond: runs.relation,
      pairsColumnBytesPerShardSecond: pairs.columns,
      pairsRelationBytesPerShardSecond: pairs.relation,
    });
  }
  return results;
}

/** Seeds a run: per round, distinct shards written by the store, then copied in SQL up to the shard count. */
async function seedScenario(db: Db, store: LoadTestStore, scenario: MergeScenario): Promise<string> {
  const runId = await createRun(store, scenario.shards, scenario.seconds);
  const rounds = Math.ceil(scenario.seconds / ROUND_SECONDS);
  for (let round = 0; round < rounds; round++) {
    const distinct = Math.min(DISTINCT_PER_ROUND, scenario.shards);
    for (let shard = 0; shard < distinct; shard++) {
      const { result } = syntheticShard({
        seed: round * 1_000 + shard + 1,
        fromSecond: round * ROUND_SECONDS,
        seconds: Math.min(ROUND_SECONDS, scenario.seconds - round * ROUND_SECONDS),
        requestsPerSecond: SHARD_RATE,
      });
      await store.saveShardResult(runId, round, shard, result);
    }
    await db.query(
      `INSERT INTO loadtest_shard_results (run_id, round, shard, summary, latency, latency_uncorrected, timeline)
       SELECT run_id, round, shard + $3 * copy, summary, latency, latency_uncorrected, timeline
         FROM loadtest_shard_results, generate_series(1, $4::int) AS copy
        WHERE run_id = $1 AND round = $2 AND shard + $3 * copy < $5`,
      [runId, round, distinct, Math.ceil(scenario.shards / distinct) - 1, scenario.shards],
    );
  }
  const count = await db.query<{ rows: string }>(
    `SELECT count(*) AS rows FROM loadtest_shard_results WHERE run_id = $1`,
    [runId],
  );
  if (Number(count.rows[0]?.rows) !== scenario.shards * rounds)
    throw new Error(`seeded ${count.rows[0]?.rows} rows, expected ${scenario.shards * rounds}`);
  return runId;
}

const CHILD = join(import.meta.dirname, 'support', 'merge-child.ts');
/**
 * One core: V8 without its background threads (GC, compiler), so the child's CPU time is one thread's. Not
 * pinned with taskset: on a shared machine a pinned process waits for its one core while others are free.
 */
const ONE_CORE_FLAGS = ['--single-threaded'];

async function mergeInChild(url: string, runId: string, lastRound: number): Promise<MergeChildResult> {
  const { stdout } = await run(process.execPath, [...ONE_CORE_FLAGS, CHILD, url, runId, String(lastRound)], {
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as MergeChildResult;
}

export async function measureMergeCost(
  progress: (message: string) => void,
  options: { runs: number; scenarios?: MergeScenario[] },
): Promise<MergeCostResult> {
  progress(`merge cost: today's merge on ${ANCHOR.shards} shards × ${ANCHOR.seconds} s (about 10 s a run)`);
  const anchor = measureAnchor(options.runs);
  // Inside the project, as the tests' server: the OS user "postgres" must be able to enter the directory.
  const dataDir = join(projectRoot(), '.loadwatch', `bench-${process.pid}`);
  const handle = await startEmbeddedPostgres({ dataDir, database: 'postgres', onLog: () => undefined });
  try {
    const admin = new pg.Client({ connectionString: handle.url });
    await admin.connect();
    await admin.query('CREATE DATABASE loadwatch_bench');
    await admin.end();
    const url = new URL(handle.url);
    url.pathname = '/loadwatch_bench';
    const target = urlTarget(url.toString());
    await runMigrations({ target, direction: 'up' });
    const db = createDb({
      target,
      pool: { size: 2, maxOverflow: 0, recycleSeconds: 0, timeoutSeconds: 30, statementTimeoutMs: 0 },
    });
    try {
      const store = new LoadTestStore(db);
      progress('merge cost: storage per shard-second');
      const storage = await measureStorage(db, store);
      const scenarios: MergeScenarioResult[] = [];
      for (const scenario of options.scenarios ?? MERGE_SCENARIOS) {
        const rounds = Math.ceil(scenario.seconds / ROUND_SECONDS);
        progress(
          `merge cost: seeding ${scenario.shards} shards × ${scenario.seconds} s (${plural(rounds, 'round')})`,
        );
        const seed = performance.now();
        const runId = await seedScenario(db, store, scenario);
        const seedSeconds = (performance.now() - seed) / 1000;
        const seeded = await db.query<{ requests: string }>(
          `SELECT sum((summary ->> 'requests')::bigint) AS requests FROM loadtest_shard_results WHERE run_id = $1`,
          [runId],
        );
        const runs: MergeChildResult[] = [];
        for (let index = 0; index < options.runs; index++) {
          progress(`merge cost: Aggregate step, run ${index + 1} of ${options.runs}`);
          const child = await mergeInChild(url.toString(), runId, rounds - 1);
          // A merge that skipped rows would be fast for the wrong reason.
          if (
            child.requests !== Number(seeded.rows[0]?.requests) ||
            child.timelineSeconds !== scenario.seconds
          )
            throw new Error(
              `the Aggregate step reported ${child.requests} requests over ${child.timelineSeconds} s; the rows hold ${seeded.rows[0]?.requests} over ${scenario.seconds} s`,
            );
          runs.push(child);
        }
        // What the retention does to the run a day later, done now.
        const prune = performance.now();
        const prunedRows = (await store.pruneShardResults(0)).deleted;
        scenarios.push({
          ...scenario,
          rounds,
          seedSeconds,
          runs,
          wallSeconds: median(runs.map((item) => item.wallMs)) / 1000,
          cpuSeconds: median(runs.map((item) => item.cpuMs)) / 1000,
          maxRssBytes: Math.max(...runs.map((item) => item.maxRssBytes)),
          anchorSecondsExtrapolated: anchor.todaySecondsPerShardSecond * scenario.shards * scenario.seconds,
          pruneSeconds: (performance.now() - prune) / 1000,
          prunedRows,
        });
      }
      return { shardRate: SHARD_RATE, anchor, scenarios, storage };
    } finally {
      await db.close();
    }
  } finally {
    await handle.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
const seconds = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} s`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

export function mergeCostTables(result: MergeCostResult): Table[] {
  const { anchor } = result;
  const merge: Table = {
    title: `Aggregate step: merging every shard's histograms and per-second timeline (${result.shardRate} req/s per shard)`,
    columns: [
      'shards × seconds',
      'rows',
      'merge',
      'target',
      'CPU',
      'peak RSS',
      'today (extrapolated)',
      'speed-up',
      '',
    ],
    rows: [
      [
        `${anchor.shards} × ${anchor.seconds} (anchor, in memory)`,
        String(anchor.shards),
        seconds(anchor.bucketCountsSeconds),
        '',
        '',
        '',
        `${seconds(anchor.todaySeconds)} (measured)`,
        formatRatio(anchor.todaySeconds / anchor.bucketCountsSeconds),
        '',
      ],
      ...result.scenarios.map((scenario) => [
        `${scenario.shards.toLocaleString('en-US')} × ${scenario.seconds.toLocaleString('en-US')}`,
        (scenario.shards * scenario.rounds).toLocaleString('en-US'),
        seconds(scenario.wallSeconds),
        `≤ ${scenario.targetSeconds} s, ≤ ${mb(TARGET_RSS_BYTES)}`,
        seconds(scenario.cpuSeconds),
        mb(scenario.maxRssBytes),
        `${seconds(scenario.anchorSecondsExtrapolated)} (${(scenario.anchorSecondsExtrapolated / 60).toFixed(0)} min)`,
        formatRatio(scenario.anchorSecondsExtrapolated / scenario.wallSeconds),
        verdict(scenario.wallSeconds <= scenario.targetSeconds && scenario.maxRssBytes <= TARGET_RSS_BYTES),
      ]),
    ],
    notes: [
      `anchor: today's merge (every per-second HDR histogram decoded with the 'packed' bucket size, as rows`,
      `  in the older format still are) on ${anchor.shards} shards × ${anchor.seconds} s, median ${seconds(anchor.todaySeconds)}:`,
      `  ${(anchor.todaySecondsPerShardSecond * 1e3).toFixed(2)} ms per shard-second, extrapolated linearly to the larger runs (they would take minutes).`,
      `  Same run merged from bucket counts: ${seconds(anchor.bucketCountsSeconds)}; both reports checked identical.`,
      `merge: the real Aggregate step (keyset pages of ${SHARD_RESULTS_PAGE_SIZE} rows from PostgreSQL, running totals, report stored) in a`,
      `  child process doing only that, on one thread (node ${ONE_CORE_FLAGS.join(' ')}: no GC or compiler threads);`,
      `  median of ${result.scenarios[0]?.runs.length ?? 0} runs. Merge is wall time (includes waiting for PostgreSQL and for a busy machine);`,
      `  CPU is the child's own (one core's work); peak RSS is the child's maxRSS.`,
      `  PostgreSQL runs in its own process. Rows: ${DISTINCT_PER_ROUND} distinct shards per round written by the store, copied in SQL`,
      `  up to the shard count (seeding took ${result.scenarios.map((item) => seconds(item.seedSeconds)).join(', ')}).`,
      `pruning: shard rows are deleted ${SHARD_RESULT_RETENTION_HOURS} h after the run finished (pruneShardResults, run after each`,
      `  Aggregate step); done at once here: ${result.scenarios.map((item) => `${item.prunedRows.toLocaleString('en-US')} rows in ${seconds(item.pruneSeconds)}`).join(', ')}.`,
    ],
  };
  const storage: Table = {
    title: 'PostgreSQL storage of shard results, per shard-second',
    columns: [
      'req/s per shard',
      'shard-seconds',
      'columns (pg_column_size)',
      'table + TOAST + index',
      'pairs format (anchor): columns, table',
      'smaller by (columns)',
      'target',
      '',
    ],
    rows: result.storage.map((item) => [
      item.shardRate.toLocaleString('en-US'),
      item.shardSeconds.toLocaleString('en-US'),
      `${item.columnBytesPerShardSecond.toFixed(1)} B`,
      `${item.relationBytesPerShardSecond.toFixed(1)} B`,
      `${item.pairsColumnBytesPerShardSecond.toFixed(1)} B, ${item.pairsRelationBytesPerShardSecond.toFixed(1)} B`,
      formatRatio(item.pairsColumnBytesPerShardSecond / item.columnBytesPerShardSecond),
      `≤ ${TARGET_BYTES_PER_SHARD_SECOND} B`,
      item.shardRate > TARGET_STORAGE_RATE
        ? "(beyond the target's rate)"
        : verdict(item.relationBytesPerShardSecond <= TARGET_BYTES_PER_SHARD_SECOND),
    ]),
    notes: [
      `${STORAGE_SHARDS} shards × ${ROUND_SECONDS} s written by LoadTestStore.saveShardResult; table growth from pg_total_relation_size`,
      "(whole 8 KB pages, so coarse for small rows: the ratio compares the columns' own bytes).",
      'Runs format (written today): each histogram and the per-second timeline as bucket counts from the first',
      'non-zero bucket to the last, empty stretches as (0, length), varints compressed with brotli; a second of the',
      "timeline at 1 significant digit (16 buckets per doubling: about 70 buckets at 5–100 ms), the run's histograms",
      'at 3. Anchor: the same shards in the pairs format rows were written in before ((gap, count) pairs, deflated,',
      'seconds at 2 significant digits: about 280 buckets a second at 1,000 req/s), measured in the same run.',
      `Target: ≤ ${TARGET_BYTES_PER_SHARD_SECOND} B at up to ${TARGET_STORAGE_RATE.toLocaleString('en-US')} req/s per shard; bytes grow with the distinct latencies of a second, not its requests.`,
    ],
  };
  return [merge, storage];
}
