// Each step's own measurements in a shard: requests, statuses, network errors, latency and check results.

import { createHistogram, type Histogram, recordMs, VarintWriter } from './histogram.ts';
import type { SnapshotStep } from './live.ts';
import { type ErrorKind, emptyErrors, type ResponseCounts } from './measurement.ts';
import { SecondRecorder } from './second-recorder.ts';

/** A step's figures as a shard stores them; its latency histogram is kept apart, in ShardResult.stepLatency. */
export interface ShardStepResult extends ResponseCounts {
  /** Got a response that failed the step's status expectation. */
  httpFailures: number;
  /** [passed, failed] per check, in the order of the step's definition. */
  checks: Array<[number, number]>;
}

export class StepRecorder {
  requests = 0;
  ok = 0;
  httpFailures = 0;
  private readonly statuses = new Map<number, number>();
  readonly errors = emptyErrors();
  readonly latency: Histogram = createHistogram();
  /** passed at 2i, failed at 2i + 1. */
  private readonly checks: Float64Array;
  /** The step's own seconds: its timeline, and its last seconds for the live snapshots. */
  readonly seconds: SecondRecorder;

  /** `keptSeconds`: the last seconds its snapshots carry (0 when none are taken). */
  constructor(checks: number, keptSeconds = 0) {
    this.checks = new Float64Array(checks * 2);
    this.seconds = new SecondRecorder(keptSeconds);
  }

  /** `second`: of the run, in which the response (or the error) came. */
  record(
    second: number,
    latencyMs: number,
    status: number,
    error: ErrorKind | null,
    httpFailed: boolean,
  ): void {
    this.requests++;
    // Latency is measured over responses only: a refused connection's 0.7 ms is no latency of the
    // target's, and would pull p50 down; requests without a response are counted in errors instead.
    if (error !== null) this.errors[error]++;
    else {
      if (httpFailed) this.httpFailures++;
      else this.ok++;
      recordMs(this.latency, latencyMs);
    }
    if (status > 0) this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.seconds.record(second, error !== null || httpFailed, error === null ? latencyMs : null);
  }

  recordCheck(index: number, passed: boolean): void {
    const at = index * 2 + (passed ? 0 : 1);
    this.checks[at] = (this.checks[at] as number) + 1;
  }

  /** How many checks the step has. */
  get checkTotal(): number {
    return this.checks.length / 2;
  }

  /** [passed, failed] per check so far. */
  checkCounts(): Array<[number, number]> {
    const checks: Array<[number, number]> = [];
    for (let index = 0; index < this.checks.length; index += 2)
      checks.push([this.checks[index] as number, this.checks[index + 1] as number]);
    return checks;
  }

  /** Its requests, the responses that met the expectation, the statuses and the network errors so far. */
  counts(): ResponseCounts {
    return {
      requests: this.requests,
      ok: this.ok,
      statusCodes: Object.fromEntries(this.statuses),
      errors: { ...this.errors },
    };
  }

  result(): ShardStepResult {
    return { ...this.counts(), httpFailures: this.httpFailures, checks: this.checkCounts() };
  }
}

/**
 * Every step's latency histogram, one bucket list after another, then every step's timeline (its length in
 * bytes, then its seconds as lib/loadtest/timeline.ts writes them), compressed once. Readers from before the
 * timelines stop after the histograms. A run of one step has no step timeline: it would be the run's own.
 * Ends the steps' seconds.
 */
export function encodeStepLatency(steps: StepRecorder[]): Uint8Array {
  const writer = new VarintWriter();
  for (const step of steps) writer.writeBuckets(step.latency);
  const timelines = steps.map((step) => step.seconds.finish().varints());
  if (steps.length > 1)
    for (const varints of timelines) {
      writer.write(varints.length);
      writer.writeBytes(varints);
    }
  return writer.finish();
}

/**
 * The steps' part of a live snapshot: their counters, and in one compressed blob each step's latencies so far
 * (its bucket list) followed by its seconds in [windowEnd - kept, windowEnd) (how many, then second, requests,
 * errors and bucket list of each).
 */
export function snapshotSteps(
  steps: StepRecorder[],
  windowEnd: number,
): { steps: SnapshotStep[]; stepFigures: Uint8Array } {
  const writer = new VarintWriter();
  const counters = steps.map((step) => {
    writer.writeBuckets(step.latency);
    const recent = step.seconds.recentSeconds(windowEnd);
    writer.write(recent.length);
    for (const second of recent) {
      writer.write(second.second);
      writer.write(second.requests);
      writer.write(second.errors);
      writer.writeBytes(second.buckets);
    }
    return {
      requests: step.requests,
      ok: step.ok,
      failed: step.requests - step.ok,
      checks: step.checkCounts(),
    };
  });
  return { steps: counters, stepFigures: writer.finish() };
}
