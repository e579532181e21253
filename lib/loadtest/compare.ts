// Compares a candidate run with a baseline, step by step: a change is a regression only when it is over its
// tolerance and the candidate's per-second samples of that step are worse than the baseline's beyond run-to-run
// noise.

import { InputError } from '../errors.ts';
import { mannWhitneyGreater } from './compare-statistics.ts';
import { type ReportWithSteps, reportSteps } from './step-report.ts';
import type { StepReport } from './steps.ts';
import type { TimelinePoint } from './timeline.ts';

export const COMPARED_METRICS = ['p50', 'p95', 'p99', 'errors', 'rps'] as const;
export type ComparedMetric = (typeof COMPARED_METRICS)[number];

/** Latencies and the rate change by a percentage of the baseline; errors by percentage points. */
export type Tolerance = Record<ComparedMetric, number>;

export const DEFAULT_TOLERANCE: Tolerance = { p50: 10, p95: 10, p99: 15, errors: 0.5, rps: 10 };

/** A change whose p-value is under this is beyond run-to-run noise. */
export const DEFAULT_SIGNIFICANCE = 0.05;

/** Fewest per-second samples a run needs for the test to reach significance: 4 against 4 gives p = 1/70. */
export const MIN_SAMPLES = 4;

const UNIT: Record<ComparedMetric, '%' | 'pp'> = { p50: '%', p95: '%', p99: '%', errors: 'pp', rps: '%' };

export class CompareInputError extends InputError {
  constructor(problems: string[]) {
    super(problems, 'COMPARE_INPUT', 'cannot compare');
  }
}

/** "p95=10%,errors=0.5pp": the tolerances given, over the defaults; every bad entry named. */
export function parseTolerance(text: string | undefined): Tolerance {
  const tolerance = { ...DEFAULT_TOLERANCE };
  if (text === undefined) return tolerance;
  const problems: string[] = [];
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = entry.match(/^([a-z0-9]+)\s*=\s*(\d+(?:\.\d+)?)\s*(%|pp)?$/i);
    const metric = match?.[1]?.toLowerCase() as ComparedMetric | undefined;
    if (!match || metric === undefined) {
      problems.push(`--max-regression: "${entry}" is not metric=value (e.g. "p95=10%", "errors=0.5pp")`);
      continue;
    }
    if (!COMPARED_METRICS.includes(metric)) {
      problems.push(
        `--max-regression: "${match[1]}" is not a compared metric (one of ${COMPARED_METRICS.join(', ')})`,
      );
      continue;
    }
    const unit = match[3]?.toLowerCase();
    if (unit !== UNIT[metric]) {
      problems.push(
        `--max-regression: ${metric} takes ${UNIT[metric] === 'pp' ? 'percentage points, as errors=0.5pp' : `a percentage of the baseline, as ${metric}=10%`} (got "${entry}")`,
      );
      continue;
    }
    tolerance[metric] = Number(match[2]);
  }
  if (problems.length) throw new CompareInputError(problems);
  return tolerance;
}

export type Verdict =
  | 'regression'
  | 'over tolerance, within noise'
  | 'within tolerance'
  | 'too short to judge'
  | 'not measured';

export interface MetricComparison {
  metric: ComparedMetric;
  /** Milliseconds for latencies, percent for errors, requests per second for rps. */
  baseline: number;
  candidate: number;
  /** Worse is positive: percent of the baseline for latencies and rps, percentage points for errors. */
  change: number | null;
  unit: '%' | 'pp';
  tolerance: number;
  overTolerance: boolean;
  /** One-sided Mann-Whitney U on the runs' per-second samples; null when they are too few. */
  pValue: number | null;
  samples: [number, number];
  /**
   * Whose per-second samples the noise was judged on: the step's own timeline, or the whole run's when either
   * report keeps none for the step (reports from before per-step timelines).
   */
  samplesOf: 'step' | 'run';
  verdict: Verdict;
}

export interface Comparison {
  baseline: { runId: string; target: string };
  candidate: { runId: string; target: string };
  tolerance: Tolerance;
  significance: number;
  steps: Array<{ step: string; metrics: MetricComparison[] }>;
  /** Steps found in one run only: listed, never judged. */
  onlyInBaseline: string[];
  onlyInCandidate: string[];
  regressions: Array<
    Pick<MetricComparison, 'metric' | 'unit'> & { step: string; change: number; pValue: number }
  >;
  regressed: boolean;
}

/**
 * The per-second samples a metric is judged on, oriented so that larger is worse. The timeline keeps p50 and
 * p99 per second, so p95 is judged on the p99 samples; the last second (cut short by the run's end) is left
 * out of the rate.
 */
function perSecond(timeline: TimelinePoint[], metric: ComparedMetric): number[] {
  const seconds = timeline.filter((point) => point.requests > 0);
  return (metric === 'rps' ? seconds.slice(0, -1) : seconds).map(PER_SECOND[metric]);
}

const PER_SECOND: Record<ComparedMetric, (point: TimelinePoint) => number> = {
  p50: (point) => point.p50,
  p95: (point) => point.p99,
  p99: (point) => point.p99,
  errors: (point) => (point.errors / point.requests) * 100,
  rps: (point) => -point.requests,
};

function figure(step: StepReport, metric: ComparedMetric): number {
  return metric === 'errors' ? step.errorPercent : metric === 'rps' ? step.rps : step.latencyMs[metric];
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** How much worse the candidate is, in the metric's unit; null when the baseline gives nothing to scale by. */
function worsening(metric: ComparedMetric, baseline: number, candidate: number): number | null {
  if (metric === 'errors') return round(candidate - baseline);
  if (baseline <= 0) return null;
  const relative = ((candidate - baseline) / baseline) * 100;
  return round(metric === 'rps' ? -relative : relative);
}

function compareMetric(
  metric: ComparedMetric,
  steps: { baseline: StepReport; candidate: StepReport },
  timelines: { baseline: TimelinePoint[]; candidate: TimelinePoint[]; of: 'step' | 'run' },
  tolerance: Tolerance,
  significance: number,
): MetricComparison {
  const baseline = figure(steps.baseline, metric);
  const candidate = figure(steps.candidate, metric);
  const change = worsening(metric, baseline, candidate);
  const overTolerance = change !== null && change > tolerance[metric];
  const a = perSecond(timelines.baseline, metric);
  const b = perSecond(timelines.candidate, metric);
  const judgeable = a.length >= MIN_SAMPLES && b.length >= MIN_SAMPLES;
  const pValue = judgeable ? round(mannWhitneyGreater(a, b).pValue, 6) : null;
  const verdict: Verdict =
    change === null
      ? 'not measured'
      : !overTolerance
        ? 'within tolerance'
        : pValue === null
          ? 'too short to judge'
          : pValue < significance
            ? 'regression'
            : 'over tolerance, within noise';
  return {
    metric,
    baseline,
    candidate,
    change,
    unit: UNIT[metric],
    tolerance: tolerance[metric],
    overTolerance,
    pValue,
    samples: [a.length, b.length],
    samplesOf: timelines.of,
    verdict,
  };
}

/** A step's own per-second points: its timeline, or the run's for a run of that one step (which keeps none). */
function stepTimeline(run: ReportWithSteps, step: StepReport): TimelinePoint[] | undefined {
  return step.timeline?.points ?? (reportSteps(run).length === 1 ? run.timeline : undefined);
}

/** The samples a step is judged on: its own when both reports have them, else the whole runs'. */
function timelinesOf(
  runs: { baseline: ReportWithSteps; candidate: ReportWithSteps },
  steps: { baseline: StepReport; candidate: StepReport },
): { baseline: TimelinePoint[]; candidate: TimelinePoint[]; of: 'step' | 'run' } {
  const before = stepTimeline(runs.baseline, steps.baseline);
  const after = stepTimeline(runs.candidate, steps.candidate);
  if (before && after) return { baseline: before, candidate: after, of: 'step' };
  return { baseline: runs.baseline.timeline, candidate: runs.candidate.timeline, of: 'run' };
}

export function compareReports(
  baseline: ReportWithSteps,
  candidate: ReportWithSteps,
  options: { tolerance?: Tolerance; significance?: number } = {},
): Comparison {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const significance = options.significance ?? DEFAULT_SIGNIFICANCE;
  const baselineSteps = reportSteps(baseline);
  const candidateSteps = reportSteps(candidate);
  const steps: Comparison['steps'] = [];
  for (const step of candidateSteps) {
    const before = baselineSteps.find((item) => item.name === step.name);
    if (!before) continue;
    const pair = { baseline: before, candidate: step };
    const timelines = timelinesOf({ baseline, candidate }, pair);
    steps.push({
      step: step.name,
      metrics: COMPARED_METRICS.map((metric) =>
        compareMetric(metric, pair, timelines, tolerance, significance),
      ),
    });
  }
  const names = (list: StepReport[]) => list.map((step) => step.name);
  if (steps.length === 0)
    throw new CompareInputError([
      `the runs have no step in common (baseline ${baseline.runId}: ${names(baselineSteps).join(', ')}; candidate ${candidate.runId}: ${names(candidateSteps).join(', ')})`,
    ]);
  const regressions = steps.flatMap((step) =>
    step.metrics
      .filter((item) => item.verdict === 'regression')
      .map((item) => ({
        step: step.step,
        metric: item.metric,
        change: item.change as number,
        unit: item.unit,
        pValue: item.pValue as number,
      })),
  );
  return {
    baseline: { runId: baseline.runId, target: baseline.target },
    candidate: { runId: candidate.runId, target: candidate.target },
    tolerance,
    significance,
    steps,
    onlyInBaseline: names(baselineSteps).filter((name) => !names(candidateSteps).includes(name)),
    onlyInCandidate: names(candidateSteps).filter((name) => !names(baselineSteps).includes(name)),
    regressions,
    regressed: regressions.length > 0,
  };
}
