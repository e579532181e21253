// What a deployment allows a load test: the target allowlist, the caps, and the worker sizing it plans with.

import type { LambdaArchitecture } from './pricing.ts';
import { DEFAULT_WORKER_MEMORY_MB, workerLoadFor } from './worker-capacity.ts';

export interface LoadTestLimits {
  /** Hosts (host or host:port) a test may target: LOADTEST_ALLOWED_HOSTS and the service's own API. */
  allowedHosts: string[];
  /** Loopback targets without listing them: testing an app on localhost is the local stack's main use. */
  allowLoopback: boolean;
  /** Loopback ports never targeted, listed or not: the stack's own PostgreSQL. */
  refusedLoopbackPorts: number[];
  /** Runs in progress at once (LOADTEST_MAX_CONCURRENT_RUNS); one more is refused with 429. */
  maxConcurrentRuns: number;
  maxUsers: number;
  maxRate: number;
  maxDurationSeconds: number;
  maxWorkers: number;
  maxRequests: number;
  maxGbSeconds: number;
  /** Longest a worker runs one shard before handing the rest to the next round. */
  shardSeconds: number;
  workerMemoryMb: number;
  /** Per worker, when `workers` is not given: requests per second (open model) and users (closed model). */
  ratePerWorker: number;
  usersPerWorker: number;
  /** Runs whose estimated AWS cost is higher are refused. */
  maxUsd: number;
  /** The worker function's architecture, which sets its price per GB-second. */
  workerArchitecture: LambdaArchitecture;
  /** Lambda concurrency a run must leave unused in the account, for the API under test and everything else. */
  concurrencyReserve: number;
  /** The worker Lambda's timeout (LOADTEST_WORKER_TIMEOUT): a shard, start to saved result, must fit in it. */
  workerTimeoutSeconds: number;
  /** Where shards run: on Lambda behind Step Functions, or in this process (how long they take to start). */
  workersRunOn: 'lambda' | 'local';
}

export const DEFAULT_LIMITS: LoadTestLimits = {
  allowedHosts: [],
  allowLoopback: true,
  refusedLoopbackPorts: [],
  maxConcurrentRuns: 2,
  maxUsers: 10_000,
  // Internet scale by default: the GB-second and dollar caps are what guard the bill.
  maxRate: 1_000_000,
  maxDurationSeconds: 3600,
  maxWorkers: 10_000,
  maxRequests: 10_000_000,
  maxGbSeconds: 50_000,
  shardSeconds: 600,
  workerMemoryMb: DEFAULT_WORKER_MEMORY_MB,
  ratePerWorker: workerLoadFor(DEFAULT_WORKER_MEMORY_MB).ratePerWorker,
  usersPerWorker: workerLoadFor(DEFAULT_WORKER_MEMORY_MB).usersPerWorker,
  maxUsd: 25,
  workerArchitecture: 'arm64',
  concurrencyReserve: 100,
  workerTimeoutSeconds: 900,
  workersRunOn: 'local',
};
