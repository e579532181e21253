// Each step's own measurements in a shard: requests, statuses, network errors, latency and check results.

import { createHistogram, type Histogram, recordMs, VarintWriter } from './histogram.ts';
import type { ErrorKind, ResponseCounts } from './measurement.ts';

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
  readonly errors: Record<ErrorKind, number> = { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 };
  readonly latency: Histogram = createHistogram();
  /** passed at 2i, failed at 2i + 1. */
  private readonly checks: Float64Array;

  constructor(checks: number) {
    this.checks = new Float64Array(checks * 2);
  }

  record(latencyMs: number, status: number, error: ErrorKind | null, httpFailed: boolean): void {
    this.requests++;
    if (error !== null) this.errors[error]++;
    else {
      if (httpFailed) this.httpFailures++;
      else this.ok++;
      recordMs(this.latency, latencyMs);
    }
    if (status > 0) this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  recordCheck(index: number, passed: boolean): void {
    const at = index * 2 + (passed ? 0 : 1);
    this.checks[at] = (this.checks[at] as number) + 1;
  }

  result(): ShardStepResult {
    const checks: Array<[number, number]> = [];
    for (let index = 0; index < this.checks.length; index += 2)
      checks.push([this.checks[index] as number, this.checks[index + 1] as number]);
    return {
      requests: this.requests,
      ok: this.ok,
      httpFailures: this.httpFailures,
      statusCodes: Object.fromEntries([...this.statuses].map(([status, count]) => [String(status), count])),
      errors: { ...this.errors },
      checks,
    };
  }
}

/** Every step's latency histogram, one bucket list after another, deflated once. */
export function encodeStepLatency(steps: StepRecorder[]): Uint8Array {
  const writer = new VarintWriter();
  for (const step of steps) writer.writeBuckets(step.latency);
  return writer.finish();
}
