// The worker's step of the state machine: one shard of one round, from its start wait to its stored result.

import type { ShardEngine } from './engine.ts';
import { createLiveShard } from './live-shard.ts';
import { shardDataRange, shardLoad, shardTimeBudget } from './plan.ts';
import { requireRun, type ShardTask, type StepDeps } from './step-deps.ts';
import { HEARTBEAT_SECONDS } from './store.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for the round's start instant; true when an abort came meanwhile. Checks the abort flag (and beats)
 * as a running shard does, so that a stop reaches a waiting shard too.
 */
async function waitForStart(startsAt: number, shouldAbort: () => Promise<boolean>): Promise<boolean> {
  for (let left = startsAt - Date.now(); left > 0; left = startsAt - Date.now()) {
    await sleep(Math.min(1000, left));
    if (Date.now() < startsAt && (await shouldAbort().catch(() => false))) return true;
  }
  return false;
}

export interface ShardSummary extends ShardTask {
  requests: number;
  failed: number;
  remaining: number;
}

/** The load engine, handed in: this thread's on Lambda, the local runner's worker threads in one process. */
export interface ShardStepDeps extends StepDeps {
  runShard: ShardEngine;
}

export async function shardStep(task: ShardTask, deps: ShardStepDeps): Promise<ShardSummary> {
  const invokedAt = Date.now();
  const remainingMs = deps.remainingTimeMs?.();
  const run = await requireRun(deps.store, task.runId);
  // Locally no Lambda context: the Task's timeout, which is the worker's, bounds the shard the same way.
  const lambdaEndsAt = invokedAt + (remainingMs ?? (run.plan.workerTimeoutSeconds ?? 900) * 1000);
  const startsAt = task.startsAt ?? invokedAt;
  let previousRemaining: number | undefined;
  // A later round of the closed model carries on where the shard's previous round left off in its data rows.
  let dataPosition: number | undefined;
  if (run.options.model === 'closed' && task.round > 0) {
    const previous = await deps.store.shardResult(task.runId, task.round - 1, task.shard);
    previousRemaining = previous?.remaining ?? 0;
    dataPosition = previous?.dataPosition;
  }
  const load = shardLoad(run.options, run.plan, task.round, task.shard, previousRemaining);
  const { scenario } = run.options;
  const feeder = scenario?.data;
  const range = feeder ? shardDataRange(feeder, run.plan.shards, task.shard) : null;
  const data =
    feeder && range
      ? {
          order: feeder.order,
          per: feeder.per,
          rows: await deps.store.dataRows(task.runId, range.from, range.to),
          ...(dataPosition === undefined ? {} : { position: dataPosition }),
        }
      : undefined;
  // Timeline seconds and the open model's due times count from the run's start as this round sees it.
  const runStartedAt = startsAt - task.round * run.plan.shardSeconds * 1000;
  const live = createLiveShard(run, task, runStartedAt, deps);
  let lastBeat = 0;
  const shouldAbort = async () => {
    const beat = Date.now() - lastBeat >= HEARTBEAT_SECONDS * 1000;
    if (beat) lastBeat = Date.now();
    return (await deps.store.isAbortRequested(task.runId, beat)) || (await live.judge());
  };
  const abortedWhileWaiting = await waitForStart(startsAt, shouldAbort);
  const budget = shardTimeBudget({
    startsAt,
    readyAt: Date.now(),
    lambdaEndsAt,
    sendSeconds: run.options.model === 'closed' ? run.plan.shardSeconds : null,
    requestTimeoutMs: run.options.timeoutMs,
  });
  const result = await deps.runShard(
    {
      target: run.options.target,
      endpoints: run.options.endpoints,
      ...(scenario ? { scenario } : {}),
      ...(data ? { data } : {}),
      timeoutMs: run.options.timeoutMs,
      ...(run.options.connection ? { connection: run.options.connection } : {}),
      runStartedAt,
      deadline: abortedWhileWaiting ? Date.now() : budget.deadline,
      cutoff: budget.cutoff,
      load,
    },
    {
      shouldAbort,
      onProgress: deps.progress ? (progress) => deps.progress?.(task, progress) : undefined,
      ...live.hooks,
    },
  );
  // The final snapshot first: once the result is stored, the live view already equals it.
  await live.flush();
  await deps.store.saveShardResult(task.runId, task.round, task.shard, result);
  return { ...task, requests: result.requests, failed: result.failed, remaining: result.remaining };
}
