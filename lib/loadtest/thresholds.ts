// Pass/fail thresholds such as "p95<300", "errors<1%", "rps>=100", "p95{step:login}<300" or
// "checks{check:has-token}==100%", evaluated against a report's figures, its steps and its checks.
//
// The grammar is metric, optional tags in braces, comparison, value with its unit, then optional suffixes after a
// colon: each piece has its own small parser below, and ":abort[:grace]" marks one that stops the run as soon as it is lost.

import type { LatencySummary } from './histogram.ts';
import type { ReportCheck, StepReport } from './steps.ts';

export type ThresholdMetric = keyof LatencySummary | 'errors' | 'rps' | 'requests' | 'checks';
type Operator = '<' | '<=' | '>' | '>=' | '==';

/** What a threshold is narrowed to: one step's figures, or the checks of one name (and of one step). */
export interface ThresholdTags {
  step?: string;
  check?: string;
}

export interface Threshold {
  expression: string;
  metric: ThresholdMetric;
  tags: ThresholdTags;
  operator: Operator;
  /** Milliseconds for latencies, percent for errors and checks, a plain number otherwise. */
  value: number;
  /** Marked `:abort[:grace]`: judged live across the shards, and once lost the run stops (lib/loadtest/live.ts). */
  abort?: AbortRule;
}

export interface ThresholdResult {
  /** Threshold.expression; stored and served as `expr`, which stored reports and API clients read. */
  expr: string;
  /** The measured figure; null when the threshold could not be judged (see `problem`). */
  actual: number | null;
  passed: boolean;
  /** The threshold applied because none was set (DEFAULT_THRESHOLD). */
  default?: true;
  /** Why it could not be judged, e.g. a step the run does not have; such a threshold does not pass. */
  problem?: string;
}

/**
 * Applied when a run sets no threshold, like k6's http_req_failed: a run in which every request failed
 * does not pass, whatever else it measured.
 */
export const DEFAULT_THRESHOLD = 'errors<100%';

/** Every figure of a latency summary, in the order reports list them. */
export const LATENCY_METRICS: Array<keyof LatencySummary> = [
  'min',
  'mean',
  'p50',
  'p90',
  'p95',
  'p99',
  'p999',
  'max',
];
const LATENCY: string[] = LATENCY_METRICS;
const PERCENT_METRICS = ['errors', 'checks'];
const METRICS = [...LATENCY, 'errors', 'rps', 'requests', 'checks'];
const TAG_KEYS = ['step', 'check'] as const;
const EXAMPLES = '"p95<300", "errors<1%", "rps>=100", "p95{step:login}<300"';
const PATTERN =
  /^\s*([a-z0-9]+)\s*(?:\{([^}]*)\})?\s*(<=|>=|==|<|>)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?\s*(?::(.*))?$/i;

/** "{step:login}" or "{step:checkout,check:paid}": a step and a check name at most, neither empty. */
function parseTags(expression: string, metric: string, raw: string | undefined): ThresholdTags {
  if (raw === undefined) return {};
  const tags: ThresholdTags = {};
  for (const part of raw.split(',')) {
    const colon = part.indexOf(':');
    const key = (colon === -1 ? part : part.slice(0, colon)).trim().toLowerCase();
    const value = colon === -1 ? '' : part.slice(colon + 1).trim();
    if (!(TAG_KEYS as readonly string[]).includes(key))
      throw new Error(
        `"${expression}": "${key}" is not a tag (one of ${TAG_KEYS.join(', ')}, as {step:login})`,
      );
    const tag = key as (typeof TAG_KEYS)[number];
    if (value === '') throw new Error(`"${expression}": the ${tag} tag needs a name, as {${tag}:login}`);
    if (tags[tag] !== undefined) throw new Error(`"${expression}": the ${tag} tag is given twice`);
    tags[tag] = value;
  }
  if (tags.check !== undefined && metric !== 'checks')
    throw new Error(
      `"${expression}": the check tag applies to checks only, as checks{check:${tags.check}}==100%`,
    );
  return tags;
}

function canonicalTags(tags: ThresholdTags): string {
  const parts = TAG_KEYS.flatMap((key) => (tags[key] === undefined ? [] : [`${key}:${tags[key]}`]));
  return parts.length ? `{${parts.join(',')}}` : '';
}

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
    throw new Error(`"${expression}" is not a threshold (metric, {tags}, operator, value: e.g. ${EXAMPLES})`);
  }
  const [, rawMetric, rawTags, operator, rawValue, unit] = match;
  const metric = (rawMetric ?? '').toLowerCase();
  if (!METRICS.includes(metric))
    throw new Error(`"${rawMetric}" is not a metric (one of ${METRICS.join(', ')})`);
  const tags = parseTags(expression, metric, rawTags);
  let value = Number(rawValue);
  if (LATENCY.includes(metric)) {
    if (unit === '%') throw new Error(`"${expression}": a latency takes ms or s, not %`);
    if (unit === 's') value *= 1000;
  } else if (PERCENT_METRICS.includes(metric)) {
    if (unit === 'ms' || unit === 's') throw new Error(`"${expression}": ${metric} take a percentage`);
    if (value > 100) throw new Error(`"${expression}": ${metric} are a percentage, at most 100%`);
  } else if (unit) {
    throw new Error(`"${expression}": ${metric} takes a plain number`);
  }
  const shownUnit = unit ?? (LATENCY.includes(metric) ? 'ms' : PERCENT_METRICS.includes(metric) ? '%' : '');
  return {
    expression: `${metric}${canonicalTags(tags)}${operator}${rawValue}${shownUnit}`,
    metric: metric as ThresholdMetric,
    tags,
    operator: operator as Operator,
    value,
  };
}

/** Known names, quoted and listed for a message, at most ten of them. */
function listNames(names: string[]): string {
  const unique = [...new Set(names)];
  const shown = unique.slice(0, 10).map((name) => `"${name}"`);
  return `${shown.join(', ')}${unique.length > shown.length ? `, and ${unique.length - shown.length} more` : ''}`;
}

function unknownStep(step: string, steps: string[]): string {
  return `no step "${step}" in this run (${steps.length ? `steps: ${listNames(steps)}` : 'it has no steps'})`;
}

/**
 * What is wrong with the step names of these thresholds, when the steps are known before the run (the endpoint
 * shorthand: one step "METHOD /path" per endpoint); one line per threshold naming a step that does not exist.
 */
export function unknownThresholdSteps(expressions: string[], steps: string[]): string[] {
  return expressions.flatMap((expression) => {
    const { tags } = parseThreshold(expression);
    return tags.step !== undefined && !steps.includes(tags.step)
      ? [`"${expression}": ${unknownStep(tags.step, steps)}`]
      : [];
  });
}

export interface ThresholdInputs {
  latencyMs: LatencySummary;
  /** Percent of requests that failed. */
  errorPercent: number;
  rps: number;
  requests: number;
  /** The run's steps (the report's, or the live ones); without them a threshold tagged with a step cannot be judged. */
  steps?: Array<Pick<StepReport, 'name' | 'latencyMs' | 'errorPercent' | 'rps' | 'requests'>>;
  /** Every check of every step. */
  checks?: ReportCheck[];
}

const COMPARE: Record<Operator, (actual: number, expected: number) => boolean> = {
  '<': (actual, expected) => actual < expected,
  '<=': (actual, expected) => actual <= expected,
  '>': (actual, expected) => actual > expected,
  '>=': (actual, expected) => actual >= expected,
  '==': (actual, expected) => actual === expected,
};

/** A percentage kept to three decimals, never rounded up to 100 (which "==100%" would then accept). */
const passRate = (passed: number, total: number) => {
  const exact = (passed / total) * 100;
  return exact < 100 ? Math.min(Math.round(exact * 1000) / 1000, 99.999) : 100;
};

/** The figure a threshold reads, or why there is none. */
function measure(threshold: Threshold, inputs: ThresholdInputs): { actual: number } | { problem: string } {
  const { metric, tags } = threshold;
  const steps = inputs.steps ?? [];
  const step = tags.step === undefined ? undefined : steps.find((item) => item.name === tags.step);
  if (tags.step !== undefined && step === undefined)
    return {
      problem: unknownStep(
        tags.step,
        steps.map((item) => item.name),
      ),
    };
  if (metric === 'checks') {
    const all = inputs.checks ?? [];
    const ofStep = tags.step === undefined ? all : all.filter((check) => check.step === tags.step);
    const named = tags.check === undefined ? ofStep : ofStep.filter((check) => check.name === tags.check);
    if (tags.check !== undefined && named.length === 0) {
      const known = ofStep.map((check) => check.name);
      return {
        problem: `no check "${tags.check}"${tags.step === undefined ? '' : ` on step "${tags.step}"`} in this run (${known.length ? `checks: ${listNames(known)}` : 'it has no checks'})`,
      };
    }
    const passed = named.reduce((sum, check) => sum + check.passed, 0);
    const total = named.reduce((sum, check) => sum + check.passed + check.failed, 0);
    if (total === 0) {
      if (all.length === 0) return { problem: 'this run has no checks (checks come with scenario steps)' };
      if (ofStep.length === 0)
        return {
          problem: `step "${tags.step}" has no checks (steps with checks: ${listNames(all.map((check) => check.step))})`,
        };
      return { problem: 'no check ran' };
    }
    return { actual: passRate(passed, total) };
  }
  const figures = step ?? inputs;
  if (metric === 'errors') return { actual: figures.errorPercent };
  if (metric === 'rps' || metric === 'requests') return { actual: figures[metric] };
  return { actual: figures.latencyMs[metric] };
}

export function evaluateThresholds(expressions: string[], inputs: ThresholdInputs): ThresholdResult[] {
  return expressions.map((expression) => {
    const threshold = parseThreshold(expression);
    const measured = measure(threshold, inputs);
    if ('problem' in measured)
      return { expr: threshold.expression, actual: null, passed: false, problem: measured.problem };
    return {
      expr: threshold.expression,
      actual: measured.actual,
      passed: COMPARE[threshold.operator](measured.actual, threshold.value),
    };
  });
}

/** "%" or " ms" after a threshold's actual value, from the unit its canonical form ends with. */
function unitOf(expression: string): string {
  const { condition } = parseAbortSuffix(expression);
  return condition.endsWith('%') ? '%' : condition.endsWith('ms') ? ' ms' : '';
}

/** A threshold and what it measured, e.g. "p95{step:login}<300ms (actual 320 ms)" or why it was not judged. */
export function describeThresholdResult(result: ThresholdResult): string {
  if (result.actual === null || result.actual === undefined)
    return `${result.expr} (not judged: ${result.problem ?? 'no figure'})`;
  return `${result.expr} (actual ${Math.round(result.actual * 100) / 100}${unitOf(result.expr)})`;
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
