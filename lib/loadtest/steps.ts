// Per-step results of a load test: what each request of a scenario (or each --endpoint) measured, after the merge.

import type { LatencySummary } from './histogram.ts';
import type { ErrorKind } from './measurement.ts';

/** One named response check of one step: responses it held for, and responses it did not. */
export interface StepCheckResult {
  name: string;
  passed: number;
  failed: number;
}

export interface StepReport {
  /** The step's name, or "METHOD /path" (the path as written, before templating) when it has none. */
  name: string;
  method: string;
  path: string;
  /** Responses and requests without one. */
  requests: number;
  /** Passed its status expectation (by default: a status under 400). */
  ok: number;
  /** httpFailures plus network errors. */
  failed: number;
  /** Got a response that failed its status expectation. */
  httpFailures: number;
  rps: number;
  latencyMs: LatencySummary;
  statusCodes: Record<string, number>;
  /** Requests without a response, by kind. */
  errors: Record<ErrorKind, number>;
  /** failed / requests × 100. */
  errorPercent: number;
  /** This step's response checks, by check name. */
  checks: StepCheckResult[];
}

/** A scenario's iterations: started, ended with every step done, and ended early with the reason why. */
export interface IterationReport {
  started: number;
  completed: number;
  failed: number;
  /** Why iterations ended early, e.g. "capture token: $.data.token found nothing", counted. */
  failedBecause: Record<string, number>;
}

/** Every check of every step, with the step it belongs to. */
export type ReportCheck = StepCheckResult & { step: string };
