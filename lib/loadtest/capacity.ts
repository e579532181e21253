// The preflight on Lambda concurrency: will a run's workers fit in the account without starving everything else?

import { LoadTestInputError } from './input-error.ts';
import type { LoadTestPlan } from './plan.ts';

/** What the account and the worker function allow, as Lambda reports it. */
export interface LambdaConcurrency {
  /** AccountLimit.ConcurrentExecutions: the whole account, in this region. */
  accountLimit: number;
  /** AccountLimit.UnreservedConcurrentExecutions: what functions without reserved concurrency share. */
  unreserved: number;
  /** The worker function's reserved concurrency; null when it has none and draws on the unreserved pool. */
  workerReserved: number | null;
}

export type CapacityReport =
  | { checked: false; note: string }
  | ({ checked: true; concurrentWorkers: number; reserve: number; note: string } & LambdaConcurrency);

/** The port: the API and the loadtest function ask it before recording a run. */
export interface CapacityCheck {
  /** Resolves with what was checked, or rejects with LoadTestInputError naming the numbers. */
  check(plan: LoadTestPlan): Promise<CapacityReport>;
}

/** The most workers of one run that are invoked at once. */
export function concurrentWorkers(plan: LoadTestPlan): number {
  return Math.min(plan.shards, plan.maxConcurrency);
}

/**
 * Decides whether `workers` concurrent invocations fit. A worker function with reserved concurrency runs within it
 * and takes nothing from the rest of the account; one without draws on the unreserved pool, which must keep
 * `reserve` executions free for the API under test and every other function.
 */
export function decideCapacity(
  workers: number,
  concurrency: LambdaConcurrency,
  reserve: number,
): { fits: true; note: string } | { fits: false; problem: string } {
  const { accountLimit, unreserved, workerReserved } = concurrency;
  if (workerReserved !== null) {
    if (workers > workerReserved) {
      return {
        fits: false,
        problem:
          `workers: ${workers} concurrent workers are over the worker function's reserved concurrency of ${workerReserved} ` +
          `(account limit ${accountLimit}); give fewer workers or raise its reserved concurrency`,
      };
    }
    return {
      fits: true,
      note: `${workers} concurrent workers within the worker function's reserved concurrency of ${workerReserved}`,
    };
  }
  const left = unreserved - workers;
  if (left < reserve) {
    return {
      fits: false,
      problem:
        `workers: ${workers} concurrent workers would leave ${Math.max(0, left)} of the account's ${unreserved} unreserved ` +
        `Lambda concurrency (account limit ${accountLimit}), under the ${reserve} kept for the API under test and the ` +
        `other functions (LOADTEST_CONCURRENCY_RESERVE); give fewer workers, reserve concurrency for the worker ` +
        `function, or ask AWS for a higher limit`,
    };
  }
  return {
    fits: true,
    note: `${workers} concurrent workers leave ${left} of ${unreserved} unreserved Lambda concurrency (account limit ${accountLimit})`,
  };
}

/** The check on AWS: reads the concurrency once per run and decides. */
export function createCapacityCheck(options: {
  read: () => Promise<LambdaConcurrency>;
  reserve: number;
}): CapacityCheck {
  return {
    async check(plan) {
      const concurrency = await options.read();
      const workers = concurrentWorkers(plan);
      const decision = decideCapacity(workers, concurrency, options.reserve);
      if (!decision.fits) throw new LoadTestInputError([decision.problem]);
      return {
        checked: true,
        concurrentWorkers: workers,
        reserve: options.reserve,
        note: decision.note,
        ...concurrency,
      };
    },
  };
}

/** Locally the shards share this process: there is no Lambda concurrency to run out of. */
export const localCapacityCheck: CapacityCheck = {
  async check() {
    return { checked: false, note: 'local run: shards run in this process, no Lambda concurrency to check' };
  },
};
