// The load engine (runShard of lib/loadtest/engine.ts) against autocannon, both aimed at a local target in its
// own process: request rate, latency accuracy against injected delays, and coordinated omission.

import autocannon from 'autocannon';
import type { TargetConnection } from '../lib/loadtest/connection-options.ts';
import { type GeneratorHealth, runShard, type ShardLoad, type ShardResult } from '../lib/loadtest/engine.ts';
import {
  createHistogram,
  decodeHistogram,
  type EncodedHistogram,
  type Histogram,
  recordMs,
  summarize,
} from '../lib/loadtest/histogram.ts';
import type { Endpoint } from '../lib/loadtest/options.ts';
import { RESPONSE_TIME_ALLOWANCE_SECONDS } from '../lib/loadtest/worker-capacity.ts';
import { createTestCertificates } from '../test/support/certificates.ts';
import { formatRatio, type Table } from './support/report.ts';
import { median } from './support/statistics.ts';
import { type HttpTarget, startHttpTarget, type TargetSnapshot } from './support/target-process.ts';

const RATE_CONNECTIONS = 50;
const RATE_REQUESTS = 50_000;
const RATE_WARMUP_REQUESTS = 5_000;
const RATE_ROUNDS = 5;

/** 70 % at 5 ms, 25 % at 20 ms, 5 % at 100 ms, spread over a cycle of 20 requests. */
const DELAY_CYCLE_MS = [5, 5, 20, 5, 5, 5, 20, 5, 5, 100, 5, 20, 5, 5, 5, 20, 5, 5, 20, 5];
const PACED_RATE = 200;
const PACED_SECONDS = 10;
/** What lib/loadtest/plan.ts gives a shard at this rate: the response-time allowance's worth, at least 8. */
const ACCURACY_CONNECTIONS = Math.max(8, Math.ceil(PACED_RATE * RESPONSE_TIME_ALLOWANCE_SECONDS));
/** The planner's floor: fewer connections than requests fall due during the stall, so requests must wait. */
const STALL_CONNECTIONS = 8;
/** Half-way through the run. */
const STALL_AT_REQUEST = (PACED_RATE * PACED_SECONDS) / 2;
const STALL_MS = 1_000;

const ENDPOINTS: Endpoint[] = [{ path: '/', method: 'GET', headers: {}, weight: 1 }];

/** The engine's targets: CPU per request and request rate against autocannon's, open-model p50 against the target's. */
export const TARGETS = { cpuRatio: 0.8, rateRatio: 1.0, intendedP50OverTargetSide: 1.05 } as const;
const TIMEOUT_SECONDS = 10;

/** Milliseconds. */
export interface LatencyFigures {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface RateRun {
  requests: number;
  wallMs: number;
  requestsPerSecond: number;
  latency: LatencyFigures;
  /** The bench process's CPU time (user + system, all threads) over the requests sent. */
  generatorCpuMicrosPerRequest: number;
  /** The target process's CPU time over the run's wall time, in percent of one core. */
  targetCpuPercent: number;
}

export interface RateSummary {
  requestsPerSecond: number;
  latency: LatencyFigures;
  generatorCpuMicrosPerRequest: number;
  targetCpuPercent: number;
  runs: RateRun[];
}

export interface RateComparison {
  connections: number;
  requests: number;
  anchor: RateSummary;
  loadwatch: RateSummary;
  /** loadwatch median req/s over autocannon median req/s. */
  ratio: number;
  /** loadwatch median CPU per request over autocannon's. */
  cpuRatio: number;
  /** loadwatch req/s over autocannon req/s within each round: robust to a machine whose load drifts. */
  roundRatios: number[];
}

export interface PacedRun {
  requests: number;
  latency: LatencyFigures;
}

export interface PacedComparison {
  rate: number;
  seconds: number;
  connections: number;
  stall: { atRequest: number; ms: number } | null;
  /** The anchor: a perfect generator with the same connections, timing from the intended send (simulated). */
  expected: PacedRun;
  /** The same with a connection for every request: no request ever waits in the generator. */
  unlimited: PacedRun;
  /** How the bench process fared while runShard ran: a starved generator sends late. */
  loadwatchGenerator: GeneratorHealth;
  /** The target's own view: from a request's arrival to its response, during the loadwatch run. */
  targetSide: PacedRun;
  loadwatchCorrected: PacedRun;
  loadwatchUncorrected: PacedRun;
  /** From the response events: the time from writing a request to its response. */
  autocannonRaw: PacedRun;
  /** autocannon's own result, with its correction for the overallRate mode. */
  autocannonReported: PacedRun;
}

export interface ProtocolRun {
  name: string;
  transport: 'cleartext' | 'TLS';
  http2: boolean;
  summary: RateSummary;
}

export interface LoadEngineResult {
  rate: RateComparison;
  accuracy: PacedComparison;
  stall: PacedComparison;
  /** HTTP/2 (node:http2) against the engine's own HTTP/1.1, in clear text and over TLS. */
  protocols: ProtocolRun[];
}

const PROTOCOL_REQUESTS = 20_000;
const PROTOCOL_ROUNDS = 3;

/** The engine's CPU per request over each protocol, each against a target process serving only it. */
async function measureProtocols(): Promise<ProtocolRun[]> {
  const certificates = createTestCertificates();
  const variants: Array<Omit<ProtocolRun, 'summary'>> = [
    { name: 'HTTP/1.1 (anchor)', transport: 'cleartext', http2: false },
    { name: 'HTTP/2 (h2c)', transport: 'cleartext', http2: true },
    { name: 'HTTP/1.1 over TLS (anchor)', transport: 'TLS', http2: false },
    { name: 'HTTP/2 over TLS', transport: 'TLS', http2: true },
  ];
  const runs: RateRun[][] = variants.map(() => []);
  const targets = await Promise.all(
    variants.map((variant) =>
      startHttpTarget({
        http2: variant.http2,
        ...(variant.transport === 'TLS' ? { tls: certificates.server } : {}),
      }),
    ),
  );
  try {
    const connectionOf = (variant: Omit<ProtocolRun, 'summary'>): TargetConnection | undefined =>
      variant.transport === 'TLS'
        ? { http2: variant.http2, ca: certificates.ca, insecure: false }
        : variant.http2
          ? { http2: true, insecure: false }
          : undefined;
    for (const [index, variant] of variants.entries())
      await loadwatchRateRun(targets[index] as HttpTarget, RATE_WARMUP_REQUESTS, connectionOf(variant));
    // Rounds interleave the protocols, so that a machine whose load drifts weighs on each alike.
    for (let round = 0; round < PROTOCOL_ROUNDS; round++)
      for (const [index, variant] of variants.entries())
        runs[index]?.push(
          await loadwatchRateRun(targets[index] as HttpTarget, PROTOCOL_REQUESTS, connectionOf(variant)),
        );
  } finally {
    await Promise.all(targets.map((target) => target.stop()));
  }
  return variants.map((variant, index) => ({ ...variant, summary: summarizeRuns(runs[index] ?? []) }));
}

function figures(histogram: Histogram): LatencyFigures {
  const { p50, p90, p99, max } = summarize(histogram);
  return { p50, p90, p99, max };
}

function figuresOf(samplesMs: number[]): LatencyFigures {
  const histogram = createHistogram();
  for (const sample of samplesMs) recordMs(histogram, sample);
  const result = figures(histogram);
  histogram.destroy();
  return result;
}

function decodedFigures(encoded: EncodedHistogram): LatencyFigures {
  const histogram = decodeHistogram(encoded);
  const result = figures(histogram);
  histogram.destroy();
  return result;
}

function assertNoFailures(what: string, failed: number, total: number): void {
  if (failed > 0) throw new Error(`bench: ${what}: ${failed} of ${total} requests failed`);
}

async function runEngine(
  target: string,
  load: ShardLoad,
  connection?: TargetConnection,
): Promise<{ result: ShardResult; wallMs: number }> {
  const started = performance.now();
  const result = await runShard({
    target,
    ...(connection ? { connection } : {}),
    endpoints: ENDPOINTS,
    timeoutMs: TIMEOUT_SECONDS * 1000,
    runStartedAt: Date.now(),
    deadline: Date.now() + 120_000,
    load,
  });
  const wallMs = performance.now() - started;
  assertNoFailures('loadwatch', result.failed, result.requests);
  return { result, wallMs };
}

interface AutocannonRun {
  result: autocannon.Result;
  /** Each response's time from the write of its request, as autocannon emits it. */
  latency: Histogram;
  responses: number;
  /** From the call to the last response: autocannon itself returns only at its next one-second tick. */
  wallMs: number;
  cpuMicros: number;
}

function runAutocannon(options: autocannon.Options): Promise<AutocannonRun> {
  const latency = createHistogram();
  let responses = 0;
  let lastResponseAt = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon({ pipelining: 1, timeout: TIMEOUT_SECONDS, ...options }, (error, result) => {
      const cpu = process.cpuUsage(cpuBefore);
      if (error) {
        latency.destroy();
        reject(error);
        return;
      }
      const failed = result.errors + result.timeouts + result.non2xx;
      if (failed > 0) {
        latency.destroy();
        reject(new Error(`bench: autocannon: ${failed} of ${responses} requests failed`));
        return;
      }
      resolve({
        result,
        latency,
        responses,
        wallMs: lastResponseAt - started,
        cpuMicros: cpu.user + cpu.system,
      });
    });
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
      responses += 1;
      lastResponseAt = performance.now();
      recordMs(latency, responseTimeMs);
    });
  });
}

/** The target's own count of the requests it answered, and its CPU, over a run's wall time. */
async function targetSide(
  target: HttpTarget,
  before: TargetSnapshot,
  wallMs: number,
): Promise<{ requests: number; cpuPercent: number }> {
  const after = await target.snapshot();
  return {
    requests: after.requests - before.requests,
    cpuPercent: ((after.cpuMicros - before.cpuMicros) / 1000 / wallMs) * 100,
  };
}

async function autocannonRateRun(target: HttpTarget, requests: number): Promise<RateRun> {
  const before = await target.snapshot();
  const run = await runAutocannon({ url: target.url, connections: RATE_CONNECTIONS, amount: requests });
  const counted = await targetSide(target, before, run.wallMs);
  const result: RateRun = {
    requests: counted.requests,
    wallMs: run.wallMs,
    requestsPerSecond: counted.requests / (run.wallMs / 1000),
    latency: figures(run.latency),
    generatorCpuMicrosPerRequest: run.cpuMicros / counted.requests,
    targetCpuPercent: counted.cpuPercent,
  };
  run.latency.destroy();
  return result;
}

async function loadwatchRateRun(
  target: HttpTarget,
  requests: number,
  connection?: TargetConnection,
): Promise<RateRun> {
  const before = await target.snapshot();
  const cpuBefore = process.cpuUsage();
  const { result, wallMs } = await runEngine(
    target.url,
    {
      model: 'closed',
      requestsPerUser: Array.from({ length: RATE_CONNECTIONS }, () => requests / RATE_CONNECTIONS),
      thinkTimeMs: 0,
    },
    connection,
  );
  const cpu = process.cpuUsage(cpuBefore);
  const counted = await targetSide(target, before, wallMs);
  return {
    requests: counted.requests,
    wallMs,
    requestsPerSecond: counted.requests / (wallMs / 1000),
    latency: decodedFigures(result.latency),
    generatorCpuMicrosPerRequest: (cpu.user + cpu.system) / counted.requests,
    targetCpuPercent: counted.cpuPercent,
  };
}

function summarizeRuns(runs: RateRun[]): RateSummary {
  const of = (pick: (run: RateRun) => number) => median(runs.map(pick));
  return {
    requestsPerSecond: of((run) => run.requestsPerSecond),
    latency: {
      p50: of((run) => run.latency.p50),
      p90: of((run) => run.latency.p90),
      p99: of((run) => run.latency.p99),
      max: of((run) => run.latency.max),
    },
    generatorCpuMicrosPerRequest: of((run) => run.generatorCpuMicrosPerRequest),
    targetCpuPercent: of((run) => run.targetCpuPercent),
    runs,
  };
}

async function measureRate(): Promise<RateComparison> {
  const target = await startHttpTarget();
  try {
    // Unrecorded, so that the target, undici and autocannon are all optimised before any run counts.
    await autocannonRateRun(target, RATE_WARMUP_REQUESTS);
    await loadwatchRateRun(target, RATE_WARMUP_REQUESTS);
    const anchorRuns: RateRun[] = [];
    const loadwatchRuns: RateRun[] = [];
    for (let round = 0; round < RATE_ROUNDS; round += 1) {
      // Alternated, so that neither always runs on a target just warmed (or tired) by the other.
      if (round % 2 === 0) anchorRuns.push(await autocannonRateRun(target, RATE_REQUESTS));
      loadwatchRuns.push(await loadwatchRateRun(target, RATE_REQUESTS));
      if (round % 2 === 1) anchorRuns.push(await autocannonRateRun(target, RATE_REQUESTS));
    }
    const anchor = summarizeRuns(anchorRuns);
    const loadwatch = summarizeRuns(loadwatchRuns);
    return {
      connections: RATE_CONNECTIONS,
      requests: RATE_REQUESTS,
      anchor,
      loadwatch,
      ratio: loadwatch.requestsPerSecond / anchor.requestsPerSecond,
      cpuRatio: loadwatch.generatorCpuMicrosPerRequest / anchor.generatorCpuMicrosPerRequest,
      roundRatios: loadwatchRuns.map(
        (run, round) => run.requestsPerSecond / (anchorRuns[round]?.requestsPerSecond ?? Number.NaN),
      ),
    };
  } finally {
    await target.stop();
  }
}

/**
 * What a perfect generator would measure from each request's intended send time: request i falls due at i / rate,
 * leaves as soon as one of `connections` is free (first come, first served), and is answered after the i-th
 * delay of the cycle; a request that arrives during the freeze, or whose answer falls due in it, waits for its end.
 */
function simulatePerfectGenerator(
  rate: number,
  seconds: number,
  connections: number,
  stall: { atRequest: number; ms: number } | null,
): number[] {
  const count = rate * seconds;
  const run = (stallStart: number) => {
    const stallEnd = stallStart + (stall?.ms ?? 0);
    const freeAt = new Array<number>(Math.min(connections, count)).fill(0);
    const sentAt: number[] = [];
    const latencies: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const intended = (index / rate) * 1000;
      let connection = 0;
      for (let other = 1; other < freeAt.length; other += 1) {
        if ((freeAt[other] ?? 0) < (freeAt[connection] ?? 0)) connection = other;
      }
      const sent = Math.max(intended, freeAt[connection] ?? 0);
      const delay = DELAY_CYCLE_MS[index % DELAY_CYCLE_MS.length] ?? 0;
      let answered = sent + delay;
      if (sent >= stallStart && sent < stallEnd) answered = stallEnd + delay;
      else if (sent < stallStart && answered > stallStart) answered = Math.max(answered, stallEnd);
      freeAt[connection] = answered;
      sentAt.push(sent);
      latencies.push(answered - intended);
    }
    return { sentAt, latencies };
  };
  const unstalled = run(Number.POSITIVE_INFINITY);
  // The freeze starts when its request arrives, and nothing before that request depends on the freeze.
  return stall ? run(unstalled.sentAt[stall.atRequest - 1] ?? 0).latencies : unstalled.latencies;
}

async function measurePaced(
  connections: number,
  stall: { atRequest: number; ms: number } | null,
): Promise<PacedComparison> {
  const target = await startHttpTarget({
    delaysMs: DELAY_CYCLE_MS,
    ...(stall ? { stallAtRequest: stall.atRequest, stallMs: stall.ms } : {}),
  });
  try {
    const { result } = await runEngine(target.url, {
      model: 'open',
      stages: [{ durationSeconds: PACED_SECONDS, from: PACED_RATE, to: PACED_RATE }],
      shardIndex: 0,
      shardCount: 1,
      fromSeconds: 0,
      toSeconds: PACED_SECONDS,
      maxConnections: connections,
    });
    const targetSide = (await target.snapshot()).handlingMs;
    await target.reset();
    const anchorRun = await runAutocannon({
      url: target.url,
      connections,
      overallRate: PACED_RATE,
      duration: PACED_SECONDS,
    });
    const reported = anchorRun.result.latency;
    const perfect = simulatePerfectGenerator(PACED_RATE, PACED_SECONDS, connections, stall);
    const unlimited = simulatePerfectGenerator(PACED_RATE, PACED_SECONDS, PACED_RATE * PACED_SECONDS, stall);
    const comparison: PacedComparison = {
      rate: PACED_RATE,
      seconds: PACED_SECONDS,
      connections,
      stall,
      expected: { requests: perfect.length, latency: figuresOf(perfect) },
      unlimited: { requests: unlimited.length, latency: figuresOf(unlimited) },
      loadwatchGenerator: result.generator,
      targetSide: { requests: targetSide.length, latency: figuresOf(targetSide) },
      loadwatchCorrected: { requests: result.requests, latency: decodedFigures(result.latency) },
      loadwatchUncorrected: { requests: result.requests, latency: decodedFigures(result.latencyUncorrected) },
      autocannonRaw: { requests: anchorRun.responses, latency: figures(anchorRun.latency) },
      autocannonReported: {
        requests: reported.totalCount,
        latency: { p50: reported.p50, p90: reported.p90, p99: reported.p99, max: reported.max },
      },
    };
    anchorRun.latency.destroy();
    return comparison;
  } finally {
    await target.stop();
  }
}

export async function measureLoadEngine(
  progress: (message: string) => void = () => undefined,
): Promise<LoadEngineResult> {
  progress(
    `load engine: request rate, ${RATE_ROUNDS} × ${RATE_REQUESTS.toLocaleString('en-US')} requests for each generator (about 15 s)`,
  );
  const rate = await measureRate();
  progress(
    `load engine: latency accuracy, ${PACED_RATE} req/s for ${PACED_SECONDS} s per generator (about 22 s)`,
  );
  const accuracy = await measurePaced(ACCURACY_CONNECTIONS, null);
  progress(
    `load engine: a ${STALL_MS} ms stall, ${PACED_RATE} req/s for ${PACED_SECONDS} s per generator (about 22 s)`,
  );
  const stall = await measurePaced(STALL_CONNECTIONS, { atRequest: STALL_AT_REQUEST, ms: STALL_MS });
  progress(
    `load engine: HTTP/2 against HTTP/1.1, ${PROTOCOL_ROUNDS} × ${PROTOCOL_REQUESTS.toLocaleString('en-US')} requests each, clear and over TLS (about 30 s)`,
  );
  const protocols = await measureProtocols();
  return { rate, accuracy, stall, protocols };
}

const milliseconds = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const microseconds = (value: number) => `${value.toFixed(1)} µs`;
const requestRate = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

export function loadEngineRateTable(result: RateComparison): Table {
  const row = (name: string, summary: RateSummary) => [
    name,
    requestRate(summary.requestsPerSecond),
    milliseconds(summary.latency.p50),
    milliseconds(summary.latency.p99),
    microseconds(summary.generatorCpuMicrosPerRequest),
    `${summary.targetCpuPercent.toFixed(0)} %`,
  ];
  const each = (summary: RateSummary) =>
    summary.runs.map((run) => requestRate(run.requestsPerSecond)).join(', ');
  return {
    title:
      `Load engine request rate (${result.connections} connections, ` +
      `${result.requests.toLocaleString('en-US')} requests a run; median of ${result.anchor.runs.length} runs)`,
    columns: ['generator', 'requests', 'p50', 'p99', 'CPU per request', 'target CPU'],
    rows: [
      row('anchor: autocannon (amount)', result.anchor),
      row('loadwatch: runShard, closed model', result.loadwatch),
      ['ratio loadwatch / anchor', formatRatio(result.ratio), '', '', formatRatio(result.cpuRatio), ''],
      [
        'target',
        `≥ ${formatRatio(TARGETS.rateRatio)} ${result.ratio >= TARGETS.rateRatio ? 'met' : 'MISSED'}`,
        '',
        '',
        `≤ ${formatRatio(TARGETS.cpuRatio)} ${result.cpuRatio <= TARGETS.cpuRatio ? 'met' : 'MISSED'}`,
        '',
      ],
    ],
    notes: [
      `target: node:http on 127.0.0.1 in its own process, a ${'{"status":"ok",…}'} body, keep-alive, no delay`,
      `both send the same fixed amount over the same ${result.connections} keep-alive connections, pipelining 1,`,
      `  ${result.connections} users × ${result.requests / result.connections} requests for runShard; ` +
        'a fixed amount (not a fixed time) so both do identical work',
      'req/s: requests counted by the target over wall time, from the call to the last response (autocannon) or to runShard returning',
      '  (loadwatch, so including its pool set-up and close); runs alternate which goes first, after a warm-up',
      'CPU per request: the bench process (the generator) only, user + system over all its threads;',
      '  target CPU: the target process over the wall time; near 100 % would mean the target set the pace',
      `runs in order (req/s): autocannon ${each(result.anchor)}; loadwatch ${each(result.loadwatch)}`,
      `  ratio within each round: ${result.roundRatios.map(formatRatio).join(', ')}`,
    ],
  };
}

function pacedRows(result: PacedComparison, anchorName: string): string[][] {
  const plain = (name: string, run: PacedRun) => [
    name,
    run.requests.toLocaleString('en-US'),
    milliseconds(run.latency.p50),
    milliseconds(run.latency.p90),
    milliseconds(run.latency.p99),
    milliseconds(run.latency.max),
  ];
  const anchor = result.expected.latency;
  const cell = (measured: number, expected: number) =>
    `${milliseconds(measured)} (${formatRatio(measured / expected)})`;
  const row = (name: string, run: PacedRun) => [
    name,
    run.requests.toLocaleString('en-US'),
    cell(run.latency.p50, anchor.p50),
    cell(run.latency.p90, anchor.p90),
    cell(run.latency.p99, anchor.p99),
    cell(run.latency.max, anchor.max),
  ];
  return [
    plain(anchorName, result.expected),
    ...(result.stall ? [plain('perfect generator, unlimited connections', result.unlimited)] : []),
    row('loadwatch, from intended send time', result.loadwatchCorrected),
    row('loadwatch, from actual send time', result.loadwatchUncorrected),
    row('autocannon as it reports (overallRate)', result.autocannonReported),
    row('autocannon, from request write', result.autocannonRaw),
    row('target side: arrival to response', result.targetSide),
  ];
}

/** runShard's own health figures (event-loop lag net of its 10 ms sampling interval). */
function generatorNote(health: GeneratorHealth): string {
  return (
    `runShard's health report: event-loop lag p99 ${health.eventLoopLagP99Ms} ms, ` +
    `max ${health.eventLoopLagMaxMs} ms, send lag p99 ${health.sendLagP99Ms} ms, CPU ${health.cpuPercent} % of a core` +
    (health.saturated ? ', saturated: it sent late, and its figures say so' : '')
  );
}

const AUTOCANNON_NOTES = [
  'autocannon 9, overallRate: each connection may send rate/connections requests per wall-clock second (a counter',
  '  reset by a 1 s setInterval), back to back, so requests leave in bursts at the start of each second, and quota',
  '  a stalled connection could not use is dropped, never sent late. It times a request from the write of its',
  '  bytes, never from an intended send time. Its correction, recordValueWithExpectedInterval(latency,',
  '  ceil(1 / rate)), is given the per-connection rate in req/s and the latency in ms, so the interval is always',
  '  1 ms: a response of L ms is counted at L, L-1, … 1 ms (hence its sample counts), and long responses',
  '  outweigh short ones. Its histogram keeps whole milliseconds (5.7 ms is recorded as 5).',
];

/** The open model's p50 from the intended send time over the target's own p50: the generator's added lateness. */
export function intendedOverTargetSide(result: PacedComparison): number {
  return result.loadwatchCorrected.latency.p50 / result.targetSide.latency.p50;
}

export function loadEngineAccuracyTable(result: PacedComparison): Table {
  const ratio = intendedOverTargetSide(result);
  return {
    title:
      `Load engine latency accuracy (open model, ${result.rate} req/s for ${result.seconds} s, ` +
      `${result.connections} connections; measured (measured / anchor))`,
    columns: ['measured by', 'samples', 'p50', 'p90', 'p99', 'max'],
    rows: pacedRows(result, 'anchor: the injected delays'),
    notes: [
      `target: node:http in its own process; the n-th request is answered after the n-th delay of [${DELAY_CYCLE_MS.join(', ')}] ms`,
      '  (70 % 5 ms, 25 % 20 ms, 5 % 100 ms) by setTimeout, which fires up to about 1 ms late (see target side);',
      '  the generators add the loopback round trip and their own lateness on top',
      `loadwatch p50 from the intended send time / target side p50: ${formatRatio(ratio)} ` +
        `(target ≤ ${formatRatio(TARGETS.intendedP50OverTargetSide)}: ${ratio <= TARGETS.intendedP50OverTargetSide ? 'met' : 'MISSED'}); ` +
        'the CPU below includes the polling that sends on time',
      `loadwatch: runShard, open model, ${result.connections} connections as lib/loadtest/plan.ts gives this rate`,
      `  (enough that no request waits for one); ${generatorNote(result.loadwatchGenerator)}`,
      `autocannon: overallRate ${result.rate}, the same ${result.connections} connections, duration ${result.seconds} s`,
      ...AUTOCANNON_NOTES,
    ],
  };
}

export function loadEngineStallTable(result: PacedComparison): Table {
  const stall = result.stall ?? { atRequest: 0, ms: 0 };
  return {
    title:
      `Load engine coordinated omission (${result.rate} req/s for ${result.seconds} s, ` +
      `${result.connections} connections, the target freezes ${stall.ms} ms once; measured (measured / anchor))`,
    columns: ['measured by', 'samples', 'p50', 'p90', 'p99', 'max'],
    rows: pacedRows(result, `anchor: perfect generator, ${result.connections} connections`),
    notes: [
      `target: as above, but its whole process busy-waits ${stall.ms} ms on request ${stall.atRequest} ` +
        `(${((stall.atRequest - 1) / result.rate).toFixed(1)} s in)`,
      'anchor: simulated; request i due at i / rate, sent when one of the connections is free, answered after',
      '  its delay or at the end of the freeze, timed from when it was due: what a generator without any',
      '  overhead of its own would report. With unlimited connections no request would wait in the generator;',
      `  with ${result.connections} (the planner's floor) the ${(result.rate * stall.ms) / 1000} requests due ` +
        'during the freeze queue, and then the backlog drains',
      '  timed from the actual send, the queued requests look fast: that is the omission the correction undoes',
      `loadwatch: runShard, open model; ${generatorNote(result.loadwatchGenerator)}`,
      `autocannon: overallRate ${result.rate}, the same ${result.connections} connections (see above)`,
      'target side: what the server itself would log; a request read after the freeze never saw it',
    ],
  };
}

export function loadEngineProtocolTable(runs: ProtocolRun[]): Table {
  const anchorOf = (run: ProtocolRun) =>
    runs.find((other) => other.transport === run.transport && !other.http2) ?? run;
  return {
    title: `Load engine over HTTP/2 and HTTP/1.1 (${RATE_CONNECTIONS} users, ${PROTOCOL_REQUESTS.toLocaleString('en-US')} requests a run; median of ${PROTOCOL_ROUNDS} runs)`,
    columns: ['protocol', 'requests', 'p50', 'p99', 'CPU per request', 'CPU / anchor', 'target CPU'],
    rows: runs.map((run) => [
      run.name,
      requestRate(run.summary.requestsPerSecond),
      milliseconds(run.summary.latency.p50),
      milliseconds(run.summary.latency.p99),
      microseconds(run.summary.generatorCpuMicrosPerRequest),
      run.http2
        ? formatRatio(
            run.summary.generatorCpuMicrosPerRequest / anchorOf(run).summary.generatorCpuMicrosPerRequest,
          )
        : '',
      `${run.summary.targetCpuPercent.toFixed(0)} %`,
    ]),
    notes: [
      'runShard, closed model, against a target process per protocol (node:http, node:https, node:http2 with the same body);',
      "  HTTP/1.1 is the engine's own client over one connection per user; HTTP/2 is node:http2, one session per 100 users,",
      "  its users' requests multiplexed as streams, up to 100 a connection; TLS: a P-256 certificate of a private CA",
      'anchor: HTTP/1.1 over the same transport, measured in the same run, rounds interleaved',
      'CPU per request: the bench process only, user + system over all its threads',
    ],
  };
}

export function loadEngineTables(result: LoadEngineResult): Table[] {
  return [
    loadEngineRateTable(result.rate),
    loadEngineAccuracyTable(result.accuracy),
    loadEngineStallTable(result.stall),
    loadEngineProtocolTable(result.protocols),
  ];
}
