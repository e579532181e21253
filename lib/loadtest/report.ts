// Merges every shard's measurements into one report with exact percentiles, thresholds and a grade.

import { redactQuery } from '../log/logger.ts';
import { type ConnectionSummary, INSECURE_WARNING, summarizeConnection } from './connection-options.ts';
import type { ShardResult } from './engine.ts';
import {
  addEncodedHistogram,
  bucketCount,
  distribution,
  histogramFromCounts,
  type LatencySummary,
  type LegacyEncodedHistogram,
  summarize,
} from './histogram.ts';
import { type AbortReason, describeAbortReason } from './live.ts';
import { addResponseCounts, emptyRequestCounts, type RunFigures, requestTotals } from './measurement.ts';
import type { LoadTestOptions, RateStage } from './options.ts';
import { type LoadTestEstimate, type LoadTestPlan, shardFailuresTolerated } from './plan.ts';
import { plural } from './plural.ts';
import { networkErrors, reportStepDefinitions } from './step-report.ts';
import {
  type IterationReport,
  type ReportCheck,
  type StepReport,
  StepResultsMerge,
  stepReports,
} from './steps.ts';
import type { ShardFailure } from './store.ts';
import {
  DEFAULT_THRESHOLD,
  describeThresholdResult,
  evaluateThresholds,
  grade,
  type ThresholdResult,
} from './thresholds.ts';
import { type LegacyTimelineSecond, TimelineMerge, type TimelinePoint } from './timeline.ts';

export interface LoadTestReport extends RunFigures {
  runId: string;
  target: string;
  endpoints: Array<{ path: string; method: string; weight: number }>;
  model: 'closed' | 'open';
  users?: number;
  requestsPerUser?: number;
  thinkTimeMs?: number;
  rate?: number;
  duration?: number;
  stages?: RateStage[];
  workers: number;
  rounds: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number;
  /** Closed model: requests (a scenario: iterations) never sent, because the run was aborted or ran out of rounds. */
  unsent: number;
  /** Requests that got a response: the samples of latencyMs. */
  responses: number;
  /** Requests without a response, counted by kind in `errors` and left out of latencyMs. */
  noResponse: number;
  /** Measured from the actual send time; equal to latencyMs in the closed model. */
  latencyUncorrectedMs: LatencySummary;
  timeline: TimelinePoint[];
  /** [upper bound in ms, requests] buckets of the latency distribution. */
  histogram: Array<[number, number]>;
  /** The thresholds set, or DEFAULT_THRESHOLD (marked `default`) when none was. */
  thresholds: ThresholdResult[];
  passed: boolean;
  /** Why the run did not pass; empty when it passed. */
  failedBecause: string[];
  grade: ReturnType<typeof grade>;
  /**
   * sendLagMs: open model, how late requests left because of the generator itself (p99 of the worst shard).
   * tooShortToJudge: every shard ran too briefly (under MIN_SELF_CHECK_MS) for its figures to mean anything.
   */
  generator: {
    saturated: boolean;
    tooShortToJudge: boolean;
    eventLoopLagMs: number;
    sendLagMs: number;
    cpuPercent: number;
  };
  shards: {
    planned: number;
    completed: number;
    failed: number;
    retried: number;
    withinTolerance: boolean;
    /** Why the failed shards failed: one entry per distinct reason, most frequent first. */
    failures: ShardFailureReason[];
  };
  aborted: boolean;
  /** The abort threshold that stopped the run, what it measured and when; absent for any other ending. */
  abortedBy?: AbortReason;
  estimate: LoadTestEstimate;
  /** How the workers connected (reports stored before it was recorded have none). */
  connection?: ConnectionSummary;
  /** What the reader must know before trusting the figures, such as an unverified certificate. */
  warnings?: string[];
  /** One entry per step of the scenario (steps sharing a name are one), or per endpoint of the shorthand. */
  steps: StepReport[];
  /** Every check of every step. */
  checks: ReportCheck[];
  /** Scenarios only: iterations started, completed, and failed with their reasons. */
  iterations?: IterationReport;
}

export interface ShardFailureReason {
  error: string;
  cause: string | null;
  /** Failed shards that gave this reason. */
  shards: number;
  /** The first of them, to find in the execution's history; null when no reason was recorded. */
  first: { round: number; shard: number } | null;
}

/**
 * A shard result stored before histograms were kept as bucket counts: a run in progress during an upgrade
 * still merges.
 */
export type LegacyShardResult = Omit<ShardResult, 'latency' | 'latencyUncorrected' | 'timeline'> & {
  latency: LegacyEncodedHistogram;
  latencyUncorrected: LegacyEncodedHistogram;
  timeline: LegacyTimelineSecond[];
};

export interface ShardRow {
  round: number;
  shard: number;
  attempts: number;
  result: ShardResult | LegacyShardResult;
}

/**
 * Every shard's measurements added up one shard at a time: counters, bucket counts and per-second counts.
 * Its size depends on the run's length, never on its number of shards, so the Aggregate step can feed it
 * page by page.
 */
export class ShardResultsMerge {
  shards = 0;
  retried = 0;
  readonly counts = emptyRequestCounts();
  readonly latency = new Float64Array(bucketCount('precise'));
  readonly latencyUncorrected = new Float64Array(bucketCount('precise'));
  readonly timeline = new TimelineMerge();
  /** Per step, and a scenario's iterations. */
  readonly steps = new StepResultsMerge();
  startedAt = Number.POSITIVE_INFINITY;
  finishedAt = Number.NEGATIVE_INFINITY;
  /** Closed model: requests left over per round; only the last round's count as never sent. */
  readonly remainingByRound = new Map<number, number>();
  /** round:shard of every stored result, so a failure recorded before a successful retry is not reported. */
  readonly stored = new Set<string>();
  anyAborted = false;
  readonly generator = {
    saturated: false,
    allTooShortToJudge: true,
    eventLoopLagMs: 0,
    sendLagMs: 0,
    cpuPercent: 0,
  };

  add(row: ShardRow): void {
    const { result } = row;
    this.shards++;
    if (row.attempts > 1) this.retried++;
    this.stored.add(`${row.round}:${row.shard}`);
    addResponseCounts(this.counts, result);
    this.counts.failed += result.failed;
    addEncodedHistogram(result.latency, this.latency);
    addEncodedHistogram(result.latencyUncorrected, this.latencyUncorrected);
    this.timeline.add(result.timeline);
    this.steps.add(result);
    this.startedAt = Math.min(this.startedAt, result.startedAt);
    this.finishedAt = Math.max(this.finishedAt, result.finishedAt);
    this.remainingByRound.set(
      row.round,
      (this.remainingByRound.get(row.round) ?? 0) + (result.remaining ?? 0),
    );
    if (result.aborted) this.anyAborted = true;
    const generator = result.generator;
    if (generator.saturated) this.generator.saturated = true;
    if (generator.tooShortToJudge !== true) this.generator.allTooShortToJudge = false;
    this.generator.eventLoopLagMs = Math.max(this.generator.eventLoopLagMs, generator.eventLoopLagP99Ms);
    this.generator.sendLagMs = Math.max(this.generator.sendLagMs, generator.sendLagP99Ms ?? 0);
    this.generator.cpuPercent = Math.max(this.generator.cpuPercent, generator.cpuPercent);
  }

  /** Rounds that stored a result: the highest round plus one. */
  get rounds(): number {
    return this.remainingByRound.size ? Math.max(...this.remainingByRound.keys()) + 1 : 0;
  }
}

export interface BuildReportInput {
  runId: string;
  options: LoadTestOptions;
  plan: LoadTestPlan;
  /** The shards' rows, or a merge they were already added to (the Aggregate step adds them page by page). */
  shards: ShardRow[] | ShardResultsMerge;
  /** Shards of all rounds that should have reported. */
  expectedShards: number;
  /** Reasons recorded for shards that failed; a shard that stored a result after all is not counted. */
  failures?: ShardFailure[];
  aborted: boolean;
  /** Set when an abort threshold stopped the run. */
  abortedBy?: AbortReason | null;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** A report lists at most this many distinct reasons; 200 shards timing out are one reason, not 200. */
const MAX_FAILURE_REASONS = 10;

/** Groups the failed shards by reason; shards that failed without a recorded reason are counted as such. */
function failureReasons(stored: Set<string>, failures: ShardFailure[], failedShards: number) {
  const groups = new Map<string, ShardFailureReason>();
  let explained = 0;
  for (const failure of failures) {
    if (stored.has(`${failure.round}:${failure.shard}`)) continue;
    explained++;
    const key = JSON.stringify([failure.error, failure.cause]);
    const group = groups.get(key);
    if (group) group.shards++;
    else
      groups.set(key, {
        error: failure.error,
        cause: failure.cause,
        shards: 1,
        first: { round: failure.round, shard: failure.shard },
      });
  }
  const reasons = [...groups.values()].sort((a, b) => b.shards - a.shards);
  const unexplained = failedShards - explained;
  if (unexplained > 0)
    reasons.push({
      error: 'unknown',
      cause: 'the shard stored neither a result nor a reason',
      shards: unexplained,
      first: null,
    });
  return reasons.slice(0, MAX_FAILURE_REASONS);
}

function describeFailedThreshold(result: ThresholdResult): string {
  if (result.default) return `every request failed (${result.expr}, the default when no threshold is set)`;
  return `threshold ${describeThresholdResult(result)} failed`;
}

export function buildReport(input: BuildReportInput): LoadTestReport {
  const { options, plan } = input;
  let merge: ShardResultsMerge;
  if (input.shards instanceof ShardResultsMerge) merge = input.shards;
  else {
    merge = new ShardResultsMerge();
    for (const row of input.shards) merge.add(row);
  }
  const { counts } = merge;
  const { statusCodes, errors } = counts;
  const totals = requestTotals(counts);
  const latency = histogramFromCounts(merge.latency);
  const uncorrected = histogramFromCounts(merge.latencyUncorrected);
  const latencyMs = summarize(latency);
  const responses = latency.totalCount;
  const latencyUncorrectedMs = summarize(uncorrected);
  const histogram = distribution(latency);
  latency.destroy();
  uncorrected.destroy();

  const startedAt = merge.shards ? merge.startedAt : null;
  const finishedAt = merge.shards ? merge.finishedAt : null;
  const durationSeconds = merge.shards ? Math.max(0.001, (merge.finishedAt - merge.startedAt) / 1000) : 0;
  // Over one second at least: a run of 10 ms sending 3 requests never held 300 req/s.
  const rps = round2(totals.requests / Math.max(1, durationSeconds));
  const errorPercent = totals.requests > 0 ? round2((totals.failed / totals.requests) * 100) : 0;

  const endpoints = options.endpoints.map(({ path, method, weight }) => ({
    path: redactQuery(path),
    method,
    weight,
  }));
  const stepResults = stepReports(reportStepDefinitions(options), merge.steps, durationSeconds, {
    ...counts,
    latencyMs,
  });
  const figures = {
    latencyMs,
    errorPercent,
    rps,
    requests: totals.requests,
    steps: stepResults.steps,
    checks: stepResults.checks,
  };
  const thresholds =
    options.thresholds.length > 0
      ? evaluateThresholds(options.thresholds, figures)
      : evaluateThresholds([DEFAULT_THRESHOLD], figures).map((result) => ({
          ...result,
          default: true as const,
        }));
  const failedShards = Math.max(0, input.expectedShards - merge.shards);
  const shardsOk = shardFailuresTolerated(
    failedShards,
    input.expectedShards,
    options.toleratedFailurePercent,
  );
  const rounds = merge.rounds;
  const { allTooShortToJudge, ...generator } = merge.generator;
  const unsent = merge.remainingByRound.get(rounds - 1) ?? 0;
  const failedBecause = [
    ...(input.abortedBy
      ? [`it was aborted: ${describeAbortReason(input.abortedBy)}`]
      : input.aborted
        ? ['it was aborted before it finished']
        : []),
    ...(totals.requests === 0
      ? ['no request was sent']
      : thresholds.filter((result) => !result.passed).map(describeFailedThreshold)),
    ...(shardsOk ? [] : [`${failedShards} of ${input.expectedShards} shards failed`]),
    ...(unsent > 0
      ? [
          `${plural(unsent, options.scenario ? 'iteration' : 'request')} ${unsent === 1 ? 'was' : 'were'} never ${options.scenario ? 'started' : 'sent'}`,
        ]
      : []),
  ];

  return {
    runId: input.runId,
    target: options.target,
    // Headers and bodies stay out of the report; credential query parameters are masked. The run's options
    // keep the real values, which only the workers read.
    endpoints,
    model: options.model,
    ...(options.model === 'closed'
      ? { users: options.users, requestsPerUser: options.requestsPerUser, thinkTimeMs: options.thinkTimeMs }
      : { rate: options.rate, duration: options.durationSeconds, stages: options.stages }),
    workers: plan.shards,
    rounds,
    startedAt: startedAt === null ? null : new Date(startedAt).toISOString(),
    finishedAt: finishedAt === null ? null : new Date(finishedAt).toISOString(),
    durationSeconds: round2(durationSeconds),
    totals,
    unsent,
    rps,
    latencyMs,
    responses,
    noResponse: networkErrors(errors),
    latencyUncorrectedMs,
    statusCodes,
    errors,
    errorPercent,
    timeline: merge.timeline.points(),
    histogram,
    thresholds,
    passed: failedBecause.length === 0,
    failedBecause,
    grade: totals.requests === 0 ? 'F' : grade(errorPercent, latencyMs.p95),
    generator: { ...generator, tooShortToJudge: merge.shards > 0 && allTooShortToJudge },
    shards: {
      planned: input.expectedShards,
      completed: merge.shards,
      failed: failedShards,
      retried: merge.retried,
      withinTolerance: shardsOk,
      failures: failureReasons(merge.stored, input.failures ?? [], failedShards),
    },
    aborted: input.aborted,
    ...(input.abortedBy ? { abortedBy: input.abortedBy } : {}),
    estimate: plan.estimate,
    connection: summarizeConnection(options.target, options.connection),
    warnings: options.connection?.insecure ? [INSECURE_WARNING] : [],
    ...stepResults,
  };
}
