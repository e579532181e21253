// Splits a load test into shards (by users or by rate) and rounds (by time), and estimates its cost.

import { thinkMsPerIteration } from '../scenario/schema.ts';
import type { ShardLoad } from './engine.ts';
import { LoadTestInputError } from './input-error.ts';
import type { LoadTestLimits } from './limits.ts';
import type { LoadTestOptions } from './options.ts';
import { priceRun, type RunCostUsd } from './pricing.ts';
import { expectedRequests, scenarioRequestsPerIteration } from './request-count.ts';
import {
  ASSUMED_LATENCY_MS,
  LAMBDA_FILE_DESCRIPTORS,
  MAX_CONNECTIONS_PER_WORKER,
  RESPONSE_TIME_ALLOWANCE_SECONDS,
} from './worker-capacity.ts';

/** Step Functions runs an inline Map of at most 40 branches at a time; beyond that, a distributed Map. */
export const INLINE_MAP_LIMIT = 40;
/**
 * A round's shards go in blocks of at most this many, each block an inline Map: the distributed Map iterates
 * over blocks, so its items list is 250 numbers at 10,000 shards, not 10,000.
 */
export const SHARDS_PER_BLOCK = INLINE_MAP_LIMIT;
/** Seconds a worker keeps back from its Lambda timeout to store its result and return. */
export const SAVE_MARGIN_SECONDS = 20;
/**
 * How long before a round's start instant the shards are set going, on AWS: the state transitions and the Map
 * Run starting its child executions (a few seconds), a worker's cold start in the VPC (a few seconds), and
 * Lambda's scaling rate of 1,000 more concurrent executions per function every 10 seconds, so that the
 * 10,000th worker of a round is running before the round starts.
 */
const LAMBDA_START_SECONDS = 10;
const LAMBDA_SCALING_STEP = 1000;
const LAMBDA_SCALING_STEP_SECONDS = 10;
/** In one process, starting a shard costs a couple of queries and a connection pool: milliseconds each. */
const LOCAL_START_SECONDS = 0.5;
const LOCAL_START_MS_PER_SHARD = 2;
/** A round of the closed model that ran out of time hands its remaining requests to the next round. */
export const MAX_ROUNDS = 24;

/** States the run's own execution enters: Plan and Aggregate once; ChooseMap, the Map, Advance, MoreRounds a round. */
const PARENT_TRANSITIONS = { once: 2, perRound: 4 };
/** A block's own Map state (RunBlock, or RunBlockDistributed in its child execution). */
const TRANSITIONS_PER_BLOCK = 1;
/** A shard's own state, RunShard or RunShardDistributed. */
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
  /** Shards running at once: all of a round's, never in waves. */
  maxConcurrency: number;
  /** Blocks of at most SHARDS_PER_BLOCK shards per round; each is one child execution of a distributed Map. */
  blocks: number;
  /** Seconds between planning a round and its shared start instant (startLeadSeconds). */
  startLeadSeconds: number;
  /** The worker's Lambda timeout the plan fits in (LOADTEST_WORKER_TIMEOUT). */
  workerTimeoutSeconds: number;
  /** Longest a shard runs in one round. */
  shardSeconds: number;
  /** Open model: rounds known up front; closed model: null (a round follows while requests remain). */
  rounds: number | null;
  maxRounds: number;
  estimate: LoadTestEstimate;
}

/** An iteration's requests and think time: one request and no think for the endpoint shorthand. */
function unitCost(options: LoadTestOptions): { requests: number; thinkMs: number } {
  if (!options.scenario) return { requests: 1, thinkMs: 0 };
  const flows = options.scenario.flows.filter((flow) => flow.weight > 0);
  return {
    requests: scenarioRequestsPerIteration(options.scenario),
    thinkMs: Math.max(0, ...flows.map((flow) => thinkMsPerIteration(flow.steps))),
  };
}

export function estimate(options: LoadTestOptions, limits: LoadTestLimits): LoadTestEstimate {
  const requests = expectedRequests(options);
  const unit = unitCost(options);
  const durationSeconds =
    options.model === 'open'
      ? options.durationSeconds
      : Math.ceil(
          (options.requestsPerUser *
            (options.thinkTimeMs + unit.thinkMs + unit.requests * ASSUMED_LATENCY_MS)) /
            1000,
        );
  const lambdaGbSeconds =
    Math.round(options.workers * Math.max(1, durationSeconds) * (limits.workerMemoryMb / 1024) * 10) / 10;
  // A closed-model round that runs out of time hands on to the next, so its rounds follow from its length too.
  const rounds = Math.min(MAX_ROUNDS, Math.max(1, Math.ceil(durationSeconds / limits.shardSeconds)));
  const shardRuns = options.workers * rounds;
  // A distributed Map starts one child execution per block of shards, not per shard.
  const blockRuns = Math.ceil(options.workers / SHARDS_PER_BLOCK) * rounds;
  const childExecutions = options.workers > INLINE_MAP_LIMIT ? blockRuns : 0;
  const lambdaRequests = shardRuns + COORDINATOR_INVOCATIONS.once + COORDINATOR_INVOCATIONS.perRound * rounds;
  const stateTransitions =
    PARENT_TRANSITIONS.once +
    PARENT_TRANSITIONS.perRound * rounds +
    TRANSITIONS_PER_BLOCK * blockRuns +
    TRANSITIONS_PER_SHARD * shardRuns;
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
  const startLead = startLeadSeconds(shards, limits.workersRunOn);
  const budget = workerBudgetProblem(options, limits, startLead);
  if (budget) throw new LoadTestInputError([budget]);
  return {
    shards,
    mode: shards <= INLINE_MAP_LIMIT ? 'INLINE' : 'DISTRIBUTED',
    maxConcurrency: shards,
    blocks: Math.ceil(shards / SHARDS_PER_BLOCK),
    startLeadSeconds: startLead,
    workerTimeoutSeconds: limits.workerTimeoutSeconds,
    shardSeconds: limits.shardSeconds,
    // The estimate's rounds: the open model's are known, and were checked against MAX_ROUNDS above.
    rounds: options.model === 'open' ? cost.rounds : null,
    maxRounds: MAX_ROUNDS,
    estimate: cost,
  };
}

/**
 * Seconds from planning a round to the instant all its shards start together: long enough for every worker
 * to be running and waiting by then, so that the open model's schedule is one timeline however many shards.
 */
export function startLeadSeconds(shards: number, workersRunOn: LoadTestLimits['workersRunOn']): number {
  if (workersRunOn === 'local')
    return Math.round((LOCAL_START_SECONDS + (shards * LOCAL_START_MS_PER_SHARD) / 1000) * 10) / 10;
  return (
    LAMBDA_START_SECONDS +
    Math.floor((Math.max(1, shards) - 1) / LAMBDA_SCALING_STEP) * LAMBDA_SCALING_STEP_SECONDS
  );
}

/**
 * Why the worker's Lambda would time out before a shard ends, or undefined when it fits: a shard waits for
 * its round's start (at most the lead), sends for up to the shard length, lets the requests in flight finish
 * or cuts them (the request timeout), then stores its result (SAVE_MARGIN_SECONDS).
 */
function workerBudgetProblem(options: LoadTestOptions, limits: LoadTestLimits, startLead: number) {
  const timeout = limits.workerTimeoutSeconds;
  // Seconds of one round a shard can be busy sending: the shard length, or a shorter open-model run.
  const sending =
    options.model === 'open'
      ? Math.min(limits.shardSeconds, Math.ceil(options.durationSeconds))
      : limits.shardSeconds;
  const requestSeconds = Math.ceil(options.timeoutMs / 1000);
  if (startLead + sending + requestSeconds + SAVE_MARGIN_SECONDS <= timeout) return undefined;
  const parts = `a ${startLead} s start, ${sending} s of sending (LOADTEST_SHARD_SECONDS=${limits.shardSeconds}), the request timeout and ${SAVE_MARGIN_SECONDS} s to save the result must fit the worker's ${timeout} s (LOADTEST_WORKER_TIMEOUT)`;
  const room = timeout - startLead - sending - SAVE_MARGIN_SECONDS;
  if (room >= 1) return `timeout: ${options.timeoutMs / 1000}s is too long: ${parts}; at most ${room}s`;
  return `workers: ${options.workers} workers take ${startLead} s to start; ${parts}; use fewer workers or lower LOADTEST_SHARD_SECONDS`;
}

/** Whether the shards that failed so far are within the run's tolerance: the one rule, for Advance and the report. */
export function shardFailuresTolerated(failed: number, planned: number, toleratedPercent: number): boolean {
  return planned <= 0 || (failed / planned) * 100 <= toleratedPercent;
}

/** When a shard stops sending (deadline) and cuts the requests still in flight (cutoff), epoch ms. */
export interface ShardTimeBudget {
  deadline: number;
  cutoff: number;
}

/**
 * A shard's deadlines. The closed model sends for the shard length from its round's start (or from when it was
 * ready, when that was later: a retried or slow-to-start shard still gets its time); the open model sends until its window's
 * requests are all out, since a due request dropped would make the totals wrong. Either stops early enough
 * that the requests in flight (at most the request timeout) and storing the result fit in its Lambda.
 */
export function shardTimeBudget(input: {
  startsAt: number;
  /** When the shard was ready to send (its run read, its wait over). */
  readyAt: number;
  lambdaEndsAt: number;
  /** Closed model: the shard length; open model: null (its window's requests end it). */
  sendSeconds: number | null;
  requestTimeoutMs: number;
}): ShardTimeBudget {
  const lambdaCutoff = input.lambdaEndsAt - SAVE_MARGIN_SECONDS * 1000;
  const cutoff =
    input.sendSeconds === null
      ? lambdaCutoff
      : Math.min(
          Math.max(input.startsAt, input.readyAt) + input.sendSeconds * 1000 + input.requestTimeoutMs,
          lambdaCutoff,
        );
  return { deadline: cutoff - input.requestTimeoutMs, cutoff };
}

/** The `index`th of `parts` shares of `total` that differ by at most one, the larger ones first. */
function splitEvenly(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
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
    // Users before this shard's: splitEvenly gives the first `users % shards` shards one more.
    const firstUser =
      Math.floor(options.users / plan.shards) * shard + Math.min(shard, options.users % plan.shards);
    return { model: 'closed', requestsPerUser, thinkTimeMs: options.thinkTimeMs, firstUser };
  }
  const peak = Math.max(...options.stages.map((stage) => Math.max(stage.from, stage.to)));
  const perShardPeak = peak / plan.shards;
  // A scenario's iteration holds its connection for all its requests and think time.
  const unit = unitCost(options);
  const holdSeconds = unit.requests * RESPONSE_TIME_ALLOWANCE_SECONDS + unit.thinkMs / 1000;
  return {
    model: 'open',
    stages: options.stages,
    shardIndex: shard,
    shardCount: plan.shards,
    fromSeconds: round * plan.shardSeconds,
    toSeconds: Math.min(options.durationSeconds, (round + 1) * plan.shardSeconds),
    // Enough connections for the response-time allowance at the peak rate; a slower target queues,
    // and the queueing shows in the latency measured from the intended send time.
    maxConnections: Math.min(MAX_CONNECTIONS_PER_WORKER, Math.max(8, Math.ceil(perShardPeak * holdSeconds))),
  };
}

/**
 * The rows [from, to) of a data feeder a shard reads. Sequential: each shard its own slice, so that no row is used
 * by two shards; with fewer rows than shards, shard k uses row k mod rows. Random: every row.
 */
export function shardDataRange(
  data: { order: 'sequential' | 'random'; rowCount: number },
  shards: number,
  shard: number,
): { from: number; to: number } {
  const rows = data.rowCount;
  if (data.order === 'random' || rows === 0) return { from: 0, to: rows };
  if (rows < shards) return { from: shard % rows, to: (shard % rows) + 1 };
  return { from: Math.floor((shard * rows) / shards), to: Math.floor(((shard + 1) * rows) / shards) };
}
