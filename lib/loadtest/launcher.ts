// Starts a planned run on the state machine and waits for its report, for the API and the loadtest Lambda.

import type { CapacityCheck } from './capacity.ts';
import type { LoadTestLimits } from './limits.ts';
import { type CreatedRun, createLoadTest } from './service.ts';
import type { LoadTestStore, RunRecord } from './store.ts';

export interface ExecutionStarter {
  /** Starts the state machine for a run and returns the execution's ARN. */
  start(runId: string): Promise<string>;
}

export interface LaunchDeps {
  store: LoadTestStore;
  limits: LoadTestLimits;
  starter: ExecutionStarter;
  defaultTarget?: string;
  /** The Lambda concurrency preflight; locally a no-op. */
  capacity?: CapacityCheck;
}

export async function launchLoadTest(
  input: unknown,
  deps: LaunchDeps,
): Promise<CreatedRun & { executionArn: string }> {
  const created = await createLoadTest(input, deps.store, deps.limits, deps.defaultTarget, deps.capacity);
  try {
    const executionArn = await deps.starter.start(created.runId);
    await deps.store.setExecution(created.runId, executionArn);
    return { ...created, executionArn };
  } catch (error) {
    await deps.store.finish(
      created.runId,
      'error',
      null,
      `could not start the state machine: ${(error as Error).message}`,
    );
    throw error;
  }
}

/** Time kept back from the Lambda timeout to answer after waiting. */
const ANSWER_MARGIN_MS = 5000;
/**
 * Waiting longer by default would outlast `sls invoke`'s 120 s client timeout, and its retry would start a
 * second run; a longer wait is asked for with "wait" (seconds).
 */
export const DEFAULT_WAIT_SECONDS = 100;

/** How long the loadtest function waits for a run: `wait` seconds (or the default), within its own timeout. */
export function waitBudgetMs(wait: unknown, remainingMs: number): number {
  const seconds =
    typeof wait === 'number' && Number.isFinite(wait) && wait >= 0 ? wait : DEFAULT_WAIT_SECONDS;
  return Math.max(0, Math.min(seconds * 1000, remainingMs - ANSWER_MARGIN_MS));
}

const FINISHED = new Set(['passed', 'failed', 'aborted', 'error']);

export const isFinished = (run: Pick<RunRecord, 'status'>) => FINISHED.has(run.status);

/** Polls the run until it finishes or the time is up; returns its latest record either way. */
export async function waitForRun(
  store: LoadTestStore,
  runId: string,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<RunRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await store.getRun(runId);
    if (!run) throw new Error(`load test ${runId} does not exist`);
    if (FINISHED.has(run.status) || Date.now() >= deadline) return run;
    await sleep(Math.min(2000, Math.max(100, deadline - Date.now())));
  }
}

/**
 * The small answer the Lambda and the API give: the report's headline figures, or where to find it, with the
 * figures so far (`live`, null before the shards' first turn) while it runs.
 */
export function runSummary(run: RunRecord, reportPath: string) {
  const report = run.report;
  return {
    runId: run.id,
    status: run.status,
    target: run.target,
    ...(run.error ? { error: run.error } : {}),
    ...(report
      ? {
          passed: report.passed,
          grade: report.grade,
          totals: report.totals,
          rps: report.rps,
          latencyMs: report.latencyMs,
          responses: report.responses,
          noResponse: report.noResponse,
          errorPercent: report.errorPercent,
          thresholds: report.thresholds,
          generator: report.generator,
          ...(report.warnings?.length ? { warnings: report.warnings } : {}),
          // Reports stored before shard failures were recorded have no list.
          ...(report.shards.failures?.length ? { shardFailures: report.shards.failures } : {}),
        }
      : FINISHED.has(run.status)
        ? {}
        : {
            message: `still running; fetch the report with GET ${reportPath}`,
            live: run.live,
          }),
    report: reportPath,
  };
}
