// Per-step figures written out by hand, as the engine would report a scenario's steps.

import type { LatencySummary } from '../../lib/loadtest/histogram.ts';
import type { ReportWithSteps } from '../../lib/loadtest/step-report.ts';
import type { StepCheckResult, StepReport } from '../../lib/loadtest/steps.ts';

const NO_NETWORK_ERRORS = { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 };

/** A latency summary spread around one median. */
export function latencyAround(p50: number): LatencySummary {
  return {
    min: p50 / 4,
    mean: p50 * 1.1,
    p50,
    p90: p50 * 1.6,
    p95: p50 * 2,
    p99: p50 * 3,
    p999: p50 * 4,
    max: p50 * 5,
  };
}

export interface StepShape {
  name?: string;
  method?: string;
  path: string;
  requests: number;
  statusCodes: Record<string, number>;
  errors?: Partial<StepReport['errors']>;
  p50?: number;
  rps?: number;
  checks?: StepCheckResult[];
}

/** A step whose counts add up: statuses of 400 and above and network errors are its failures. */
export function stepOf(shape: StepShape): StepReport {
  const method = shape.method ?? 'GET';
  const errors = { ...NO_NETWORK_ERRORS, ...shape.errors };
  const network = Object.values(errors).reduce((sum, value) => sum + value, 0);
  const httpFailures = Object.entries(shape.statusCodes)
    .filter(([code]) => Number(code) >= 400)
    .reduce((sum, [, value]) => sum + value, 0);
  const failed = httpFailures + network;
  return {
    name: shape.name ?? `${method} ${shape.path}`,
    method,
    path: shape.path,
    requests: shape.requests,
    ok: shape.requests - failed,
    failed,
    httpFailures,
    rps: shape.rps ?? shape.requests / 10,
    latencyMs: latencyAround(shape.p50 ?? 20),
    statusCodes: shape.statusCodes,
    errors,
    errorPercent: shape.requests ? Math.round((failed / shape.requests) * 10_000) / 100 : 0,
    checks: shape.checks ?? [],
  };
}

/** The report with these steps in place of its own, its totals and checks made to agree with them. */
export function withSteps<R extends ReportWithSteps>(report: R, steps: StepReport[]): R {
  const requests = steps.reduce((sum, step) => sum + step.requests, 0);
  const failed = steps.reduce((sum, step) => sum + step.failed, 0);
  return {
    ...report,
    steps,
    checks: steps.flatMap((step) => step.checks.map((check) => ({ ...check, step: step.name }))),
    totals: { requests, ok: requests - failed, failed },
    errorPercent: requests ? Math.round((failed / requests) * 10_000) / 100 : 0,
  };
}
