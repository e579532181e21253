// Splits a load test into shards (by users or by rate) and rounds (by time), and estimates its cost.

import type { ShardLoad } from './engine.ts';
import {
  expectedRequests,
  LoadTestInputError,
  type LoadTestLimits,
  type LoadTestOptions,
  splitEvenly,
} from './options.ts';
import { priceRun, type RunCostUsd } from './pricing.ts';
import {
  ASSUMED_LATENCY_MS,
  LAMBDA_FILE_DESCRIPTORS,
  MAX_CONNECTIONS_PER_WORKER,
  RESPONSE_TIME_ALLOWANCE_SECONDS,
} from './worker-capacity.ts';

/** Step Functions runs an inline Map of at most 40 branches at a time; beyond that, a distributed Map. */
export const INLINE_MAP_LIMIT = 40;
/** A round of the closed model that ran out of time hands its remaining requests to the next round. */
export const MAX_ROUNDS = 24;

/** States the run's own execution enters: Plan and Aggregate once; ChooseMap, the Map, Advance, MoreRounds a round. */
const PARENT_TRANSITIONS = { once: 2, perRound: 4 };
/** A shard's own state, RunShard in an inline iteration or RunShardDistributed in a child execution. */
const TRANSITIONS_PER_SHARD = 1;
/** Coordinator invocations: Plan and Aggregate once, Advance every round. */
const COORDINATOR_INVOCATIONS = { once: 2, perRound: 1 };

export interface LoadTestEstimate {
  requests: number;
  durationSeconds: number;
  lambdaGbSeconds: number;
  workerMemoryMb: number;
  workers: number;
  rounds: number;
  /** Worker and coordinator invocations, without retries. */
  lambdaRequests: number;
  stateTransitions: number;
  childExecutions: number;
  /** The figures above at the dated prices of lib/loadtest/pricing.ts. */
  usd: RunCostUsd;
}

export interface LoadTestPlan {
  /** Workers per round. */
  shards: number;
  mode: 'INLINE' | 'DISTRIBUTED';
  maxConcurrency: number;
  /** Longest a shard runs in one round. */
  shardSeconds: number;
  /** Open model: rounds known up front; closed model: null (a round follows while requests remain). */
  rounds: number | null;
  maxRounds: number;
  estimate: LoadTestEstimate;
}

export function estimate(options: LoadTestOptions, limits: LoadTestLimits): LoadTestEstimate {
  const requests = expectedRequests(options);
  const durationSeconds =
    options.model === 'open'
      ? options.durationSeconds
      : Math.ceil((options.requestsPerUser * (options.thinkTimeMs + ASSUMED_LATENCY_MS)) / 1000);
  const lambdaGbSeconds =
    Math.round(options.workers * Math.max(1, durationSeconds) * (limits.workerMemoryMb / 1024) * 10) / 10;
  // A closed-model round that runs out of time hands on to the next, so its rounds follow from its length too.
  const rounds = Math.min(MAX_ROUNDS, Math.max(1, Math.ceil(durationSeconds / limits.shardSeconds)));
  const shardRuns = options.workers * rounds;
  const childExecutions = options.workers > INLINE_MAP_LIMIT ? shardRuns : 0;
  const lambdaRequests = shardRuns + COORDINATOR_INVOCATIONS.once + COORDINATOR_INVOCATIONS.perRound * rounds;
  const stateTransitions =
    PARENT_TRANSITIONS.once + PARENT_TRANSITIONS.perRound * rounds + TRANSITIONS_PER_SHARD * shardRuns;
  return {
    requests,
    durationSeconds,
    lambdaGbSeconds,
    workerMemoryMb: limits.workerMemoryMb,
    workers: options.workers,
    rounds,
    lambdaRequests,
    stateTransitions,
    childExecutions,
    usd: priceRun(
      { workerGbSeconds: lambdaGbSeconds, lambdaRequests, stateTransitions, childExecutions },
      limits.workerArchitecture,
    ),
  };
}

/** One line for the CLI and the logs: what the run is expected to cost on AWS. */
export function describeEstimate(cost: LoadTestEstimate): string {
  const { usd } = cost;
  return (
    `about ${formatUsd(usd.total)} on AWS (${usd.region} prices of ${usd.pricesAsOf}): ` +
    `Lambda ${cost.lambdaGbSeconds} GB-s ${formatUsd(usd.lambdaCompute)} (${usd.architecture}), ` +
    `${cost.lambdaRequests} invocations ${formatUsd(usd.lambdaRequests)}, ` +
    `${cost.stateTransitions} state transitions ${formatUsd(usd.stateTransitions)}, ` +
    `${cost.childExecutions} Map child executions ${formatUsd(usd.childExecutions)}`
  );
}

/** "$18.887", "$0.005", and "under $0.001" rather than a rounded figure a thousand times the real one. */
export function formatUsd(value: number): string {
  if (value > 0 && value < 0.001) return 'under $0.001';
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 3 })}`;
}

export function planLoadTest(options: LoadTestOptions, limits: LoadTestLimits): LoadTestPlan {
  const cost = estimate(options, limits);
  if (cost.lambdaGbSeconds > limits.maxGbSeconds) {
    throw new LoadTestInputError([
      `estimate: about ${cost.lambdaGbSeconds} Lambda GB-seconds (${options.workers} workers × ~${cost.durationSeconds}s × ${limits.workerMemoryMb} MB) is over LOADTEST_MAX_GB_SECONDS=${limits.maxGbSeconds}`,
    ]);
  }
  if (cost.usd.total > limits.maxUsd) {
    throw new LoadTestInputError([
      `estimate: ${describeEstimate(cost)}; over LOADTEST_MAX_USD=${limits.maxUsd}`,
    ]);
  }
  const shards = options.workers;
  if (options.model === 'closed' && Math.ceil(options.users / shards) > MAX_CONNECTIONS_PER_WORKER) {
    throw new LoadTestInputError([
      `workers: ${shards} would give a worker ${Math.ceil(options.users / shards)} users, each with a connection of its own; at most ${MAX_CONNECTIONS_PER_WORKER} fit well under Lambda's ${LAMBDA_FILE_DESCRIPTORS} file descriptors, so give at least ${Math.ceil(options.users / MAX_CONNECTIONS_PER_WORKER)} workers`,
    ]);
  }
  if (options.model === 'open' && Math.ceil(options.durationSeconds / limits.shardSeconds) > MAX_ROUNDS) {
    throw new LoadTestInputError([
      `duration: ${options.durationSeconds}s needs more than ${MAX_ROUNDS} rounds of LOADTEST_SHARD_SECONDS=${limits.shardSeconds}; shorten the run or raise LOADTEST_SHARD_SECONDS`,
    ]);
  }
  return {
    shards,
    mode: shards <= INLINE_MAP_LIMIT ? 'INLINE' : 'DISTRIBUTED',
    maxConcurrency: Math.min(shards, shards <= INLINE_MAP_LIMIT ? INLINE_MAP_LIMIT : 1000),
    shardSeconds: limits.shardSeconds,
    rounds:
      options.model === 'open' ? Math.max(1, Math.ceil(options.durationSeconds / limits.shardSeconds)) : null,
    maxRounds: MAX_ROUNDS,
    estimate: cost,
  };
}

/**
 * What one shard sends in one round. Closed model: round 0 splits the users evenly; a later round
 * carries on with what the same shard had left (`previousRemaining`). Open model: every shard takes
 * its share of the round's window of the timeline.
 */
export function shardLoad(
  options: LoadTestOptions,
  plan: LoadTestPlan,
  round: number,
  shard: number,
  previousRemaining?: number,
): ShardLoad {
  if (options.model === 'closed') {
    const users = splitEvenly(options.users, plan.shards, shard);
    const requestsPerUser =
      round === 0
        ? Array.from({ length: users }, () => options.requestsPerUser)
        : Array.from({ length: users }, (_, index) => splitEvenly(previousRemaining ?? 0, users, index));
    return { model: 'closed', requestsPerUser, thinkTimeMs: options.thinkTimeMs };
  }
  const peak = Math.max(...options.stages.map((stage) => Math.max(stage.from, stage.to)));
  const perShardPeak = peak / plan.shards;
  return {
    model: 'open',
    stages: options.stages,
    shardIndex: shard,
    shardCount: plan.shards,
    fromSeconds: round * plan.shardSeconds,
    toSeconds: Math.min(options.durationSeconds, (round + 1) * plan.shardSeconds),
    // Enough connections for the response-time allowance at the peak rate; a slower target queues,
    // and the queueing shows in the latency measured from the intended send time.
    maxConnections: Math.min(
      MAX_CONNECTIONS_PER_WORKER,
      Math.max(8, Math.ceil(perShardPeak * RESPONSE_TIME_ALLOWANCE_SECONDS)),
    ),
  };
}
