// The load engine's cost on one core: CPU per request and per second of running, of runShard against a local target
// in its own process; lib/loadtest/worker-capacity.ts sizes a Lambda worker from these figures.

import { execFileSync } from 'node:child_process';
import { runShard, type ShardLoad } from '../lib/loadtest/engine.ts';
import type { Endpoint } from '../lib/loadtest/options.ts';
import {
  DEFAULT_WORKER_MEMORY_MB,
  ENGINE_COST,
  ENGINE_COST_MEASURED_ON,
  type EngineCost,
  workerLoadFor,
} from '../lib/loadtest/worker-capacity.ts';
import { formatRatio, type Table } from './support/report.ts';
import { median } from './support/statistics.ts';
import { startHttpTarget } from './support/target-process.ts';

const ROUNDS = 5;
const CLOSED_USERS = 50;
const CLOSED_REQUESTS = 40_000;
/**
 * Two open-model rates, well under what one core sustains (a cost per request, not a backlog): the CPU share
 * between them is the cost per request, and what is left at the lower one is the engine's cost per second of
 * running (its timers and event-loop sampling), which a worker pays whatever its rate.
 */
const OPEN_LOW_RATE = 1_000;
const OPEN_HIGH_RATE = 5_000;
const OPEN_SECONDS = 4;
const ENDPOINTS: Endpoint[] = [{ path: '/', method: 'GET', headers: {}, weight: 1 }];

export interface CapacityRun {
  requests: number;
  cpuMicrosPerRequest: number;
  /** CPU time over wall time, percent of one core: near 100 means the core, not the target, set the pace. */
  cpuPercent: number;
  requestsPerSecond: number;
}

export interface CapacityMode {
  runs: CapacityRun[];
  cpuMicrosPerRequest: number;
  requestsPerSecond: number;
  cpuPercent: number;
}

export interface WorkerCapacityResult {
  /** The core the engine was held to, or null where taskset is missing. */
  pinnedCpu: number | null;
  closed: CapacityMode;
  openLow: CapacityMode;
  openHigh: CapacityMode;
  /** Fitted from the two open-model rates: what lib/loadtest/worker-capacity.ts records. */
  measured: EngineCost;
  recorded: EngineCost & { measuredOn: string };
}

/** Holds every thread of this process to one core: a fixed CPU share, whatever else the machine runs. */
function pinToOneCore(): { cpu: number | null; restore: () => void } {
  try {
    const before = execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' });
    const mask = before.trim().split(/\s+/).pop() ?? 'ffffffff';
    const cpu = 0;
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return {
      cpu,
      restore: () => execFileSync('taskset', ['-a', '-p', mask, String(process.pid)], { stdio: 'ignore' }),
    };
  } catch {
    return { cpu: null, restore: () => undefined };
  }
}

async function measureRun(target: string, load: ShardLoad): Promise<CapacityRun> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await runShard({
    target,
    endpoints: ENDPOINTS,
    timeoutMs: 10_000,
    runStartedAt: Date.now(),
    deadline: Date.now() + 120_000,
    load,
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (result.failed > 0) throw new Error(`bench: worker capacity: ${result.failed} requests failed`);
  const cpuMicros = cpu.user + cpu.system;
  return {
    requests: result.requests,
    cpuMicrosPerRequest: cpuMicros / result.requests,
    cpuPercent: (cpuMicros / 1000 / wallMs) * 100,
    requestsPerSecond: result.requests / (wallMs / 1000),
  };
}

function summarize(runs: CapacityRun[]): CapacityMode {
  return {
    runs,
    cpuMicrosPerRequest: median(runs.map((run) => run.cpuMicrosPerRequest)),
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    cpuPercent: median(runs.map((run) => run.cpuPercent)),
  };
}

/** The line through the two open-model points: CPU share = fixed share + rate × cost per request. */
function fitEngineCost(low: CapacityMode, high: CapacityMode): EngineCost {
  const share = (mode: CapacityMode) => mode.cpuPercent / 100;
  const cpuMicrosPerRequest =
    ((share(high) - share(low)) / (high.requestsPerSecond - low.requestsPerSecond)) * 1_000_000;
  const fixedCpuShare = share(low) - (low.requestsPerSecond * cpuMicrosPerRequest) / 1_000_000;
  return { cpuMicrosPerRequest, fixedCpuShare: Math.max(0, fixedCpuShare) };
}

function openLoad(rate: number): ShardLoad {
  return {
    model: 'open',
    stages: [{ durationSeconds: OPEN_SECONDS, from: rate, to: rate }],
    shardIndex: 0,
    shardCount: 1,
    fromSeconds: 0,
    toSeconds: OPEN_SECONDS,
    maxConnections: 64,
  };
}

export async function measureWorkerCapacity(
  progress: (message: string) => void = () => undefined,
): Promise<WorkerCapacityResult> {
  // The target starts before the pinning, so that it keeps the other core to itself.
  const target = await startHttpTarget();
  const pin = pinToOneCore();
  try {
    progress(
      `worker capacity: ${ROUNDS} × closed (${CLOSED_REQUESTS.toLocaleString('en-US')} requests) and open ` +
        `(${OPEN_LOW_RATE} and ${OPEN_HIGH_RATE} req/s for ${OPEN_SECONDS} s) runs of runShard on one core (about 60 s)`,
    );
    const closedLoad: ShardLoad = {
      model: 'closed',
      requestsPerUser: Array.from({ length: CLOSED_USERS }, () => CLOSED_REQUESTS / CLOSED_USERS),
      thinkTimeMs: 0,
    };
    // Unrecorded: the target, undici and the engine are optimised before any run counts.
    await measureRun(target.url, {
      ...closedLoad,
      requestsPerUser: closedLoad.requestsPerUser.map(() => 100),
    });
    const closed: CapacityRun[] = [];
    const openLow: CapacityRun[] = [];
    const openHigh: CapacityRun[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      closed.push(await measureRun(target.url, closedLoad));
      openLow.push(await measureRun(target.url, openLoad(OPEN_LOW_RATE)));
      openHigh.push(await measureRun(target.url, openLoad(OPEN_HIGH_RATE)));
    }
    const low = summarize(openLow);
    const high = summarize(openHigh);
    return {
      pinnedCpu: pin.cpu,
      closed: summarize(closed),
      openLow: low,
      openHigh: high,
      measured: fitEngineCost(low, high),
      recorded: { ...ENGINE_COST, measuredOn: ENGINE_COST_MEASURED_ON },
    };
  } finally {
    pin.restore();
    await target.stop();
  }
}

const whole = (value: number) => Math.round(value).toLocaleString('en-US');

export function workerCapacityTable(result: WorkerCapacityResult): Table {
  const row = (name: string, mode: CapacityMode) => [
    name,
    `${mode.cpuMicrosPerRequest.toFixed(1)} µs`,
    `${whole(mode.requestsPerSecond)}/s`,
    `${mode.cpuPercent.toFixed(1)} %`,
  ];
  const cost = (name: string, engine: EngineCost) => [
    name,
    `${engine.cpuMicrosPerRequest.toFixed(1)} µs`,
    '',
    `${(engine.fixedCpuShare * 100).toFixed(1)} %`,
  ];
  const measuredLoad = workerLoadFor(DEFAULT_WORKER_MEMORY_MB, result.measured);
  const plannedLoad = workerLoadFor(DEFAULT_WORKER_MEMORY_MB);
  return {
    title:
      `Worker capacity: runShard on ${result.pinnedCpu === null ? 'an unpinned process' : 'one pinned core'} ` +
      `(median of ${result.closed.runs.length} runs each)`,
    columns: ['load', 'CPU per request', 'wall req/s', 'CPU of the core'],
    rows: [
      row(`closed: ${CLOSED_USERS} users back to back`, result.closed),
      row(`open: ${OPEN_LOW_RATE} req/s for ${OPEN_SECONDS} s`, result.openLow),
      row(`open: ${OPEN_HIGH_RATE} req/s for ${OPEN_SECONDS} s`, result.openHigh),
      cost('fitted now: per request, and fixed while running', result.measured),
      cost(`anchor: the planner's figures (${result.recorded.measuredOn})`, result.recorded),
      [
        'ratio fitted / anchor',
        formatRatio(result.measured.cpuMicrosPerRequest / result.recorded.cpuMicrosPerRequest),
        '',
        formatRatio(result.measured.fixedCpuShare / result.recorded.fixedCpuShare),
      ],
    ],
    notes: [
      'target: node:http on 127.0.0.1 in its own process (bench/support/target-process.ts), keep-alive, no delay;',
      `  the engine runs in the bench process, every thread held to CPU ${result.pinnedCpu ?? '(not pinned: taskset missing)'} by taskset`,
      'CPU: user + system of the bench process over wall time, which does not depend on how busy the machine is;',
      '  one Lambda vCPU is one such CPU-second per second',
      `fitted: the line through the two open-model medians (CPU share = fixed + rate × per request)`,
      `a ${DEFAULT_WORKER_MEMORY_MB} MB worker from the figures fitted now: ${whole(measuredLoad.ratePerWorker)} req/s ` +
        `(${measuredLoad.rateBoundBy}), ${whole(measuredLoad.usersPerWorker)} users; from the planner's: ` +
        `${whole(plannedLoad.ratePerWorker)} req/s (${plannedLoad.rateBoundBy}), ${whole(plannedLoad.usersPerWorker)} users`,
      `runs in order (µs per request): closed ${perRequest(result.closed)}; open ${OPEN_LOW_RATE} ${perRequest(result.openLow)}; ` +
        `open ${OPEN_HIGH_RATE} ${perRequest(result.openHigh)}`,
    ],
  };
}

const perRequest = (mode: CapacityMode) =>
  mode.runs.map((run) => run.cpuMicrosPerRequest.toFixed(1)).join(', ');
