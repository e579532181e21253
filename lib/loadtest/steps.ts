// Per-step results of a load test: what each request of a scenario (or each --endpoint) measured, after the merge.

import type { StepDefinition, StepIdentity } from '../scenario/compile.ts';
import type { ShardResult } from './engine.ts';
import { BucketListReader, bucketCount, type LatencySummary, summarizeCounts } from './histogram.ts';
import {
  addCheckCounts,
  addResponseCounts,
  EncodingError,
  ERROR_KINDS,
  emptyRequestCounts,
  percent,
  type RequestCounts,
  round2,
} from './measurement.ts';
import type { IterationCounts } from './scenario-runner.ts';
import type { ShardStepResult } from './step-recorder.ts';
import { WHOLE_RUN_STEP } from './step-report.ts';
import { BoundedTimelineMerge, type TimelinePoint } from './timeline.ts';

/** One named response check of one step: responses it held for, and responses it did not. */
export interface StepCheckResult {
  name: string;
  passed: number;
  failed: number;
}

/** `failed`: httpFailures plus network errors. */
export interface StepReport extends StepIdentity, RequestCounts {
  /** Got a response that failed its status expectation. */
  httpFailures: number;
  rps: number;
  latencyMs: LatencySummary;
  /** failed / requests × 100. */
  errorPercent: number;
  /** This step's response checks, by check name. */
  checks: StepCheckResult[];
  /**
   * The step's own timeline, for comparing runs step by step: one point per second, or per `secondsPerPoint`
   * seconds past MAX_STEP_TIMELINE_POINTS of them. Absent from reports of shards that kept none.
   */
  timeline?: { secondsPerPoint: number; points: TimelinePoint[] };
}

export type IterationReport = IterationCounts;

/** Every check of every step, with the step it belongs to. */
export type ReportCheck = StepCheckResult & { step: string };

/** One step's figures added up over every shard. */
interface StepTotals extends ShardStepResult {
  latency: Float64Array;
  timeline: BoundedTimelineMerge;
}

/** Distinct reasons an iteration failed that a report lists; the rest are counted under one. */
const MAX_ITERATION_REASONS = 20;

/** Every shard's per-step figures and iterations, added exactly: counters summed, histogram buckets summed. */
export class StepResultsMerge {
  readonly steps: StepTotals[] = [];
  /** Shards stored before per-step figures were kept. */
  shardsWithoutSteps = 0;
  /** Shards stored before per-step timelines were kept (their step latencies end with the histograms). */
  shardsWithoutStepTimelines = 0;
  iterations: IterationReport | null = null;

  add(result: Pick<ShardResult, 'steps' | 'stepLatency' | 'iterations'>): void {
    if (result.iterations) {
      const into = this.iterations ?? { started: 0, completed: 0, failed: 0, failedBecause: {} };
      this.iterations = into;
      into.started += result.iterations.started;
      into.completed += result.iterations.completed;
      into.failed += result.iterations.failed;
      for (const [reason, count] of Object.entries(result.iterations.failedBecause))
        into.failedBecause[reason] = (into.failedBecause[reason] ?? 0) + count;
    }
    if (!result.steps || !result.stepLatency) {
      this.shardsWithoutSteps++;
      return;
    }
    const reader = new BucketListReader(result.stepLatency);
    result.steps.forEach((step, index) => {
      const totals = this.stepAt(index, step.checks.length);
      addResponseCounts(totals, step);
      totals.httpFailures += step.httpFailures;
      addCheckCounts(totals.checks, step.checks);
      reader.addBucketsTo(totals.latency);
    });
    // Then, since they were kept, each step's timeline: its length in bytes, then its seconds.
    if (reader.done) {
      this.shardsWithoutStepTimelines++;
      return;
    }
    result.steps.forEach((_step, index) => {
      const length = reader.read();
      const end = reader.position + length;
      if (end > reader.bytes.length) throw new EncodingError('step timelines end early');
      (this.steps[index] as StepTotals).timeline.addVarints(reader.bytes.subarray(reader.position, end));
      reader.position = end;
    });
  }

  private stepAt(index: number, checks: number): StepTotals {
    this.steps[index] ??= {
      ...emptyRequestCounts(),
      httpFailures: 0,
      latency: new Float64Array(bucketCount('precise')),
      checks: Array.from({ length: checks }, (): [number, number] => [0, 0]),
      timeline: new BoundedTimelineMerge(),
    };
    return this.steps[index];
  }
}

/** What a step's figures come from when every shard kept none: the run's own, for a run of one step. */
export type RunTotalsAsStep = RequestCounts & Pick<StepReport, 'latencyMs'>;

/**
 * The report's steps and checks from the merged figures. A run of one step whose shards (all or some) were
 * stored before per-step figures were kept reports the run's own totals for it, which are that step's.
 */
export function stepReports(
  definitions: StepDefinition[],
  merge: StepResultsMerge,
  durationSeconds: number,
  runTotals: RunTotalsAsStep,
): { steps: StepReport[]; checks: ReportCheck[]; iterations?: IterationReport } {
  // Shards stored before steps were recorded split nothing by endpoint: the whole run is then the one step.
  const reported =
    merge.shardsWithoutSteps > 0 && definitions.length > 1
      ? [{ name: WHOLE_RUN_STEP, method: '*', path: '*', checks: [] }]
      : definitions;
  const steps = reported.map((definition, index): StepReport => {
    const totals = merge.steps[index];
    const fromRun = merge.shardsWithoutSteps > 0 && reported.length === 1;
    const counts = (fromRun ? runTotals : totals) ?? emptyRequestCounts();
    const errors = { ...counts.errors };
    const noResponse = ERROR_KINDS.reduce((sum, kind) => sum + errors[kind], 0);
    const { requests, ok } = counts;
    const httpFailures = fromRun ? runTotals.failed - noResponse : (totals?.httpFailures ?? 0);
    const latencyMs = fromRun
      ? runTotals.latencyMs
      : summarizeCounts(totals?.latency ?? new Float64Array(bucketCount('precise')));
    const failed = httpFailures + noResponse;
    return {
      name: definition.name,
      method: definition.method,
      path: definition.path,
      requests,
      ok,
      failed,
      httpFailures,
      rps: durationSeconds > 0 ? round2(requests / Math.max(1, durationSeconds)) : 0,
      latencyMs,
      statusCodes: { ...counts.statusCodes },
      errors,
      errorPercent: percent(failed, requests),
      checks: definition.checks.map((name, check) => ({
        name,
        passed: totals?.checks[check]?.[0] ?? 0,
        failed: totals?.checks[check]?.[1] ?? 0,
      })),
      // Only when every shard kept one: a timeline missing some shards' seconds would compare as a drop.
      ...(totals && !fromRun && merge.shardsWithoutStepTimelines === 0
        ? {
            timeline: { secondsPerPoint: totals.timeline.secondsPerPoint, points: totals.timeline.points() },
          }
        : {}),
    };
  });
  const checks = steps.flatMap((step) => step.checks.map((check) => ({ ...check, step: step.name })));
  const iterations = merge.iterations;
  if (!iterations) return { steps, checks };
  const reasons = Object.entries(iterations.failedBecause).sort((a, b) => b[1] - a[1]);
  const kept = reasons.slice(0, MAX_ITERATION_REASONS);
  const rest = reasons.slice(MAX_ITERATION_REASONS).reduce((sum, [, count]) => sum + count, 0);
  return {
    steps,
    checks,
    iterations: {
      ...iterations,
      failedBecause: Object.fromEntries(rest > 0 ? [...kept, ['other reasons', rest]] : kept),
    },
  };
}
