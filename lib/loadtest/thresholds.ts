// Pass/fail thresholds such as "p95<300", "errors<1%" or "rps>=100", evaluated against a report; ":abort" stops a
// run as soon as one is lost.

import type { LatencySummary } from './histogram.ts';

export type ThresholdMetric = keyof LatencySummary | 'errors' | 'rps' | 'requests';
type Operator = '<' | '<=' | '>' | '>=' | '==';

export interface Threshold {
  expression: string;
  metric: ThresholdMetric;
  operator: Operator;
  /** Milliseconds for latencies, percent for errors, a plain number otherwise. */
  value: number;
  /** Marked `:abort[:grace]`: judged live across the shards, and once lost the run stops (lib/loadtest/live.ts). */
  abort?: AbortRule;
}

export interface ThresholdResult {
  /** Threshold.expression; stored and served as `expr`, which stored reports and API clients read. */
  expr: string;
  actual: number;
  passed: boolean;
  /** The threshold applied because none was set (DEFAULT_THRESHOLD). */
  default?: true;
}

/**
 * Applied when a run sets no threshold, like k6's http_req_failed: a run in which every request failed
 * does not pass, whatever else it measured.
 */
export const DEFAULT_THRESHOLD = 'errors<100%';

const LATENCY = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'];
const METRICS = [...LATENCY, 'errors', 'rps', 'requests'];
const PATTERN = /^\s*([a-z0-9]+)\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$/i;

export function parseThreshold(expression: string): Threshold {
  const { condition, abort } = parseAbortSuffix(expression);
  const threshold = parseCondition(condition);
  if (!abort) return threshold;
  if (threshold.metric === 'requests' && !threshold.operator.startsWith('<'))
    throw new Error(
      `"${expression}": requests grow until the run ends, so only requests<N or requests<=N can abort it`,
    );
  return { ...threshold, expression: `${threshold.expression}${abortSuffix(abort)}`, abort };
}

/** When a threshold marked `:abort` may stop a run: not before `graceSeconds` into it. */
export interface AbortRule {
  graceSeconds: number;
}

const ABORT_SUFFIX = /^\s*abort\s*(?::\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*)?$/i;

/**
 * Splits "p99<800:abort:30s" into its condition and its abort rule. Only a colon outside braces starts the
 * suffix, so that tags such as `{step:login}` stay part of the condition.
 */
export function parseAbortSuffix(expression: string): { condition: string; abort: AbortRule | null } {
  let depth = 0;
  let colon = -1;
  for (let index = 0; index < expression.length && colon < 0; index++) {
    const char = expression[index];
    if (char === '{') depth++;
    else if (char === '}') depth = Math.max(0, depth - 1);
    else if (char === ':' && depth === 0) colon = index;
  }
  if (colon < 0) return { condition: expression, abort: null };
  const suffix = expression.slice(colon + 1);
  const match = suffix.match(ABORT_SUFFIX);
  if (!match)
    throw new Error(
      `"${expression}": after the condition only ":abort" or ":abort:<grace>" may follow (e.g. "p99<800:abort:30s")`,
    );
  const [, amount, unit] = match;
  const scale = unit?.toLowerCase() === 'ms' ? 0.001 : unit?.toLowerCase() === 'm' ? 60 : 1;
  return { condition: expression.slice(0, colon), abort: { graceSeconds: Number(amount ?? 0) * scale } };
}

/** ":abort", or ":abort:30s" with a grace: the canonical suffix. */
function abortSuffix(rule: AbortRule): string {
  return rule.graceSeconds > 0 ? `:abort:${rule.graceSeconds}s` : ':abort';
}

function parseCondition(expression: string): Threshold {
  const match = expression.match(PATTERN);
  if (!match) {
    throw new Error(
      `"${expression}" is not a threshold (metric, operator, value: e.g. "p95<300", "errors<1%", "rps>=100")`,
    );
  }
  const [, rawMetric, operator, rawValue, unit] = match;
  const metric = (rawMetric ?? '').toLowerCase();
  if (!METRICS.includes(metric))
    throw new Error(`"${rawMetric}" is not a metric (one of ${METRICS.join(', ')})`);
  let value = Number(rawValue);
  if (LATENCY.includes(metric)) {
    if (unit === '%') throw new Error(`"${expression}": a latency takes ms or s, not %`);
    if (unit === 's') value *= 1000;
  } else if (metric === 'errors') {
    if (unit === 'ms' || unit === 's') throw new Error(`"${expression}": errors take a percentage`);
  } else if (unit) {
    throw new Error(`"${expression}": ${metric} takes a plain number`);
  }
  const canonical = `${metric}${operator}${rawValue}${unit ?? (LATENCY.includes(metric) ? 'ms' : metric === 'errors' ? '%' : '')}`;
  return { expression: canonical, metric: metric as ThresholdMetric, operator: operator as Operator, value };
}

export interface ThresholdInputs {
  latencyMs: LatencySummary;
  /** Percent of requests that failed. */
  errorPercent: number;
  rps: number;
  requests: number;
}

function compare(actual: number, operator: Operator, expected: number): boolean {
  switch (operator) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
  }
}

export function evaluateThresholds(expressions: string[], inputs: ThresholdInputs): ThresholdResult[] {
  return expressions.map((expression) => {
    const threshold = parseThreshold(expression);
    const actual =
      threshold.metric === 'errors'
        ? inputs.errorPercent
        : threshold.metric === 'rps'
          ? inputs.rps
          : threshold.metric === 'requests'
            ? inputs.requests
            : inputs.latencyMs[threshold.metric];
    return {
      expr: threshold.expression,
      actual,
      passed: compare(actual, threshold.operator, threshold.value),
    };
  });
}

type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

/** Each grade's bounds: both the error rate (percent) and p95 (ms) must be under them; F is the rest. */
const GRADE_BOUNDS: Array<{ grade: Grade; errorPercent: number; p95Ms: number }> = [
  { grade: 'A', errorPercent: 0.1, p95Ms: 200 },
  { grade: 'B', errorPercent: 1, p95Ms: 500 },
  { grade: 'C', errorPercent: 2, p95Ms: 1000 },
  { grade: 'D', errorPercent: 5, p95Ms: 2000 },
];

/** A letter grade from the error rate and the 95th percentile, whatever the thresholds say. */
export function grade(errorPercent: number, p95Ms: number): Grade {
  return GRADE_BOUNDS.find((bound) => errorPercent < bound.errorPercent && p95Ms < bound.p95Ms)?.grade ?? 'F';
}

/** What kept a run from the next better grade, e.g. "60% of requests failed (D needs under 5%)". */
export function gradeReason(errorPercent: number, p95Ms: number): string | null {
  const index = GRADE_BOUNDS.findIndex((bound) => bound.grade === grade(errorPercent, p95Ms));
  const better = GRADE_BOUNDS[index === -1 ? GRADE_BOUNDS.length - 1 : index - 1];
  if (better === undefined) return null;
  return errorPercent >= better.errorPercent
    ? `${errorPercent}% of requests failed (${better.grade} needs under ${better.errorPercent}%)`
    : `p95 was ${p95Ms} ms (${better.grade} needs under ${better.p95Ms} ms)`;
}
