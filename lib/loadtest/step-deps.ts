// What every step of the state machine is handed and shares: its dependencies, a shard's task, the planned run.

import type { AlertSink } from '../alerts/sink.ts';
import type { Logger } from '../log/logger.ts';
import type { MetricsSink } from '../metrics/sink.ts';
import type { EngineHooks, ShardEngine } from './engine.ts';
import type { LoadTestStore, RunRecord } from './store.ts';

export interface StepDeps {
  store: LoadTestStore;
  logger: Logger;
  metrics?: MetricsSink;
  alerts?: AlertSink;
  /** Dimensions on every metric, e.g. { Service: 'loadwatch', Stage: 'prod' }. */
  dimensions?: Record<string, string>;
  /** The invoking Lambda's remaining time, so a shard ends well before its timeout. */
  remainingTimeMs?: () => number;
  /** Runs a shard's load locally: the engine in this thread when given, else the local runner's worker threads. */
  engine?: ShardEngine;
  /** Progress of shards run in this process (the local runner draws its progress bar from it). */
  progress?: (task: ShardTask, progress: Parameters<NonNullable<EngineHooks['onProgress']>>[0]) => void;
}

export interface ShardTask {
  runId: string;
  round: number;
  shard: number;
  /** The round's start instant (RoundState.startsAt); a task without one starts at once. */
  startsAt?: number;
}

export type PlannedRun = RunRecord & { plan: NonNullable<RunRecord['plan']> };

export async function requireRun(store: LoadTestStore, runId: string): Promise<PlannedRun> {
  const run = await store.getRun(runId);
  if (!run) throw new Error(`load test ${runId} does not exist`);
  if (!run.plan) throw new Error(`load test ${runId} has no plan`);
  return run as PlannedRun;
}
