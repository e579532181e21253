// A running run's figures so far, merged from the progress snapshots its shards write to PostgreSQL, and the
// abort thresholds judged on them.

import type { ShardResult } from './engine.ts';
import { addEncodedHistogram, BucketListReader, bucketCount, summarizeCounts } from './histogram.ts';
import {
  addCheckCounts,
  addResponseCounts,
  emptyRequestCounts,
  percent,
  type RequestCounts,
  type RunFigures,
  requestTotals,
  round2,
} from './measurement.ts';
import { reportStepDefinitions, type StepSource } from './step-report.ts';
import type { StepCheckResult, StepReport } from './steps.ts';
import { evaluateThresholds, parseThreshold } from './thresholds.ts';
import { addCounts, addToSecond, type MergedSecond, type TimelineSecond } from './timeline.ts';

/** The live view's "last N seconds": rate, errors and percentiles over this many whole seconds. */
export const LIVE_WINDOW_SECONDS = 10;
/** Seconds a snapshot keeps beyond the window, so a shard whose snapshot is a little newer still covers it. */
const WINDOW_SLACK_SECONDS = 5;
export const SNAPSHOT_SECONDS_KEPT = LIVE_WINDOW_SECONDS + WINDOW_SLACK_SECONDS;

/**
 * Snapshots per second the whole run may write: up to this many shards write one a second, more shards each
 * write less often (10,000 shards: one every 30 s), so PostgreSQL takes at most about 250 small upserts a second.
 */
const SNAPSHOT_WRITES_PER_SECOND = 250;
const MAX_SNAPSHOT_SECONDS = 30;

/** How often each shard writes its snapshot, and how often the abort thresholds are judged, for a run's size. */
export function snapshotIntervalSeconds(shards: number): number {
  return Math.min(MAX_SNAPSHOT_SECONDS, Math.max(1, Math.ceil(shards / SNAPSHOT_WRITES_PER_SECOND)));
}

/** One whole second of a shard: its requests, failures and the latencies of its responses ('timeline' kind). */
export interface SnapshotSecond extends TimelineSecond {
  latency: Uint8Array;
}

/** One step's counters so far in a shard, in the order of the run's step definitions. */
export interface SnapshotStep {
  requests: number;
  ok: number;
  failed: number;
  /** [passed, failed] per check, in the order of the step's definition. */
  checks: Array<[number, number]>;
}

/**
 * What a running shard writes every few seconds: the counters of its result so far (`latency`: every response
 * so far, corrected as the report's latencyMs is) and its last seconds, never its samples.
 */
export interface ShardSnapshot
  extends Pick<ShardResult, 'requests' | 'ok' | 'failed' | 'statusCodes' | 'errors' | 'latency'> {
  /** Whole seconds in [windowEnd - SNAPSHOT_SECONDS_KEPT, windowEnd), oldest first; seconds without requests left out. */
  recent: SnapshotSecond[];
  /** The first second of the run not yet over for this shard (its last second + 1 once finished). */
  windowEnd: number;
  /** Epoch ms the run's timeline counts from (the same for every shard of a run). */
  runStartedAt: number;
  takenAt: number;
  /** The shard is over: these are its final figures. */
  finished: boolean;
  /** Per step, when the engine records steps (absent from snapshots written before). */
  steps?: SnapshotStep[];
  /**
   * The steps' latencies, compressed once (lib/loadtest/step-recorder.ts snapshotSteps): per step its bucket
   * list so far ('precise'), then its seconds in the window `recent` covers ('timeline').
   */
  stepFigures?: Uint8Array;
}

export interface LivePercentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * One step's figures so far, as the report's (`rps`: requests so far over the seconds elapsed, at least one;
 * `latencyMs`: every response of the step so far), and over the run's live window.
 */
export interface LiveStep
  extends Pick<
    StepReport,
    'name' | 'method' | 'path' | 'requests' | 'ok' | 'failed' | 'errorPercent' | 'rps' | 'latencyMs'
  > {
  /** The step over the run's window (LiveResults.window): the same seconds. */
  window: LiveWindow;
  /** The step's checks so far, by name. */
  checks: StepCheckResult[];
}

/** Figures over whole seconds of the run's live window. */
export interface LiveWindow {
  requests: number;
  errors: number;
  errorPercent: number;
  rps: number;
  latencyMs: LivePercentiles;
}

/** The merged figures of every snapshot of a run: what GET /v1/loadtests/{id} shows while it runs. */
export interface LiveResults extends RunFigures {
  /** When the newest snapshot was taken; null before any shard wrote one. */
  updatedAt: string | null;
  /** Seconds into the run at the newest snapshot. */
  elapsedSeconds: number;
  shards: { reporting: number; finished: number };
  /** The last whole seconds every running shard has reported: [fromSecond, toSecond) of the run. */
  window: LiveWindow & { seconds: number; fromSecond: number; toSecond: number };
  /** Per step so far; a run whose shards record no steps is one step. */
  steps: LiveStep[];
}

/** Seconds by second of the run, each added up over the shards. */
type Seconds = Array<MergedSecond | undefined>;

/** The seconds in [fromSecond, toSecond) added together. */
function windowOf(seconds: Seconds, fromSecond: number, toSecond: number): LiveWindow {
  const counts = new Float64Array(bucketCount('timeline'));
  let requests = 0;
  let errors = 0;
  for (let second = fromSecond; second < toSecond; second++) {
    const entry = seconds[second];
    if (!entry) continue;
    requests += entry.requests;
    errors += entry.errors;
    addCounts(counts, entry.counts);
  }
  const length = toSecond - fromSecond;
  const { p50, p95, p99 } = summarizeCounts(counts, 'timeline');
  return {
    requests,
    errors,
    errorPercent: percent(errors, requests),
    rps: length > 0 ? round2(requests / length) : 0,
    latencyMs: { p50, p95, p99 },
  };
}

interface StepTotals extends SnapshotStep {
  latency: Float64Array;
  seconds: Seconds;
}

/**
 * Every shard's latest snapshot added up one at a time, so a reader can take them page by page: counters,
 * bucket counts, and the seconds the snapshots kept. Exact for totals and the whole-run percentiles, as the
 * report is.
 */
export class SnapshotMerge {
  private readonly counts: RequestCounts = emptyRequestCounts();
  private readonly latency = new Float64Array(bucketCount('precise'));
  /** By step, in the order of the definitions; each keeps the seconds the snapshots carry, as `seconds`. */
  private readonly steps: StepTotals[] = [];
  /** By second of the run: at most SNAPSHOT_SECONDS_KEPT per round and the current one, whatever the shards. */
  private readonly seconds: Seconds = [];
  private snapshots = 0;
  private finished = 0;
  private newest = Number.NEGATIVE_INFINITY;
  private runStartedAt = Number.POSITIVE_INFINITY;
  private runningEnd = Number.POSITIVE_INFINITY;
  private finishedEnd = 0;

  add(snapshot: ShardSnapshot): void {
    this.snapshots++;
    addResponseCounts(this.counts, snapshot);
    this.counts.failed += snapshot.failed;
    addEncodedHistogram(snapshot.latency, this.latency);
    if (snapshot.steps && snapshot.stepFigures) this.addSteps(snapshot.steps, snapshot.stepFigures);
    for (const second of snapshot.recent)
      addEncodedHistogram(
        second.latency,
        addToSecond(this.seconds, second.second, second.requests, second.errors),
        'timeline',
      );
    this.newest = Math.max(this.newest, snapshot.takenAt);
    this.runStartedAt = Math.min(this.runStartedAt, snapshot.runStartedAt);
    if (snapshot.finished) {
      this.finished++;
      this.finishedEnd = Math.max(this.finishedEnd, snapshot.windowEnd);
    } else this.runningEnd = Math.min(this.runningEnd, snapshot.windowEnd);
  }

  /** A snapshot's steps, by their place in the definitions: counters, checks, latencies so far, seconds. */
  private addSteps(steps: SnapshotStep[], figures: Uint8Array): void {
    const reader = new BucketListReader(figures);
    steps.forEach((step, index) => {
      this.steps[index] ??= {
        ...requestTotals(emptyRequestCounts()),
        checks: [],
        latency: new Float64Array(bucketCount('precise')),
        seconds: [],
      };
      const entry = this.steps[index];
      entry.requests += step.requests;
      entry.ok += step.ok;
      entry.failed += step.failed;
      addCheckCounts(entry.checks, step.checks);
      reader.addBucketsTo(entry.latency);
      const seconds = reader.read();
      for (let at = 0; at < seconds; at++) {
        const second = reader.read();
        const requests = reader.read();
        const errors = reader.read();
        reader.addBucketsTo(addToSecond(entry.seconds, second, requests, errors));
      }
    });
  }

  /**
   * The run's endpoints name its one step when the shards recorded none; its step definitions name the steps
   * they recorded, and their checks, in the order the shards keep them.
   */
  results(source: StepSource): LiveResults {
    const { endpoints } = source;
    const definitions = reportStepDefinitions(source);
    const totals = requestTotals(this.counts);
    // Seconds a running shard has not reported yet would read as a drop: the window ends where the most behind
    // of them is. Once every shard has finished, it ends with the run.
    const toSecond = Number.isFinite(this.runningEnd) ? this.runningEnd : this.finishedEnd;
    const fromSecond = Math.max(0, toSecond - LIVE_WINDOW_SECONDS);
    const window = windowOf(this.seconds, fromSecond, toSecond);
    const elapsedSeconds = this.snapshots ? Math.max(0, (this.newest - this.runStartedAt) / 1000) : 0;
    const rpsOf = (requests: number) => round2(requests / Math.max(1, elapsedSeconds));
    const latencyMs = summarizeCounts(this.latency);
    const steps: LiveStep[] = this.steps.map((step, index) => {
      const definition = definitions[index];
      return {
        name: definition?.name ?? `step ${index + 1}`,
        method: definition?.method ?? '*',
        path: definition?.path ?? '*',
        ...requestTotals(step),
        errorPercent: percent(step.failed, step.requests),
        rps: rpsOf(step.requests),
        latencyMs: summarizeCounts(step.latency),
        window: windowOf(step.seconds, fromSecond, toSecond),
        checks: step.checks.map(([passed, failed], check) => ({
          name: definition?.checks[check] ?? `check ${check + 1}`,
          passed,
          failed,
        })),
      };
    });
    if (steps.length === 0) {
      // Named as the report names it (a credential in the query masked), so that a step tag finds it.
      const only = endpoints.length === 1 ? (definitions[0] ?? endpoints[0]) : undefined;
      steps.push({
        name: only ? `${only.method} ${only.path}` : 'all endpoints',
        method: only?.method ?? '*',
        path: only?.path ?? '*',
        ...totals,
        errorPercent: percent(totals.failed, totals.requests),
        rps: rpsOf(totals.requests),
        latencyMs,
        window,
        checks: [],
      });
    }
    return {
      updatedAt: this.snapshots ? new Date(this.newest).toISOString() : null,
      elapsedSeconds: round2(elapsedSeconds),
      shards: { reporting: this.snapshots, finished: this.finished },
      totals: { ...totals },
      errorPercent: percent(totals.failed, totals.requests),
      rps: rpsOf(totals.requests),
      latencyMs,
      statusCodes: { ...this.counts.statusCodes },
      errors: { ...this.counts.errors },
      window: { seconds: toSecond - fromSecond, fromSecond, toSecond, ...window },
      steps,
    };
  }
}

/** Every snapshot of `snapshots` merged at once (SnapshotMerge takes them one by one). */
export function mergeSnapshots(snapshots: ShardSnapshot[], options: StepSource): LiveResults {
  const merge = new SnapshotMerge();
  for (const snapshot of snapshots) merge.add(snapshot);
  return merge.results(options);
}

/**
 * The live figures of a run, from what its shards last wrote, read and added a page at a time: memory stays
 * small however many shards, and a shard judging its run's thresholds keeps sending between pages.
 */
export async function readLiveResults(
  store: { shardProgressPages(id: string): AsyncGenerator<ShardSnapshot[]> },
  run: { id: string; options: StepSource },
): Promise<LiveResults> {
  const merge = new SnapshotMerge();
  for await (const page of store.shardProgressPages(run.id)) for (const snapshot of page) merge.add(snapshot);
  return merge.results(run.options);
}

/** Which abort threshold stopped a run, what it measured, and when. */
export interface AbortReason {
  threshold: string;
  actual: number;
  /** Seconds into the run at which it was judged lost. */
  atSeconds: number;
}

/** The run's thresholds marked `:abort`, canonical. */
export function abortThresholds(thresholds: string[]): string[] {
  return thresholds.filter((expression) => parseThreshold(expression).abort !== undefined);
}

/**
 * The first abort threshold the figures so far have lost, once past its grace; null while every one holds.
 * Judged as the report would judge them were the run to end now.
 */
export function lostAbortThreshold(
  thresholds: string[],
  live: LiveResults,
  elapsedSeconds: number,
): AbortReason | null {
  const inputs = {
    latencyMs: live.latencyMs,
    errorPercent: live.errorPercent,
    rps: live.rps,
    requests: live.totals.requests,
    // Tagged thresholds read the steps' figures so far and their checks, as the report's do.
    steps: live.steps,
    checks: live.steps.flatMap((step) => step.checks.map((check) => ({ ...check, step: step.name }))),
  };
  const results = evaluateThresholds(thresholds, inputs);
  for (const [index, result] of results.entries()) {
    const grace = parseThreshold(thresholds[index] as string).abort?.graceSeconds ?? 0;
    // A threshold the live figures cannot judge (a step the run lacks, a check that has not run) never aborts.
    if (!result.passed && result.actual !== null && result.actual !== undefined && elapsedSeconds >= grace)
      return { threshold: result.expr, actual: result.actual, atSeconds: round2(elapsedSeconds) };
  }
  return null;
}

/** "threshold p99<800ms:abort lost 12.3 s into the run (actual 950 ms)": why an aborted run stopped. */
export function describeAbortReason(reason: AbortReason): string {
  const { metric } = parseThreshold(reason.threshold);
  const unit = metric === 'errors' ? '%' : metric === 'rps' || metric === 'requests' ? '' : ' ms';
  return `threshold ${reason.threshold} lost ${reason.atSeconds} s into the run (actual ${reason.actual}${unit})`;
}
