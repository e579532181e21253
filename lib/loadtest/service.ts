// Starting a load test, the same way for the CLI, the API and the loadtest Lambda: validate, plan, record.

import { randomUUID } from 'node:crypto';
import { type CapacityCheck, type CapacityReport, localCapacityCheck } from './capacity.ts';
import type { LoadTestLimits } from './limits.ts';
import { type LoadTestOptions, parseLoadTestInput } from './options.ts';
import { type LoadTestPlan, planLoadTest } from './plan.ts';
import type { LoadTestStore } from './store.ts';

export interface CreatedRun {
  runId: string;
  options: LoadTestOptions;
  plan: LoadTestPlan;
  /** What the Lambda concurrency preflight found (locally, that there is none to check). */
  capacity: CapacityReport;
}

/** Validates the input against the limits, plans it, checks the capacity for it, and records the run as pending. */
export async function createLoadTest(
  input: unknown,
  store: LoadTestStore,
  limits: LoadTestLimits,
  defaultTarget?: string,
  capacityCheck: CapacityCheck = localCapacityCheck,
): Promise<CreatedRun> {
  const options = parseLoadTestInput(input, limits, defaultTarget);
  const plan = planLoadTest(options, limits);
  const capacity = await capacityCheck.check(plan);
  const runId = randomUUID();
  await store.createRun(runId, options, plan, limits.maxConcurrentRuns);
  return { runId, options, plan, capacity };
}
