// How much load one Lambda worker is given: the engine's measured CPU cost per request at the worker's vCPU
// share, and a connection budget well under Lambda's 1,024 file descriptors.

/** What the engine (runShard) spends on one core: CPU per request, and a share of the core while it runs at all. */
export interface EngineCost {
  cpuMicrosPerRequest: number;
  /** Timers and event-loop sampling, paid whatever the rate. */
  fixedCpuShare: number;
}

/**
 * Measured by `npm run bench -- --only worker-capacity` (bench/worker-capacity.ts): the open model at 1,000 and
 * 5,000 req/s of plain HTTP to a 127.0.0.1 target in its own process, the engine held to one core, medians of 5
 * runs each, the line through them. Re-measure when the engine changes.
 */
export const ENGINE_COST: EngineCost = { cpuMicrosPerRequest: 14.1, fixedCpuShare: 0.063 };
export const ENGINE_COST_MEASURED_ON = '2026-12-01, 2 × AMD EPYC x86-64, Node 22.23';

/** Lambda gives one vCPU per 1,769 MB of memory, up to 6 vCPUs at 10,240 MB. */
export const MEMORY_MB_PER_VCPU = 1769;
export const MAX_LAMBDA_VCPUS = 6;
/** The engine is one event loop: a share past one vCPU speeds up only the garbage collector and TLS threads. */
const ENGINE_MAX_VCPUS = 1;
/**
 * The share of the measured capacity a worker is planned at. The rest covers what the bench does not pay for:
 * TLS to a real target, larger responses, a Graviton core against this machine's, the timers of the open model
 * under load; a generator near its limit sends late and measures itself rather than the target.
 */
export const CPU_HEADROOM = 0.5;

/** Lambda's limit per execution environment. */
export const LAMBDA_FILE_DESCRIPTORS = 1024;
/** Half the descriptors, leaving the rest to the runtime, the database connection, DNS and sockets being replaced. */
export const MAX_CONNECTIONS_PER_WORKER = 512;
/**
 * The target response time a worker's connections cover at its planned rate (Little's law: connections = rate ×
 * response time). A slower target makes requests wait for a connection, which the latency measured from the
 * intended send time shows.
 */
export const RESPONSE_TIME_ALLOWANCE_SECONDS = 0.2;
/** Response time assumed for the closed model: a user sends its next request when the last one is answered. */
export const ASSUMED_LATENCY_MS = 50;

export const DEFAULT_WORKER_MEMORY_MB = 1024;

export interface WorkerLoad {
  /** Open model: requests per second one worker sends at the peak rate. */
  ratePerWorker: number;
  /** Closed model: virtual users (one connection each) on one worker. */
  usersPerWorker: number;
  /** Which bound set the rate. */
  rateBoundBy: 'CPU' | 'connections';
}

/** The vCPUs Lambda gives a function of this memory. */
export function vcpusAt(memoryMb: number): number {
  return Math.min(MAX_LAMBDA_VCPUS, memoryMb / MEMORY_MB_PER_VCPU);
}

/** The lowest rate worth a worker: below it the engine's fixed cost leaves the worker nothing to send with. */
export const MIN_RATE_PER_WORKER = 100;

/**
 * The load a worker of `memoryMb` is planned at. The CPU bound: the usable vCPU share × the headroom, less the
 * engine's fixed share, over its cost per request. The connection bound: 512 connections over a 0.2 s response
 * time, 2,560 req/s. The rate is the lower of the two. A closed-model user answered in ~50 ms sends ~20 req/s, so
 * the users are the CPU-bound rate's worth of them, and never more than the connections. At the default 1,024 MB
 * (0.58 vCPU) the CPU would allow about 16,000 req/s, so the connections bind: 2,560 req/s and 512 users a worker,
 * 391 workers for 1,000,000 req/s.
 */
export function workerLoadFor(memoryMb: number, engine: EngineCost = ENGINE_COST): WorkerLoad {
  const budget = Math.min(ENGINE_MAX_VCPUS, vcpusAt(memoryMb)) * CPU_HEADROOM - engine.fixedCpuShare;
  const cpuRate = Math.max(0, (budget * 1_000_000) / engine.cpuMicrosPerRequest);
  const connectionRate = MAX_CONNECTIONS_PER_WORKER / RESPONSE_TIME_ALLOWANCE_SECONDS;
  const ratePerWorker = Math.max(1, Math.floor(Math.min(cpuRate, connectionRate)));
  const usersPerWorker = Math.max(
    1,
    Math.min(MAX_CONNECTIONS_PER_WORKER, Math.floor((cpuRate * ASSUMED_LATENCY_MS) / 1000)),
  );
  return { ratePerWorker, usersPerWorker, rateBoundBy: cpuRate <= connectionRate ? 'CPU' : 'connections' };
}

/** The smallest worker memory (whole MB) whose CPU bound reaches MIN_RATE_PER_WORKER. */
export function minimumWorkerMemoryMb(engine: EngineCost = ENGINE_COST): number {
  const share =
    (engine.fixedCpuShare + (MIN_RATE_PER_WORKER * engine.cpuMicrosPerRequest) / 1_000_000) / CPU_HEADROOM;
  return Math.ceil(share * MEMORY_MB_PER_VCPU);
}
