// The load test's state machine at 10,000 shards: the largest state payload and the history events per execution.
//
// The deployed definition runs in process (aws-local-stepfunctions) with the real Plan, Advance, ShardFailed
// and Aggregate steps on an in-memory store, and a stub worker in place of the engine: what is measured is
// what Step Functions would carry and record, not the load. Some shards fail (caught and recorded) and some
// are throttled once (retried), as at scale they would be.

import { StateMachine } from 'aws-local-stepfunctions';
import type { Db } from '../lib/db/pool.ts';
import type { ShardResult } from '../lib/loadtest/engine.ts';
import { createHistogram, encodeHistogram } from '../lib/loadtest/histogram.ts';
import { DEFAULT_LIMITS, type LoadTestLimits } from '../lib/loadtest/limits.ts';
import { type Json, localDefinition, localTaskHandlers } from '../lib/loadtest/local-runner.ts';
import { MAX_ROUNDS } from '../lib/loadtest/plan.ts';
import { createLoadTest } from '../lib/loadtest/service.ts';
import type { ShardTask } from '../lib/loadtest/step-deps.ts';
import {
  LoadTestStore,
  type RunRecord,
  type RunStatus,
  type ShardFailure,
  type StoredShardResult,
} from '../lib/loadtest/store.ts';
import { TimelineWriter } from '../lib/loadtest/timeline.ts';
import { createLogger } from '../lib/log/logger.ts';
import { formatBytes, type Table } from './support/report.ts';

/** Step Functions' quotas the figures are held against. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
export const HISTORY_EVENT_LIMIT = 25_000;

const SHARDS = 10_000;
const ROUNDS = 3;
/** Every 100th shard fails for good (caught, recorded); every 100th, offset by 50, is throttled once. */
const FAILING = (shard: number) => shard % 100 === 0;
const THROTTLED = (shard: number) => shard % 100 === 50;

/** The store's methods the steps call, in memory: the bench measures the state machine, not PostgreSQL. */
class MemoryLoadTestStore extends LoadTestStore {
  private run: RunRecord | undefined;
  private readonly results = new Map<string, StoredShardResult>();
  private readonly failures = new Map<string, ShardFailure>();
  constructor() {
    super({} as Db);
  }
  override async createRun(id: string, options: RunRecord['options'], plan: RunRecord['plan']) {
    this.run = {
      id,
      status: 'pending',
      target: options.target,
      options,
      plan,
      executionArn: null,
      abortRequested: false,
      abortReason: null,
      live: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      report: null,
      error: null,
    };
  }
  override async getRun(id: string) {
    return this.run?.id === id ? this.run : null;
  }
  override async markStarted() {
    const started = new Date();
    if (this.run) this.run = { ...this.run, status: 'running', startedAt: started.toISOString() };
    return started;
  }
  override async recordHeartbeat() {}
  override async isAbortRequested() {
    return false;
  }
  override async saveShardResult(_id: string, round: number, shard: number, result: ShardResult) {
    const key = `${round}:${shard}`;
    const attempts = (this.results.get(key)?.attempts ?? 0) + 1;
    this.results.set(key, { round, shard, attempts, result });
  }
  override async shardResult(_id: string, round: number, shard: number) {
    return this.results.get(`${round}:${shard}`)?.result ?? null;
  }
  override async roundSummary(_id: string, round: number) {
    const rows = [...this.results.values()].filter((row) => row.round === round);
    return {
      shards: rows.length,
      remaining: rows.reduce((sum, row) => sum + row.result.remaining, 0),
      aborted: rows.some((row) => row.result.aborted),
    };
  }
  override async shardResults() {
    return [...this.results.values()].sort((a, b) => a.round - b.round || a.shard - b.shard);
  }
  override async saveShardFailure(_id: string, failure: ShardFailure) {
    this.failures.set(`${failure.round}:${failure.shard}`, failure);
  }
  override async shardFailures() {
    return [...this.failures.values()];
  }
  override async finish(_id: string, status: RunStatus, report: RunRecord['report'], error?: string) {
    if (this.run) this.run = { ...this.run, status, report, error: error ?? null };
  }
}

/** One request per shard, no timeline: the smallest result the Aggregate step merges. */
function stubResult(emptyHistogram: Uint8Array, emptyTimeline: Uint8Array): ShardResult {
  const now = Date.now();
  return {
    requests: 1,
    ok: 1,
    failed: 0,
    remaining: 0,
    aborted: false,
    statusCodes: { '200': 1 },
    errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
    latency: emptyHistogram,
    latencyUncorrected: emptyHistogram,
    timeline: emptyTimeline,
    startedAt: now,
    finishedAt: now,
    generator: {
      eventLoopLagP99Ms: 0,
      eventLoopLagMaxMs: 0,
      sendLagP99Ms: 0,
      cpuPercent: 0,
      saturated: false,
    },
  };
}

/**
 * History events as Step Functions records them, per execution:
 * - an execution: ExecutionStarted and ExecutionSucceeded (2);
 * - a Task state: TaskStateEntered and TaskStateExited (2), and per attempt TaskScheduled, TaskStarted and
 *   TaskSucceeded or TaskFailed (3), so a retry adds 3;
 * - a Choice or Pass state: its Entered and Exited (2);
 * - an inline Map: MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited (4), and per
 *   iteration MapIterationStarted and MapIterationSucceeded (2) besides the iteration's own states;
 * - a distributed Map, in the parent: MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited (4);
 *   each of its items is a child execution with a history of its own.
 */
const EVENTS = {
  execution: 2,
  taskState: 2,
  taskAttempt: 3,
  choiceState: 2,
  map: 4,
  mapIteration: 2,
} as const;

export interface StateMachineResult {
  shards: number;
  rounds: number;
  blocks: number;
  failedShards: number;
  retriedShards: number;
  totalRequests: number;
  status: string;
  seconds: number;
  /** Largest input or output of any state of the parent or of a child, in bytes (JSON). */
  largestPayloadBytes: number;
  largestPayloadState: string;
  /** The distributed Map's collected child outputs in one round, before ResultPath drops them. */
  collectedOutputsBytes: number;
  parentEvents: number;
  /** The parent's events for MAX_ROUNDS rounds, by the same count. */
  parentEventsAtMaxRounds: number;
  largestChildEvents: number;
}

export async function measureStateMachine(
  progress: (message: string) => void = () => undefined,
): Promise<StateMachineResult> {
  progress(`state machine: ${SHARDS.toLocaleString('en-US')} shards × ${ROUNDS} rounds with a stub worker`);
  const store = new MemoryLoadTestStore();
  const limits: LoadTestLimits = {
    ...DEFAULT_LIMITS,
    maxWorkers: SHARDS,
    maxRate: 1_000_000,
    shardSeconds: 1,
  };
  // The open model: one request per shard per round, three rounds of one second.
  const run = await createLoadTest(
    // 1 % of the shards fail: tolerated, so that every round runs.
    {
      target: 'http://127.0.0.1:9',
      rate: SHARDS,
      duration: ROUNDS,
      workers: SHARDS,
      toleratedFailurePercent: 2,
    },
    store,
    limits,
  );
  const blocks = run.plan.blocks;
  const deps = { store, logger: createLogger({ level: 'error' }) };
  const real = localTaskHandlers(deps);
  const emptyHistogram = encodeHistogram(createHistogram());
  const emptyTimeline = new TimelineWriter().finish();

  let largestPayloadBytes = 0;
  let largestPayloadState = '';
  let collectedOutputsBytes = 0;
  const measure = (state: string, value: unknown) => {
    const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
    if (bytes > largestPayloadBytes) {
      largestPayloadBytes = bytes;
      largestPayloadState = state;
    }
  };
  // Attempts per Task state entered, keyed by the state and what it was entered for.
  const attempts = new Map<string, number>();
  const attempt = (key: string) => attempts.set(key, (attempts.get(key) ?? 0) + 1);
  const throttledOnce = new Set<string>();
  let retriedShards = 0;

  const stubWorker = async (input: unknown) => {
    const task = input as ShardTask;
    const key = `${task.round}:${task.shard}`;
    if (THROTTLED(task.shard) && !throttledOnce.has(key)) {
      throttledOnce.add(key);
      retriedShards++;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
    }
    if (FAILING(task.shard)) throw new Error('the worker failed');
    await store.saveShardResult(
      task.runId,
      task.round,
      task.shard,
      stubResult(emptyHistogram, emptyTimeline),
    );
    return { ...task, requests: 1, failed: 0, remaining: 0 };
  };
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, handler] of Object.entries({ ...real, RunShardDistributed: stubWorker })) {
    handlers[name] = async (input) => {
      const task = input as Partial<ShardTask> & { state?: { round?: number; collected?: unknown } };
      attempt(`${name}|${task.round ?? task.state?.round ?? ''}|${task.shard ?? ''}`);
      if (task.state?.collected !== undefined) {
        // Measured apart, then dropped as the deployed Map's ResultPath: null drops it.
        collectedOutputsBytes = Math.max(
          collectedOutputsBytes,
          Buffer.byteLength(JSON.stringify(task.state.collected)),
        );
        delete task.state.collected;
      }
      measure(name, input);
      const output = await handler(input);
      measure(name, output);
      return output;
    };
  }

  // The deployed definition, except that the distributed Map keeps its collected child outputs for Advance
  // to measure (the handler above drops them before anything else sees them).
  const definition = localDefinition();
  const states = definition.States as Record<string, Record<string, Json>>;
  const distributedMap = states.RunShardsDistributed;
  if (!distributedMap) throw new Error('the definition has no RunShardsDistributed state');
  distributedMap.ResultPath = '$.collected';
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const started = performance.now();
  const execution = machine.run(
    { runId: run.runId },
    {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: { RunShardDistributed: 0 },
      },
    },
  );
  const outcome = (await execution.result) as { status: string; requests: number };
  const seconds = (performance.now() - started) / 1000;

  // Each block's child input, as the Map's ItemSelector builds it: block b holds shards b, b + blocks, ….
  const lastShard = SHARDS - 1;
  for (let block = 0; block < blocks; block++) {
    const shards: number[] = [];
    for (let shard = block; shard <= lastShard; shard += blocks) shards.push(shard);
    measure('RunBlockDistributed (child input)', {
      runId: run.runId,
      round: 0,
      startsAt: Date.now(),
      shards,
    });
  }

  // Events, from what ran: the parent's Task states, Choices and Maps, and each child's shards.
  const taskEvents = (name: string, round: string, shard: string) =>
    EVENTS.taskState + EVENTS.taskAttempt * (attempts.get(`${name}|${round}|${shard}`) ?? 0);
  const roundsRun = [...attempts.keys()].filter((key) => key.startsWith('Advance|')).length;
  const parentPerRound = (round: number) =>
    EVENTS.choiceState * 2 + EVENTS.map + taskEvents('Advance', String(round), '');
  let parentEvents =
    EVENTS.execution + taskEvents('Plan', '', '') + taskEvents('Aggregate', String(roundsRun - 1), '');
  for (let round = 0; round < roundsRun; round++) parentEvents += parentPerRound(round);
  // The last round's MoreRounds leads to Aggregate, and every round's ChooseMap counted above: as deployed.
  const steadyRound = parentPerRound(0);
  const parentEventsAtMaxRounds = parentEvents + (MAX_ROUNDS - roundsRun) * steadyRound;

  let largestChildEvents = 0;
  for (let round = 0; round < roundsRun; round++) {
    for (let block = 0; block < blocks; block++) {
      let events = EVENTS.execution + EVENTS.map;
      for (let shard = block; shard <= lastShard; shard += blocks) {
        events += EVENTS.mapIteration + taskEvents('RunShardDistributed', String(round), String(shard));
        if (attempts.has(`ShardFailedDistributed|${round}|${shard}`))
          events += taskEvents('ShardFailedDistributed', String(round), String(shard));
      }
      largestChildEvents = Math.max(largestChildEvents, events);
    }
  }

  return {
    shards: SHARDS,
    rounds: roundsRun,
    blocks,
    failedShards: [...attempts.keys()].filter((key) => key.startsWith('ShardFailedDistributed|')).length,
    retriedShards,
    totalRequests: outcome.requests,
    status: outcome.status,
    seconds,
    largestPayloadBytes,
    largestPayloadState,
    collectedOutputsBytes,
    parentEvents,
    parentEventsAtMaxRounds,
    largestChildEvents,
  };
}

export function stateMachineTable(result: StateMachineResult): Table {
  const ratio = (value: number, limit: number) => `${(value / limit).toPrecision(2)}×`;
  return {
    title: `State machine: ${result.shards.toLocaleString('en-US')} shards × ${result.rounds} rounds (${result.blocks} blocks per round), stub worker, local runner`,
    columns: ['figure', 'measured', 'Step Functions limit', 'ratio to the limit'],
    rows: [
      [
        `largest state payload (${result.largestPayloadState})`,
        formatBytes(result.largestPayloadBytes),
        formatBytes(PAYLOAD_LIMIT_BYTES),
        ratio(result.largestPayloadBytes, PAYLOAD_LIMIT_BYTES),
      ],
      [
        "anchor: a list of every shard as the Map's items",
        formatBytes(
          Buffer.byteLength(JSON.stringify(Array.from({ length: result.shards }, (_, index) => index))),
        ),
        formatBytes(PAYLOAD_LIMIT_BYTES),
        ratio(
          Buffer.byteLength(JSON.stringify(Array.from({ length: result.shards }, (_, index) => index))),
          PAYLOAD_LIMIT_BYTES,
        ),
      ],
      [
        'distributed Map: collected child outputs per round',
        formatBytes(result.collectedOutputsBytes),
        formatBytes(PAYLOAD_LIMIT_BYTES),
        ratio(result.collectedOutputsBytes, PAYLOAD_LIMIT_BYTES),
      ],
      [
        `history events: parent execution, ${result.rounds} rounds`,
        result.parentEvents.toLocaleString('en-US'),
        HISTORY_EVENT_LIMIT.toLocaleString('en-US'),
        ratio(result.parentEvents, HISTORY_EVENT_LIMIT),
      ],
      [
        `history events: parent execution, ${MAX_ROUNDS} rounds (the most)`,
        result.parentEventsAtMaxRounds.toLocaleString('en-US'),
        HISTORY_EVENT_LIMIT.toLocaleString('en-US'),
        ratio(result.parentEventsAtMaxRounds, HISTORY_EVENT_LIMIT),
      ],
      [
        'history events: largest child execution (one block)',
        result.largestChildEvents.toLocaleString('en-US'),
        HISTORY_EVENT_LIMIT.toLocaleString('en-US'),
        ratio(result.largestChildEvents, HISTORY_EVENT_LIMIT),
      ],
    ],
    notes: [
      `run ${result.status}: ${result.totalRequests.toLocaleString('en-US')} requests; ${result.failedShards} shard-rounds failed (caught and recorded), ${result.retriedShards} throttled once and retried; ${result.seconds.toFixed(1)} s`,
      'payload: JSON bytes of every Task state input and output, and of each block child input (its ItemSelector)',
      'events per execution, counted as Step Functions records them: 2 per execution; per Task state 2 plus 3 per attempt;',
      '2 per Choice; 4 per Map; 2 more per inline Map iteration. A distributed Map adds 4 to the parent and each of its',
      'blocks is a child execution with its own history: the parent grows by rounds only, a child by its 40 shards.',
    ],
  };
}
