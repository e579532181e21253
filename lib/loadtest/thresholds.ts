// Pass/fail thresholds such as "p95<300", "errors<1%" or "rps>=100", evaluated against a report.

import type { LatencySummary } from './histogram.ts';

export type ThresholdMetric = keyof LatencySummary | 'errors' | 'rps' | 'requests';
type Operator = '<' | '<=' | '>' | '>=' | '==';

export interface Threshold {
  expression: string;
  metric: ThresholdMetric;
  operator: Operator;
  /** Milliseconds for latencies, percent for errors, a plain number otherwise. */
  value: number;
}

export interface ThresholdResult {
  expr: string;
  actual: number;
  passed: boolean;
}

const LATENCY = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'];
const METRICS = [...LATENCY, 'errors', 'rps', 'requests'];
const PATTERN = /^\s*([a-z0-9]+)\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$/i;

export function parseThreshold(expression: string): Threshold {
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

/** A letter grade from the error rate and the 95th percentile, whatever the thresholds say. */
export function grade(errorPercent: number, p95Ms: number): 'A' | 'B' | 'C' | 'D' | 'F' {
  if (errorPercent < 0.1 && p95Ms < 200) return 'A';
  if (errorPercent < 1 && p95Ms < 500) return 'B';
  if (errorPercent < 2 && p95Ms < 1000) return 'C';
  if (errorPercent < 5 && p95Ms < 2000) return 'D';
  return 'F';
}
