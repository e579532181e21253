// A local run's shards on one worker thread against two (lib/loadtest/shard-thread-pool.ts, as the local runner
// uses it), both aimed at the same target in its own process: how much a second core adds.

import { availableParallelism } from 'node:os';
import type { ShardWork } from '../lib/loadtest/engine.ts';
import { createShardThreadPool } from '../lib/loadtest/shard-thread-pool.ts';
import { formatRatio, type Table } from './support/report.ts';
import { median } from './support/statistics.ts';
import { type HttpTarget, startHttpTarget } from './support/target-process.ts';

const SHARDS = 4;
const USERS_PER_SHARD = 25;
const REQUESTS_PER_RUN = 60_000;
const WARMUP_REQUESTS = 8_000;
const ROUNDS = 5;
const THREAD_COUNTS = [1, 2] as const;

export interface ThreadsRun {
  threads: number;
  /** Counted by the target: requests it answered over the run's wall time. */
  requestsPerSecond: number;
  /** The target process's CPU over the wall time, in percent of one core: near 100 % it set the pace. */
  targetCpuPercent: number;
  /** The bench process's CPU (every thread) over the wall time: above 100 % it used more than one core. */
  generatorCpuPercent: number;
}

export interface LocalThreadsResult {
  cores: number;
  shards: number;
  requests: number;
  /** Median per thread count, in THREAD_COUNTS order. */
  medians: ThreadsRun[];
  runs: ThreadsRun[];
  /** Two threads' req/s over one thread's within each round. */
  roundRatios: number[];
}

async function runOn(target: HttpTarget, threads: number, requests: number): Promise<ThreadsRun> {
  const pool = createShardThreadPool({ threads });
  try {
    const perUser = requests / SHARDS / USERS_PER_SHARD;
    const work = (): ShardWork => ({
      target: target.url,
      endpoints: [{ path: '/', method: 'GET', headers: {}, weight: 1 }],
      timeoutMs: 10_000,
      runStartedAt: Date.now(),
      deadline: Date.now() + 120_000,
      load: { model: 'closed', requestsPerUser: Array(USERS_PER_SHARD).fill(perUser), thinkTimeMs: 0 },
    });
    // Started, and the engine loaded, before the clock runs: the local runner's threads live for the whole run.
    await Promise.all(
      Array.from({ length: threads }, () =>
        pool.runShard({ ...work(), load: { model: 'closed', requestsPerUser: [1], thinkTimeMs: 0 } }),
      ),
    );
    const before = await target.snapshot();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: SHARDS }, () => pool.runShard(work())));
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const after = await target.snapshot();
    const failed = results.reduce((sum, result) => sum + result.failed, 0);
    if (failed > 0) throw new Error(`bench: local threads: ${failed} requests failed`);
    return {
      threads,
      requestsPerSecond: (after.requests - before.requests) / (wallMs / 1000),
      targetCpuPercent: ((after.cpuMicros - before.cpuMicros) / 1000 / wallMs) * 100,
      generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    };
  } finally {
    await pool.close();
  }
}

export async function measureLocalThreads(): Promise<LocalThreadsResult> {
  const target = await startHttpTarget();
  try {
    for (const threads of THREAD_COUNTS) await runOn(target, threads, WARMUP_REQUESTS);
    const runs: ThreadsRun[] = [];
    const roundRatios: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternated, so that neither always runs on a target just warmed (or tired) by the other.
      const order = round % 2 === 0 ? THREAD_COUNTS : [...THREAD_COUNTS].reverse();
      const inRound = new Map<number, number>();
      for (const threads of order) {
        const run = await runOn(target, threads, REQUESTS_PER_RUN);
        runs.push(run);
        inRound.set(threads, run.requestsPerSecond);
      }
      roundRatios.push((inRound.get(2) ?? Number.NaN) / (inRound.get(1) ?? Number.NaN));
    }
    const medians = THREAD_COUNTS.map((threads) => {
      const mine = runs.filter((run) => run.threads === threads);
      return {
        threads,
        requestsPerSecond: median(mine.map((run) => run.requestsPerSecond)),
        targetCpuPercent: median(mine.map((run) => run.targetCpuPercent)),
        generatorCpuPercent: median(mine.map((run) => run.generatorCpuPercent)),
      };
    });
    return {
      cores: availableParallelism(),
      shards: SHARDS,
      requests: REQUESTS_PER_RUN,
      medians,
      runs,
      roundRatios,
    };
  } finally {
    await target.stop();
  }
}

export function localThreadsTable(result: LocalThreadsResult): Table {
  const [one, two] = result.medians;
  const rate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
  const each = (threads: number) =>
    result.runs
      .filter((run) => run.threads === threads)
      .map((run) => rate(run.requestsPerSecond))
      .join(', ');
  return {
    title:
      `Local run on worker threads (${result.shards} shards × ${USERS_PER_SHARD} users, ` +
      `${result.requests.toLocaleString('en-US')} requests a run; median of ${ROUNDS} runs)`,
    columns: ['threads', 'requests', 'generator CPU', 'target CPU'],
    rows: [
      ...result.medians.map((run) => [
        run.threads === 1 ? 'anchor: 1 thread' : `${run.threads} threads`,
        rate(run.requestsPerSecond),
        `${run.generatorCpuPercent.toFixed(0)} %`,
        `${run.targetCpuPercent.toFixed(0)} %`,
      ]),
      [
        'ratio 2 threads / 1',
        formatRatio((two?.requestsPerSecond ?? 0) / (one?.requestsPerSecond ?? 1)),
        formatRatio((two?.generatorCpuPercent ?? 0) / (one?.generatorCpuPercent ?? 1)),
        '',
      ],
    ],
    notes: [
      `machine: ${result.cores} cores, shared by the bench, its target process and anything else running`,
      'target: node:http on 127.0.0.1 in its own process, no delay; requests counted by the target over the wall',
      '  time of the shards (threads started beforehand); target CPU near 100 % means the target set the pace',
      'generator CPU: the bench process, every thread, over the wall time, in percent of one core; with as many',
      '  cores as threads plus one for the target, two threads can reach 200 % and about twice the rate',
      'shards: runShard on lib/loadtest/shard-thread-pool.ts, the pool the local runner hands its shard steps',
      `runs in order (req/s): 1 thread ${each(1)}; 2 threads ${each(2)}`,
      `  ratio within each round: ${result.roundRatios.map(formatRatio).join(', ')}`,
    ],
  };
}
