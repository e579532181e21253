// The coordinator's steps of the state machine (plan, advance a round, aggregate, a shard's or the run's
// failure), free of AWS and of Lambda; the worker's shard step is in shard-step.ts.

import type { Metric } from '../metrics/sink.ts';
import { readLiveResults } from './live.ts';
import { SHARDS_PER_BLOCK, shardFailuresTolerated } from './plan.ts';
import { plural } from './plural.ts';
import { buildReport, type LoadTestReport, ShardResultsMerge } from './report.ts';
import { type PlannedRun, requireRun, type ShardTask, type StepDeps } from './step-deps.ts';
import { HEARTBEAT_SECONDS, type RunStatus } from './store.ts';
import { describeThresholdResult } from './thresholds.ts';

/**
 * What travels between states: identifiers and counts only, never measurements, and nothing that grows with
 * the number of shards but the list of blocks (at most 250 numbers at 10,000 shards).
 */
export interface RoundState {
  runId: string;
  round: number;
  /** Epoch ms at which every shard of this round starts: one time origin however many shards. */
  startsAt: number;
  /** The Map's items: block b runs shards b, b + blockCount, b + 2 × blockCount, … up to lastShard. */
  blocks: number[];
  blockCount: number;
  lastShard: number;
  distributed: boolean;
  /** Shards of the rounds run so far that stored no result (counted in PostgreSQL by Advance). */
  failedShards: number;
  done: boolean;
}

export interface RunOutcome {
  runId: string;
  status: RunStatus;
  passed: boolean;
  grade: string | null;
  requests: number;
  p95Ms: number | null;
  errorPercent: number | null;
}

/** What a Catch hands on: Step Functions' error name and its cause (for a Lambda, a JSON error object). */
export interface StepError {
  Error?: string;
  Cause?: string;
}

const MAX_ERROR_CHARS = 200;
const MAX_CAUSE_CHARS = 500;

const trim = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * The error and cause of a caught failure, trimmed for a report. A Lambda's cause is JSON with a stack
 * trace; its type and message are what a reader needs.
 */
export function describeStepError(error: StepError | undefined): { error: string; cause: string | null } {
  let cause = error?.Cause?.trim() || null;
  if (cause?.startsWith('{')) {
    try {
      const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
      if (typeof parsed.errorMessage === 'string')
        cause =
          typeof parsed.errorType === 'string'
            ? `${parsed.errorType}: ${parsed.errorMessage}`
            : parsed.errorMessage;
    } catch {
      // Not JSON after all: kept as it came.
    }
  }
  const name = trim(error?.Error?.trim() || 'unknown error', MAX_ERROR_CHARS);
  // States.Timeout's cause repeats its name.
  return { error: name, cause: cause === null || cause === name ? null : trim(cause, MAX_CAUSE_CHARS) };
}

function roundState(runId: string, round: number, run: PlannedRun, failedShards: number): RoundState {
  const blockCount = run.plan.blocks ?? Math.ceil(run.plan.shards / SHARDS_PER_BLOCK);
  return {
    runId,
    round,
    startsAt: Date.now() + (run.plan.startLeadSeconds ?? 0) * 1000,
    blocks: Array.from({ length: blockCount }, (_, index) => index),
    blockCount,
    lastShard: run.plan.shards - 1,
    distributed: run.plan.mode === 'DISTRIBUTED',
    failedShards,
    done: false,
  };
}

export async function planStep(input: { runId: string }, deps: StepDeps): Promise<RoundState> {
  const run = await requireRun(deps.store, input.runId);
  await deps.store.markStarted(input.runId);
  deps.logger.info('load test started', { runId: input.runId, shards: run.plan.shards, mode: run.plan.mode });
  return roundState(input.runId, 0, run, 0);
}

/** A shard's Catch: records why it failed, so the report can say; the round carries on without it. */
export async function shardFailedStep(
  input: ShardTask & { error?: StepError },
  deps: StepDeps,
): Promise<ShardTask & { failed: true }> {
  const reason = describeStepError(input.error);
  const { runId, round, shard } = input;
  await deps.store.saveShardFailure(runId, { round, shard, ...reason });
  deps.logger.warn('load test shard failed', { runId, round, shard, ...reason });
  return { runId, round, shard, failed: true };
}

export async function advanceStep(input: RoundState, deps: StepDeps): Promise<RoundState> {
  await deps.store.recordHeartbeat(input.runId);
  const run = await requireRun(deps.store, input.runId);
  const summary = await deps.store.roundSummary(input.runId, input.round);
  const failedShards = input.failedShards + Math.max(0, run.plan.shards - summary.shards);
  // Past the tolerance already, the run cannot pass: its remaining rounds would only cost.
  const tolerated = shardFailuresTolerated(
    failedShards,
    run.plan.shards * (input.round + 1),
    run.options.toleratedFailurePercent,
  );
  const aborted = summary.aborted || run.abortRequested;
  const next = input.round + 1;
  const more =
    !aborted &&
    tolerated &&
    next < run.plan.maxRounds &&
    (run.plan.rounds === null ? summary.remaining > 0 : next < run.plan.rounds);
  return more ? roundState(input.runId, next, run, failedShards) : { ...input, failedShards, done: true };
}

/** A rejection's handler that logs it as a warning: what failed must not fail a run that has its outcome. */
const warnOnFailure = (deps: StepDeps, runId: string, what: string) => (error: unknown) =>
  deps.logger.warn(what, { runId, error });

function reportMetrics(report: LoadTestReport, dimensions: Record<string, string>): Metric[] {
  const timestamp = report.finishedAt ? new Date(report.finishedAt) : new Date();
  const base = { dimensions: { ...dimensions, Test: 'LoadTest' }, timestamp };
  return [
    { ...base, name: 'LoadTestRequests', value: report.totals.requests, unit: 'Count' },
    { ...base, name: 'LoadTestErrorRate', value: report.errorPercent, unit: 'Percent' },
    { ...base, name: 'LoadTestThroughput', value: report.rps, unit: 'Count/Second' },
    { ...base, name: 'LoadTestLatencyP50', value: report.latencyMs.p50, unit: 'Milliseconds' },
    { ...base, name: 'LoadTestLatencyP95', value: report.latencyMs.p95, unit: 'Milliseconds' },
    { ...base, name: 'LoadTestLatencyP99', value: report.latencyMs.p99, unit: 'Milliseconds' },
    { ...base, name: 'LoadTestPassed', value: report.passed ? 1 : 0, unit: 'Count' },
  ];
}

/** "2 of 2 shards failed: States.Timeout (2)": the count, then each reason with how many shards gave it. */
export function shardFailureMessage(report: LoadTestReport): string {
  const reasons = report.shards.failures
    .map((item) => `${item.error}${item.cause ? ` (${item.cause})` : ''} ×${item.shards}`)
    .join('; ');
  return `${report.shards.failed} of ${report.shards.planned} shards failed${reasons ? `: ${reasons}` : ''}`;
}

export async function aggregateStep(input: RoundState, deps: StepDeps): Promise<RunOutcome> {
  // Merging a large run's histograms takes a while: the run is alive meanwhile, not stale.
  await deps.store.recordHeartbeat(input.runId);
  const run = await requireRun(deps.store, input.runId);
  // Page by page into running totals: memory follows the run's length, never its number of shards.
  const merge = new ShardResultsMerge();
  let lastBeat = Date.now();
  for await (const page of deps.store.shardResultPages(input.runId)) {
    for (const row of page) merge.add(row);
    if (Date.now() - lastBeat >= HEARTBEAT_SECONDS * 1000) {
      await deps.store.recordHeartbeat(input.runId);
      lastBeat = Date.now();
    }
  }
  const failures = await deps.store.shardFailures(input.runId);
  const roundsRun = input.round + 1;
  const aborted = run.abortRequested || merge.anyAborted;
  const report = buildReport({
    runId: input.runId,
    options: run.options,
    plan: run.plan,
    shards: merge,
    expectedShards: run.plan.shards * roundsRun,
    failures,
    aborted,
    abortedBy: run.abortReason,
  });
  // The live figures from the shards' final snapshots, before the status says the run is over.
  await readLiveResults(deps.store, run)
    .then((live) => deps.store.saveLiveResults(input.runId, live))
    .catch(warnOnFailure(deps, input.runId, 'final live figures not written'));
  const tooManyFailures = !report.shards.withinTolerance;
  const status: RunStatus = aborted
    ? 'aborted'
    : tooManyFailures
      ? 'error'
      : report.passed
        ? 'passed'
        : 'failed';
  await deps.store.finish(
    input.runId,
    status,
    report,
    tooManyFailures ? shardFailureMessage(report) : undefined,
  );
  // Rows of runs finished long enough ago go; a failure here must not fail a run that has its report.
  await deps.store
    .pruneExpired()
    .then((pruned) => {
      if (pruned.shardRows.deleted + pruned.runs.deleted > 0)
        deps.logger.info('expired load test rows pruned', pruned);
    })
    .catch((error: unknown) => deps.logger.warn('old load test shard rows not pruned', { error }));
  deps.logger.info('load test finished', {
    runId: input.runId,
    status,
    requests: report.totals.requests,
    p95: report.latencyMs.p95,
    errorPercent: report.errorPercent,
  });
  if (deps.metrics) {
    await deps.metrics
      .put(reportMetrics(report, deps.dimensions ?? {}))
      .catch(warnOnFailure(deps, input.runId, 'load test metrics not sent'));
  }
  // A stop on request is the operator's doing; a lost abort threshold is a finding, told like a failed one.
  if (deps.alerts && status !== 'passed' && (status !== 'aborted' || report.abortedBy)) {
    const failedThresholds = report.thresholds.filter((item) => !item.passed).map(describeThresholdResult);
    await deps.alerts
      .publish({
        subject: `Load test ${status}: ${report.target} (${plural(failedThresholds.length, 'threshold')} failed)`,
        message: [
          `Load test ${input.runId} against ${report.target} ${status}.`,
          `Requests: ${report.totals.requests}, failed: ${report.totals.failed} (${report.errorPercent}%), p95 ${report.latencyMs.p95} ms, grade ${report.grade}.`,
          failedThresholds.length ? `Failed thresholds: ${failedThresholds.join(', ')}.` : '',
          report.failedBecause.length ? `Why: ${report.failedBecause.join('; ')}.` : '',
        ]
          .filter(Boolean)
          .join('\n'),
        detail: {
          runId: input.runId,
          status,
          totals: report.totals,
          latencyMs: report.latencyMs,
          thresholds: report.thresholds,
        },
        severity: 'warning',
        attributes: { kind: 'loadtest', status },
      })
      .catch(warnOnFailure(deps, input.runId, 'load test notification not sent'));
  }
  return {
    runId: input.runId,
    status,
    passed: report.passed,
    grade: report.grade,
    requests: report.totals.requests,
    p95Ms: report.latencyMs.p95,
    errorPercent: report.errorPercent,
  };
}

export type CoordinatorEvent =
  | { step: 'plan'; runId: string }
  | { step: 'advance'; state: RoundState }
  | { step: 'aggregate'; state: RoundState }
  | ({ step: 'shardFailed'; error?: StepError } & ShardTask)
  | { step: 'fail'; runId: string; error?: StepError };

/** The coordinator Lambda's one entry: the state machine names the step. */
export function coordinatorStep(event: CoordinatorEvent, deps: StepDeps): Promise<unknown> {
  switch (event.step) {
    case 'plan':
      return planStep(event, deps);
    case 'advance':
      return advanceStep(event.state, deps);
    case 'aggregate':
      return aggregateStep(event.state, deps);
    case 'shardFailed':
      return shardFailedStep(event, deps);
    case 'fail':
      return failStep(event, deps);
    default:
      throw new Error(`unknown coordinator step ${JSON.stringify((event as { step?: unknown }).step)}`);
  }
}

/** The state machine's catch-all: the run ends as an error rather than staying "running" forever. */
export async function failStep(input: { runId: string; error?: StepError }, deps: StepDeps) {
  const reason = describeStepError(input.error);
  const message = reason.cause ? `${reason.error}: ${reason.cause}` : reason.error;
  await deps.store.finish(input.runId, 'error', null, message);
  deps.logger.error('load test failed', { runId: input.runId, error: message });
  await deps.alerts
    ?.publish({
      subject: `Load test error: run ${input.runId} did not finish`,
      message: `Load test ${input.runId} ended with an error before its report: ${message}`,
      detail: { runId: input.runId, status: 'error', error: message },
      severity: 'warning',
      attributes: { kind: 'loadtest', status: 'error' },
    })
    .catch(warnOnFailure(deps, input.runId, 'load test notification not sent'));
  return { runId: input.runId, status: 'error' as const, error: message };
}
