// Runs one shard of a load test against a target over keep-alive connections and measures every request.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createHistogram, encodeHistogram, type Histogram, recordMs } from './histogram.ts';
import { type ErrorKind, MIN_SELF_CHECK_MS } from './measurement.ts';
import type { Endpoint, RateStage } from './options.ts';
import { RateSchedule } from './schedule.ts';

export { ERROR_KINDS, type ErrorKind, MIN_SELF_CHECK_MS } from './measurement.ts';

export type ShardLoad =
  | {
      model: 'closed';
      /** Requests each virtual user of this shard sends, one entry per user. */
      requestsPerUser: number[];
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
  endpoints: Endpoint[];
  timeoutMs: number;
  /** Epoch ms at which the run started: timeline seconds count from here. */
  runStartedAt: number;
  /** Epoch ms after which no new request is started (the Lambda's own deadline, with margin). */
  deadline: number;
  load: ShardLoad;
}

export interface TimelineSecond {
  second: number;
  requests: number;
  errors: number;
  /** Encoded timeline histogram of latencies of the responses completed in this second. */
  histogram: string;
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

export interface ShardResult {
  requests: number;
  ok: number;
  failed: number;
  /** Closed model: requests not sent because the deadline came or the run was aborted. */
  remaining: number;
  aborted: boolean;
  statusCodes: Record<string, number>;
  errors: Record<ErrorKind, number>;
  /** Encoded histogram of the requests that got a response; in the open model from the intended send time. */
  latency: string;
  /** Encoded histogram measured from the actual send time (equals latency in the closed model). */
  latencyUncorrected: string;
  timeline: TimelineSecond[];
  startedAt: number;
  finishedAt: number;
  generator: GeneratorHealth;
}

export interface EngineHooks {
  /** Checked about once a second; true stops the shard after the requests in flight. */
  shouldAbort?: () => boolean | Promise<boolean>;
  /** Called about four times a second with the totals so far. */
  onProgress?: (progress: { requests: number; failed: number }) => void;
}

const SATURATION_LAG_MS = 50;
const LAG_RESOLUTION_MS = 10;
const SATURATION_CPU_PERCENT = 90;

/** The generator's self-check: saturated when it lagged or its CPU was busy, judged only over a long enough run. */
export function judgeGenerator(figures: {
  wallMs: number;
  cpuPercent: number;
  eventLoopLagP99Ms: number;
  sendLagP99Ms: number;
}): { saturated: boolean; tooShortToJudge: boolean } {
  if (figures.wallMs < MIN_SELF_CHECK_MS) return { saturated: false, tooShortToJudge: true };
  return {
    saturated:
      figures.eventLoopLagP99Ms > SATURATION_LAG_MS ||
      figures.sendLagP99Ms > SATURATION_LAG_MS ||
      figures.cpuPercent > SATURATION_CPU_PERCENT,
    tooShortToJudge: false,
  };
}

export function classifyError(error: unknown): ErrorKind {
  const codes: string[] = [];
  for (
    let current = error as { code?: unknown; cause?: unknown; name?: unknown } | undefined, depth = 0;
    current && depth < 4;
    depth++
  ) {
    if (typeof current.code === 'string') codes.push(current.code);
    if (typeof current.name === 'string') codes.push(current.name);
    current = current.cause as typeof current;
  }
  if (codes.some((code) => /TIMEOUT|TimeoutError|ETIMEDOUT/i.test(code))) return 'timeout';
  if (codes.includes('ECONNREFUSED')) return 'refused';
  if (codes.some((code) => ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code)))
    return 'reset';
  if (codes.some((code) => ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME'].includes(code))) return 'dns';
  return 'other';
}

/** Weighted endpoint choice from a cumulative table; one random number per request. */
function endpointPicker(endpoints: Endpoint[]): () => Endpoint {
  const first = endpoints[0];
  if (first === undefined) throw new Error('no endpoints');
  if (endpoints.length === 1) return () => first;
  const total = endpoints.reduce((sum, endpoint) => sum + endpoint.weight, 0);
  const cumulative: number[] = [];
  let running = 0;
  for (const endpoint of endpoints) {
    running += endpoint.weight / total;
    cumulative.push(running);
  }
  return () => {
    const roll = Math.random();
    for (let index = 0; index < cumulative.length; index++) {
      if (roll < (cumulative[index] ?? 1)) return endpoints[index] ?? first;
    }
    return endpoints[endpoints.length - 1] ?? first;
  };
}

class Recorder {
  requests = 0;
  ok = 0;
  failed = 0;
  private readonly statuses = new Map<number, number>();
  readonly errors: Record<ErrorKind, number> = { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 };
  readonly latency = createHistogram();
  /** Only the open model measures two ways; in the closed model both figures are the same samples. */
  readonly uncorrected: Histogram | null;
  /** Seconds already over, encoded; completions arrive in time order, so a second never reopens. */
  private readonly finished: TimelineSecond[] = [];
  /** One live histogram for the current second, reset and reused for the next. */
  private readonly secondHistogram = createHistogram('timeline');
  private currentSecond = -1;
  private secondRequests = 0;
  private secondErrors = 0;
  /** performance.now() at the run's start, so a request's second needs no Date.now(). */
  private readonly runOrigin: number;

  constructor(runStartedAt: number, measuresTwice: boolean) {
    this.runOrigin = performance.now() - (Date.now() - runStartedAt);
    this.uncorrected = measuresTwice ? createHistogram() : null;
  }

  record(
    now: number,
    latencyMs: number,
    uncorrectedMs: number,
    status: number,
    error: ErrorKind | null,
  ): void {
    this.requests++;
    const failed = error !== null || status >= 400;
    if (failed) this.failed++;
    else this.ok++;
    if (status > 0) this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (error !== null) this.errors[error]++;
    // Latency is measured over responses only: a refused connection's 0.7 ms is no latency of the
    // target's, and would pull p50 down; requests without a response are counted in errors instead.
    const responded = error === null;
    if (responded) {
      recordMs(this.latency, latencyMs);
      if (this.uncorrected) recordMs(this.uncorrected, uncorrectedMs);
    }
    const second = Math.max(0, Math.floor((now - this.runOrigin) / 1000));
    if (second > this.currentSecond) {
      this.closeSecond();
      this.currentSecond = second;
    }
    this.secondRequests++;
    if (failed) this.secondErrors++;
    if (responded) recordMs(this.secondHistogram, latencyMs);
  }

  private closeSecond(): void {
    if (this.secondRequests === 0) return;
    this.finished.push({
      second: this.currentSecond,
      requests: this.secondRequests,
      errors: this.secondErrors,
      histogram: encodeHistogram(this.secondHistogram),
    });
    this.secondHistogram.reset();
    this.secondRequests = 0;
    this.secondErrors = 0;
  }

  /** The generator's own lateness, kept apart: it says whether the figures above can be trusted. */
  readonly sendLag = createHistogram('timeline');

  recordSendLag(ms: number): void {
    recordMs(this.sendLag, ms);
  }

  statusCodes(): Record<string, number> {
    return Object.fromEntries([...this.statuses].map(([status, count]) => [String(status), count]));
  }

  timeline(): TimelineSecond[] {
    this.closeSecond();
    this.secondHistogram.destroy();
    return this.finished;
  }
}

/** Calls back with the status (0 when the request failed) and the error kind, once the body is read. */
type Done = (status: number, error: ErrorKind | null) => void;

/** One request at a time; its handler and options are reused for the next, so a request allocates little. */
interface Slot {
  send(endpoint: Endpoint, done: Done): void;
}

interface PreparedEndpoint {
  path: string;
  method: Endpoint['method'];
  /** Flat [name, value, …]: undici takes it as is, with no per-request conversion. */
  headers: string[];
  body: string | undefined;
}

/**
 * Slots that send through undici's dispatcher with a minimal handler: no header parsing, no body stream,
 * no promise. The body is read to the end (and discarded) so the connection can carry the next request.
 */
function slotFactory(pool: Pool, timeoutMs: number, basePath: string): () => Slot {
  const prepared = new Map<Endpoint, PreparedEndpoint>();
  let lastEndpoint: Endpoint | undefined;
  let lastPrepared: PreparedEndpoint | undefined;
  const prepare = (endpoint: Endpoint): PreparedEndpoint => {
    if (endpoint === lastEndpoint && lastPrepared) return lastPrepared;
    lastEndpoint = endpoint;
    let entry = prepared.get(endpoint);
    if (entry === undefined) {
      entry = {
        path: basePath + endpoint.path,
        method: endpoint.method,
        headers: Object.entries(endpoint.headers).flat(),
        body: endpoint.body,
      };
      prepared.set(endpoint, entry);
    }
    lastPrepared = entry;
    return entry;
  };
  return () => {
    let status = 0;
    let done: Done = () => undefined;
    const options = {
      path: '',
      method: 'GET',
      headers: [] as string[],
      body: undefined as string | undefined,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    };
    const handler = {
      onConnect() {},
      onHeaders(statusCode: number) {
        status = statusCode;
        return true;
      },
      onData() {
        return true;
      },
      onComplete() {
        done(status, null);
      },
      onError(error: Error) {
        done(0, classifyError(error));
      },
    };
    return {
      send(endpoint, callback) {
        const request = prepare(endpoint);
        status = 0;
        done = callback;
        options.path = request.path;
        options.method = request.method;
        options.headers = request.headers;
        options.body = request.body;
        pool.dispatch(options as never, handler as never);
      },
    };
  };
}

function runClosed(
  load: Extract<ShardLoad, { model: 'closed' }>,
  newSlot: () => Slot,
  pick: () => Endpoint,
  recorder: Recorder,
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
    // Each virtual user is a chain of callbacks: send, record, (think,) send again.
    const user = (count: number) => {
      const slot = newSlot();
      let sent = 0;
      let started = 0;
      // One callback per user, not per request.
      const completed: Done = (status, error) => {
        const now = performance.now();
        recorder.record(now, now - started, now - started, status, error);
        if (load.thinkTimeMs > 0 && sent < count) setTimeout(next, load.thinkTimeMs);
        else next();
      };
      const next = () => {
        if (sent >= count || stopped()) return finish(count - sent);
        sent++;
        started = performance.now();
        slot.send(pick(), completed);
      };
      next();
    };
    for (const count of load.requestsPerUser) user(count);
  });
}

async function runOpen(
  load: Extract<ShardLoad, { model: 'open' }>,
  newSlot: () => Slot,
  pick: () => Endpoint,
  recorder: Recorder,
  stopped: () => boolean,
): Promise<void> {
  const schedule = new RateSchedule(load.stages);
  const first = schedule.firstIndexAt(load.fromSeconds);
  const end = schedule.firstIndexAt(load.toSeconds);
  // This shard's requests: indices ≡ shardIndex (mod shardCount), interleaved with the other shards.
  let next = first + ((load.shardIndex - (first % load.shardCount) + load.shardCount) % load.shardCount);
  const origin = performance.now();
  const dueAt = (index: number) => origin + (schedule.timeOf(index) - load.fromSeconds) * 1000;

  const queue: number[] = [];
  let head = 0;
  let inFlight = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const settled = () => inFlight === 0 && head >= queue.length && (next >= end || stopped());

  const idle: Slot[] = [];
  const dispatch = (intended: number) => {
    inFlight++;
    const slot = idle.pop() ?? newSlot();
    const sentAt = performance.now();
    slot.send(pick(), (status, error) => {
      inFlight--;
      idle.push(slot);
      const now = performance.now();
      recorder.record(now, now - intended, now - sentAt, status, error);
      drain();
      if (settled()) finish();
    });
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

  const tick = () => {
    if (stopped()) {
      head = queue.length;
      if (inFlight === 0) finish();
      return;
    }
    const now = performance.now();
    while (next < end && dueAt(next) <= now) {
      const due = dueAt(next);
      recorder.recordSendLag(now - due);
      queue.push(due);
      next += load.shardCount;
    }
    drain();
    if (next >= end) {
      if (settled()) finish();
      return;
    }
    setTimeout(tick, Math.max(0, Math.min(5, dueAt(next) - performance.now())));
  };
  tick();
  await done;
}

/** Runs one shard to completion, its deadline, or an abort, and returns its measurements. */
export async function runShard(work: ShardWork, hooks: EngineHooks = {}): Promise<ShardResult> {
  const url = new URL(work.target);
  const basePath = url.pathname.replace(/\/$/, '');
  const connections =
    work.load.model === 'closed' ? Math.max(1, work.load.requestsPerUser.length) : work.load.maxConnections;
  const pool = new Pool(url.origin, {
    connections,
    pipelining: 1,
    connect: { timeout: work.timeoutMs },
    keepAliveTimeout: 30_000,
  });
  const recorder = new Recorder(work.runStartedAt, work.load.model === 'open');
  const newSlot = slotFactory(pool, work.timeoutMs, basePath);
  const pick = endpointPicker(work.endpoints);

  let stop = false;
  let aborted = false;
  let lastAbortCheck = 0;
  const stopped = () => stop;
  const ticker = setInterval(async () => {
    if (Date.now() >= work.deadline) stop = true;
    hooks.onProgress?.({ requests: recorder.requests, failed: recorder.failed });
    if (hooks.shouldAbort && Date.now() - lastAbortCheck >= 1000) {
      lastAbortCheck = Date.now();
      try {
        if (await hooks.shouldAbort()) {
          aborted = true;
          stop = true;
        }
      } catch {
        // An unreachable abort flag must not end a healthy shard; the next check tries again.
      }
    }
  }, 250);

  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const cpuBefore = process.cpuUsage();
  const startedAt = Date.now();
  const wallStart = performance.now();
  let remaining = 0;
  try {
    if (work.load.model === 'closed')
      remaining = await runClosed(work.load, newSlot, pick, recorder, stopped);
    else await runOpen(work.load, newSlot, pick, recorder, stopped);
  } finally {
    clearInterval(ticker);
    lag.disable();
    await pool.close().catch(() => undefined);
  }
  hooks.onProgress?.({ requests: recorder.requests, failed: recorder.failed });
  const wallMs = Math.max(1, performance.now() - wallStart);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10;
  // The histogram records whole sampling intervals: an idle loop reads about the resolution itself.
  const lagP99 = Number.isFinite(lag.percentile(99))
    ? Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS)
    : 0;
  const lagMax = Number.isFinite(lag.max) ? Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS) : 0;
  const sendLagP99 = recorder.sendLag.totalCount
    ? Math.round(recorder.sendLag.getValueAtPercentile(99) / 10) / 100
    : 0;
  recorder.sendLag.destroy();
  const latency = encodeHistogram(recorder.latency);
  const result: ShardResult = {
    requests: recorder.requests,
    ok: recorder.ok,
    failed: recorder.failed,
    remaining,
    aborted,
    statusCodes: recorder.statusCodes(),
    errors: recorder.errors,
    latency,
    latencyUncorrected: recorder.uncorrected ? encodeHistogram(recorder.uncorrected) : latency,
    timeline: recorder.timeline(),
    startedAt,
    finishedAt: Date.now(),
    generator: {
      eventLoopLagP99Ms: Math.round(lagP99 * 100) / 100,
      eventLoopLagMaxMs: Math.round(lagMax * 100) / 100,
      sendLagP99Ms: sendLagP99,
      cpuPercent,
      ...judgeGenerator({ wallMs, cpuPercent, eventLoopLagP99Ms: lagP99, sendLagP99Ms: sendLagP99 }),
    },
  };
  recorder.latency.destroy();
  recorder.uncorrected?.destroy();
  return result;
}
