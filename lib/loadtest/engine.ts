// Runs one shard of a load test against a target over keep-alive connections and measures every request.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { compileScenario } from '../scenario/compile.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { TargetConnection } from './connection-options.ts';
import { createHistogram, encodeHistogram, type Histogram, recordMs, VarintWriter } from './histogram.ts';
import {
  ConnectionError,
  ConnectionSet,
  type PreparedRequest,
  prepareRequest,
  type TargetConnections,
  tlsSettings,
} from './http1.ts';
import { Http2ConnectionSet } from './http2.ts';
import { type ShardSnapshot, SNAPSHOT_SECONDS_KEPT, type SnapshotSecond } from './live.ts';
import { MIN_SELF_CHECK_MS, type RequestCounts, round2 } from './measurement.ts';
import type { Endpoint, RateStage } from './options.ts';
import {
  type Done,
  type IterationCounts,
  prepareConstantRequests,
  type RecordRequest,
  RowSource,
  type ScenarioContext,
  type ShardData,
  type Slot,
  scenarioUnit,
  slotFactory,
  type UnitRunner,
  weightedPicker,
} from './scenario-runner.ts';
import { RateSchedule } from './schedule.ts';
import { encodeStepLatency, type ShardStepResult, StepRecorder, snapshotSteps } from './step-recorder.ts';

export type ShardLoad =
  | {
      model: 'closed';
      /** Requests (a scenario: iterations) each virtual user of this shard sends, one entry per user. */
      requestsPerUser: number[];
      /** The run-wide number of this shard's first virtual user, less one ($vu counts from 1). */
      firstUser?: number;
      thinkTimeMs: number;
    }
  | {
      model: 'open';
      /** The whole run's timeline; this shard sends requests shardIndex, shardIndex + shardCount, … */
      stages: RateStage[];
      shardIndex: number;
      shardCount: number;
      /** This round's window of the timeline, in seconds from the run's start. */
      fromSeconds: number;
      toSeconds: number;
      maxConnections: number;
    };

export interface ShardWork {
  target: string;
  /** The endpoint shorthand's requests, each one step; empty when a scenario runs. */
  endpoints: Endpoint[];
  /** Iterations of flows instead of single requests. */
  scenario?: Scenario;
  /** This shard's rows of the scenario's data feeder. */
  data?: ShardData;
  timeoutMs: number;
  /** HTTP/2 and TLS settings; HTTP/1.1 with Node's default verification when absent. */
  connection?: TargetConnection;
  /**
   * Epoch ms at which the run's timeline starts: timeline seconds count from here, and the open model's
   * requests fall due on it, whenever the shard itself started (every shard of a round shares it).
   */
  runStartedAt: number;
  /** Epoch ms after which no new request is started (the Lambda's own deadline, with margin). */
  deadline: number;
  /**
   * Epoch ms at which requests still in flight are cut and counted as timeouts, so that a shard never outlives
   * its Lambda; by then each has had at least the request timeout. Unset, they are waited for.
   */
  cutoff?: number;
  load: ShardLoad;
}

export interface GeneratorHealth {
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** Open model: how late the generator noticed requests falling due (timer and event-loop delay), p99. */
  sendLagP99Ms: number;
  /** CPU time over wall time, in percent of one core. */
  cpuPercent: number;
  saturated: boolean;
  /** The shard ran under MIN_SELF_CHECK_MS: its figures are kept but not judged (never saturated). */
  tooShortToJudge?: boolean;
}

export interface ShardResult extends RequestCounts {
  /** Closed model: requests not sent because the deadline came or the run was aborted. */
  remaining: number;
  aborted: boolean;
  /** Encoded histogram of the requests that got a response; in the open model from the intended send time. */
  latency: Uint8Array;
  /** Encoded histogram measured from the actual send time (equals latency in the closed model). */
  latencyUncorrected: Uint8Array;
  /** Encoded per-second requests, errors and latencies (lib/loadtest/timeline.ts). */
  timeline: Uint8Array;
  /** Per step (the scenario's, or one per endpoint), in the order of their definitions; absent from older rows. */
  steps?: ShardStepResult[];
  /** Every step's latency histogram, one after another (lib/loadtest/step-recorder.ts). */
  stepLatency?: Uint8Array;
  /** Scenarios only. */
  iterations?: IterationCounts;
  /** A scenario's sequential data feeder: rows this shard has taken, its earlier rounds included. */
  dataPosition?: number;
  startedAt: number;
  finishedAt: number;
  generator: GeneratorHealth;
}

export interface EngineHooks {
  /** Checked about once a second; true stops the shard after the requests in flight. */
  shouldAbort?: () => boolean | Promise<boolean>;
  /** Stops the shard at once (after the requests in flight), as shouldAbort's true does. */
  signal?: AbortSignal;
  /** Called about four times a second with the totals so far. */
  onProgress?: (progress: { requests: number; failed: number }) => void;
  /** Called every `snapshotEveryMs` with the figures so far, and once more with the final ones at the end. */
  onSnapshot?: (snapshot: ShardSnapshot) => void;
  snapshotEveryMs?: number;
}

/** Runs a shard's load: runShard below, in this thread or on a worker thread (lib/loadtest/shard-thread-pool.ts). */
export type ShardEngine = (work: ShardWork, hooks?: EngineHooks) => Promise<ShardResult>;

/**
 * This thread's CPU time: on a worker thread the process's figure would count every other thread's shards too,
 * and call a busy machine a saturated generator.
 */
const threadCpuUsage = (previous?: NodeJS.CpuUsage): NodeJS.CpuUsage =>
  isMainThread ? process.cpuUsage(previous) : process.threadCpuUsage(previous);

const SATURATION_LAG_MS = 50;
const LAG_RESOLUTION_MS = 10;
const SATURATION_CPU_PERCENT = 90;

/** The generator's self-check: saturated when it lagged or its CPU was busy, judged only over a long enough run. */
export function judgeGenerator(
  figures: Pick<GeneratorHealth, 'cpuPercent' | 'eventLoopLagP99Ms' | 'sendLagP99Ms'> & { wallMs: number },
): Required<Pick<GeneratorHealth, 'saturated' | 'tooShortToJudge'>> {
  if (figures.wallMs < MIN_SELF_CHECK_MS) return { saturated: false, tooShortToJudge: true };
  return {
    saturated:
      figures.eventLoopLagP99Ms > SATURATION_LAG_MS ||
      figures.sendLagP99Ms > SATURATION_LAG_MS ||
      figures.cpuPercent > SATURATION_CPU_PERCENT,
    tooShortToJudge: false,
  };
}

/** The whole shard's figures, counted as a step's are (its seconds are the run's timeline), and its steps'. */
class Recorder extends StepRecorder {
  /** Only the open model measures two ways; in the closed model both figures are the same samples. */
  readonly uncorrected: Histogram | null;
  /** performance.now() at the run's start, so a request's second needs no Date.now(). */
  readonly runOrigin: number;
  private readonly runStartedAt: number;
  private readonly steps: StepRecorder[];

  constructor(runStartedAt: number, measuresTwice: boolean, keptSeconds: number, steps: StepRecorder[]) {
    super(0, keptSeconds);
    this.runStartedAt = runStartedAt;
    this.runOrigin = performance.now() - (Date.now() - runStartedAt);
    this.uncorrected = measuresTwice ? createHistogram() : null;
    this.steps = steps;
  }

  /** A status that failed its expectation, or no response. */
  get failed(): number {
    return this.requests - this.ok;
  }

  readonly recordRequest: RecordRequest = (
    now,
    latencyMs,
    uncorrectedMs,
    status,
    error,
    step,
    httpFailed,
  ) => {
    const second = Math.max(0, Math.floor((now - this.runOrigin) / 1000));
    step.record(second, latencyMs, status, error, httpFailed);
    this.record(second, latencyMs, status, error, httpFailed);
    if (this.uncorrected && error === null) recordMs(this.uncorrected, uncorrectedMs);
  };

  /**
   * The figures so far. A second is whole once the clock has left it (responses arrive in time order), so the
   * open one counts as soon as it is over; once the shard has finished, every second is.
   */
  snapshot(finished: boolean, latency: Uint8Array = encodeHistogram(this.latency)): ShardSnapshot {
    const takenAt = Date.now();
    const now = Math.floor((takenAt - this.runStartedAt) / 1000);
    const windowEnd = finished ? Math.max(now, this.seconds.lastSecond) + 1 : Math.max(0, now);
    const recent = this.seconds.recentSeconds(windowEnd).map(({ buckets, ...second }): SnapshotSecond => {
      const writer = new VarintWriter();
      writer.writeBytes(buckets);
      return { ...second, latency: writer.finish() };
    });
    return {
      ...this.counts(),
      failed: this.failed,
      latency,
      recent,
      windowEnd,
      runStartedAt: this.runStartedAt,
      takenAt,
      finished,
      // A run of one step without checks is its own step: the merge makes it from the run's figures.
      ...(this.steps.length > 1 || this.steps.some((step) => step.checkTotal > 0)
        ? snapshotSteps(this.steps, windowEnd)
        : {}),
    };
  }

  /** The generator's own lateness, kept apart: it says whether the figures above can be trusted. */
  readonly sendLag = createHistogram();
}

/** The endpoint shorthand's unit: one request to a weighted endpoint, recorded under that endpoint's step. */
function endpointUnits(
  newSlot: () => Slot,
  endpoints: Endpoint[],
  prepared: PreparedRequest[],
  steps: StepRecorder[],
  recorder: Recorder,
): () => UnitRunner {
  const choices = endpoints.map((endpoint, index) => ({
    weight: endpoint.weight,
    request: prepared[index] as PreparedRequest,
    step: steps[index] as StepRecorder,
  }));
  const pick = weightedPicker(choices);
  return () => {
    const slot = newSlot();
    let intended = 0;
    let sentAt = 0;
    let step = choices[0]?.step as StepRecorder;
    let finished: () => void = () => undefined;
    // One callback per slot, not per request.
    const completed: Done = (status, error) => {
      const now = performance.now();
      recorder.recordRequest(now, now - intended, now - sentAt, status, error, step, status >= 400);
      finished();
    };
    return {
      run(at, now, _vu, _iteration, done) {
        const choice = pick();
        step = choice.step;
        intended = at;
        sentAt = now;
        finished = done;
        slot.send(choice.request, completed, now);
      },
    };
  };
}

function runClosed(
  load: Extract<ShardLoad, { model: 'closed' }>,
  newUnit: () => UnitRunner,
  stopped: () => boolean,
): Promise<number> {
  return new Promise((resolve) => {
    let remaining = 0;
    let running = load.requestsPerUser.length;
    if (running === 0) resolve(0);
    const finish = (unsent: number) => {
      remaining += unsent;
      if (--running === 0) resolve(remaining);
    };
    // Each virtual user is a chain of callbacks: run a unit, (think,) run the next.
    const user = (count: number, vu: number) => {
      const unit = newUnit();
      let sent = 0;
      // One callback per user, not per request.
      const completed = () => {
        if (load.thinkTimeMs > 0 && sent < count) setTimeout(next, load.thinkTimeMs);
        else next();
      };
      const next = () => {
        if (sent >= count || stopped()) return finish(count - sent);
        sent++;
        const now = performance.now();
        unit.run(now, now, vu, sent - 1, completed);
      };
      next();
    };
    const first = load.firstUser ?? 0;
    load.requestsPerUser.forEach((count, index) => {
      user(count, first + index + 1);
    });
  });
}

/**
 * setTimeout keeps whole milliseconds of the loop's cached clock, so it wakes up to about a millisecond early or
 * late. This close to a request's due time the generator stops trusting it and polls instead: each poll turn
 * handles I/O (responses are timed as they arrive), then sleeps a sliver until just before the due time, so that
 * polling costs a few percent of a core rather than all of it (measured: p50 lateness 0.001 ms, about 3 % CPU at
 * 200 req/s, against 0.6 ms with setTimeout alone).
 */
const POLL_WINDOW_MS = 1.5;
/** The longest a poll turn sleeps (Atomics.wait, a futex): the most a response's timing can be delayed by. */
const POLL_SLEEP_MS = 0.2;
/** A futex sleep overshoots by the kernel's timer slack (50 µs): the last stretch before the due time is spun. */
const POLL_SPIN_MS = 0.07;
/** Polling (less its sleeps) may take at most this share of the wall time; beyond it, setTimeout's accuracy. */
const POLL_BUDGET = 0.1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/**
 * Open-model shards running on this thread. Only a shard alone on its thread polls (as on Lambda, one shard per
 * worker): a poll's sleep would hold up every other shard of the thread, and their budgets would add up.
 */
let openShardsOnThread = 0;

/** A unit runner of the open model with its one completion callback. */
interface OpenSlot {
  unit: UnitRunner;
  completed: () => void;
}

async function runOpen(
  load: Extract<ShardLoad, { model: 'open' }>,
  newUnit: () => UnitRunner,
  recorder: Recorder,
  stopped: () => boolean,
): Promise<void> {
  const schedule = new RateSchedule(load.stages);
  const first = schedule.firstIndexAt(load.fromSeconds);
  const end = schedule.firstIndexAt(load.toSeconds);
  // This shard's requests: indices ≡ shardIndex (mod shardCount), interleaved with the other shards.
  let next = first + ((load.shardIndex - (first % load.shardCount) + load.shardCount) % load.shardCount);
  // Due times on the run's timeline, not from this shard's start: a shard that starts late catches up.
  const dueAt = (index: number) => recorder.runOrigin + schedule.timeOf(index) * 1000;
  // The polling budget is a share of this shard's own wall time.
  const startedAt = performance.now();
  let nextDue = next < end ? dueAt(next) : Number.POSITIVE_INFINITY;

  /** Schedule indices of the units due and not yet sent; each keeps its own intended send time, dueAt(index). */
  const queue: number[] = [];
  let head = 0;
  let inFlight = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const settled = () => inFlight === 0 && head >= queue.length && (next >= end || stopped());

  /** Moves every request due by `now` to the queue, each keeping its own intended send time. */
  const enqueueDue = (now: number) => {
    while (nextDue <= now) {
      recordMs(recorder.sendLag, now - nextDue);
      queue.push(next);
      next += load.shardCount;
      nextDue = next < end ? dueAt(next) : Number.POSITIVE_INFINITY;
    }
  };

  const idle: OpenSlot[] = [];
  const newOpenSlot = (): OpenSlot => {
    const entry: OpenSlot = { unit: newUnit(), completed: () => undefined };
    entry.completed = () => {
      inFlight--;
      idle.push(entry);
      const now = performance.now();
      // A response is a free look at the clock: what fell due meanwhile leaves now, not at the next timer.
      if (nextDue <= now && !stopped()) enqueueDue(now);
      drain();
      if (settled()) finish();
    };
    return entry;
  };
  const dispatch = (index: number) => {
    inFlight++;
    const entry = idle.pop() ?? newOpenSlot();
    // Each unit of the open model is its own virtual user, numbered by its place in the run's timeline.
    entry.unit.run(dueAt(index), performance.now(), index + 1, 0, entry.completed);
  };
  const drain = () => {
    // After a stop (deadline or abort) nothing queued is sent: it is dropped, not counted.
    if (stopped()) head = queue.length;
    while (inFlight < load.maxConnections && head < queue.length) dispatch(queue[head++] as number);
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
  };

  /** Time spent polling, less its sleeps: the CPU the accuracy costs. */
  let pollingMs = 0;
  const tick = (polling: boolean, since: number) => {
    const now = performance.now();
    if (polling) pollingMs += now - since;
    if (stopped()) {
      head = queue.length;
      if (inFlight === 0) finish();
      return;
    }
    enqueueDue(now);
    drain();
    if (next >= end) {
      if (settled()) finish();
      return;
    }
    const wait = nextDue - performance.now();
    if (
      wait <= POLL_WINDOW_MS &&
      openShardsOnThread === 1 &&
      pollingMs <= POLL_BUDGET * (now - startedAt) + POLL_WINDOW_MS
    ) {
      if (wait > POLL_SPIN_MS) {
        const asleep = performance.now();
        Atomics.wait(sleeper, 0, 0, Math.min(POLL_SLEEP_MS, wait - POLL_SPIN_MS));
        pollingMs -= performance.now() - asleep;
      }
      setImmediate(tick, true, now);
    } else setTimeout(tick, Math.max(0, Math.min(5, wait)), false, 0);
  };
  openShardsOnThread++;
  try {
    tick(false, 0);
    await done;
  } finally {
    openShardsOnThread--;
  }
}

/** Runs one shard to completion, its deadline, or an abort, and returns its measurements. */
export async function runShard(work: ShardWork, hooks: EngineHooks = {}): Promise<ShardResult> {
  const url = new URL(work.target);
  const basePath = url.pathname.replace(/\/$/, '');
  const keptSeconds = hooks.onSnapshot ? SNAPSHOT_SECONDS_KEPT : 0;
  const compiled = work.scenario ? compileScenario(work.scenario) : null;
  const steps = compiled
    ? compiled.steps.map((step) => new StepRecorder(step.checks.length, keptSeconds))
    : work.endpoints.map(() => new StepRecorder(0, keptSeconds));
  const recorder = new Recorder(work.runStartedAt, work.load.model === 'open', keptSeconds, steps);
  // A shard whose deadline has already passed sends nothing.
  let stop = Date.now() >= work.deadline;
  const stopped = () => stop;
  // Requests that cannot be sent fail the shard at its start, with their reason, rather than each request.
  const prepared = compiled
    ? []
    : work.endpoints.map((endpoint) =>
        prepareRequest(url, endpoint.method, basePath + endpoint.path, endpoint.headers, endpoint.body),
      );
  const scenario: ScenarioContext | null = compiled
    ? {
        compiled,
        origin: url,
        basePath,
        prepared: prepareConstantRequests(compiled, url, basePath),
        steps,
        iterations: { started: 0, completed: 0, failed: 0, failedBecause: {} },
        pickFlow: weightedPicker(compiled.flows),
        rows: work.data ? new RowSource(work.data) : null,
        stopped,
        record: recorder.recordRequest,
      }
    : null;
  const tls = tlsSettings(work.connection);
  const connections: TargetConnections = work.connection?.http2
    ? new Http2ConnectionSet(url, work.timeoutMs, tls)
    : new ConnectionSet(url, work.timeoutMs, tls);
  const newSlot = slotFactory(connections);
  const newUnit = scenario
    ? () => scenarioUnit(newSlot(), scenario)
    : endpointUnits(newSlot, work.endpoints, prepared, steps, recorder);
  let aborted = false;
  let lastAbortCheck = 0;
  let lastSnapshot = Date.now();
  const onAbort = () => {
    aborted = true;
    stop = true;
  };
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const ticker = setInterval(async () => {
    if (Date.now() >= work.deadline) stop = true;
    hooks.onProgress?.({ requests: recorder.requests, failed: recorder.failed });
    if (hooks.onSnapshot && Date.now() - lastSnapshot >= (hooks.snapshotEveryMs ?? 1000)) {
      lastSnapshot = Date.now();
      hooks.onSnapshot(recorder.snapshot(false));
    }
    if (hooks.shouldAbort && Date.now() - lastAbortCheck >= 1000) {
      lastAbortCheck = Date.now();
      try {
        if (await hooks.shouldAbort()) onAbort();
      } catch {
        // An unreachable abort flag must not end a healthy shard; the next check tries again.
      }
    }
  }, 250);
  const cutInFlight = () => {
    stop = true;
    connections.failInFlight(
      new ConnectionError(
        'LOADTEST_REQUEST_CUT_TIMEOUT',
        'cut at the shard cutoff, past the request timeout',
      ),
    );
  };
  const cut =
    work.cutoff === undefined ? undefined : setTimeout(cutInFlight, Math.max(0, work.cutoff - Date.now()));

  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const cpuBefore = threadCpuUsage();
  // The open model's window starts on the run's timeline: a shard that began late still owns the requests due
  // since then (it catches up), so its span is the schedule's, not the part of it left when it began.
  const startedAt =
    work.load.model === 'open'
      ? Math.min(Date.now(), work.runStartedAt + work.load.fromSeconds * 1000)
      : Date.now();
  const wallStart = performance.now();
  let remaining = 0;
  try {
    if (work.load.model === 'closed') remaining = await runClosed(work.load, newUnit, stopped);
    else await runOpen(work.load, newUnit, recorder, stopped);
  } finally {
    clearInterval(ticker);
    hooks.signal?.removeEventListener('abort', onAbort);
    clearTimeout(cut);
    lag.disable();
    connections.close();
  }
  hooks.onProgress?.({ requests: recorder.requests, failed: recorder.failed });
  const wallMs = Math.max(1, performance.now() - wallStart);
  const cpu = threadCpuUsage(cpuBefore);
  const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10;
  // The histogram records whole sampling intervals: an idle loop reads about the resolution itself.
  const lagMs = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS) : 0);
  const lagP99 = lagMs(lag.percentile(99));
  const lagMax = lagMs(lag.max);
  const sendLagP99 = recorder.sendLag.totalCount
    ? Math.round(recorder.sendLag.getValueAtPercentile(99) / 10) / 100
    : 0;
  recorder.sendLag.destroy();
  const latency = encodeHistogram(recorder.latency);
  hooks.onSnapshot?.(recorder.snapshot(true, latency));
  const result: ShardResult = {
    ...recorder.counts(),
    failed: recorder.failed,
    remaining,
    aborted,
    latency,
    latencyUncorrected: recorder.uncorrected ? encodeHistogram(recorder.uncorrected) : latency,
    timeline: recorder.seconds.finish().finish(),
    steps: steps.map((step) => step.result()),
    stepLatency: encodeStepLatency(steps),
    ...(scenario ? { iterations: scenario.iterations } : {}),
    ...(scenario?.rows ? { dataPosition: scenario.rows.position } : {}),
    startedAt,
    finishedAt: Date.now(),
    generator: {
      eventLoopLagP99Ms: round2(lagP99),
      eventLoopLagMaxMs: round2(lagMax),
      sendLagP99Ms: sendLagP99,
      cpuPercent,
      ...judgeGenerator({ wallMs, cpuPercent, eventLoopLagP99Ms: lagP99, sendLagP99Ms: sendLagP99 }),
    },
  };
  recorder.latency.destroy();
  recorder.uncorrected?.destroy();
  for (const step of steps) step.latency.destroy();
  return result;
}
