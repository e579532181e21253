// compareReports: a change counts as a regression only over its tolerance and beyond the noise of the runs'
// per-second samples; the tolerance's grammar; and the table, Markdown and JUnit forms of the result.

import { describe, expect, it } from 'vitest';
import {
  CompareInputError,
  compareReports,
  DEFAULT_TOLERANCE,
  type MetricComparison,
  parseTolerance,
} from '../../lib/loadtest/compare.ts';
import {
  formatComparison,
  formatComparisonJunit,
  formatComparisonMarkdown,
} from '../../lib/loadtest/compare-format.ts';
import type { ReportWithSteps } from '../../lib/loadtest/step-report.ts';
import { reportOf } from '../support/report.ts';
import { latencyAround, stepOf } from '../support/steps.ts';
import { seededRandom } from '../support/synthetic-shards.ts';

interface RunShape {
  runId: string;
  /** Median latency; each second draws within ±spread of it. */
  p50: number;
  seconds?: number;
  spread?: number;
  errorPercent?: number;
  requestsPerSecond?: number;
  seed?: number;
}

/** A finished run of one endpoint whose per-second samples and whole-run figures agree with the shape. */
function runReport(shape: RunShape): ReportWithSteps {
  // As a report stored before steps were recorded: its whole run is its one step.
  const {
    steps: _steps,
    checks: _checks,
    ...base
  } = reportOf({ target: 'http://127.0.0.1:9', endpoint: '/orders', rate: 10, duration: 5 }, []);
  const random = seededRandom(shape.seed ?? 1);
  const seconds = shape.seconds ?? 10;
  const rate = shape.requestsPerSecond ?? 100;
  const errorPercent = shape.errorPercent ?? 0;
  const spread = shape.spread ?? 0.03;
  const timeline = Array.from({ length: seconds }, (_, second) => {
    const factor = 1 + (random() * 2 - 1) * spread;
    return {
      second,
      requests: rate,
      errors: Math.round((rate * errorPercent) / 100),
      p50: shape.p50 * factor,
      p99: shape.p50 * 3 * factor,
    };
  });
  const requests = rate * seconds;
  const failed = Math.round((requests * errorPercent) / 100);
  return {
    ...base,
    runId: shape.runId,
    timeline,
    latencyMs: latencyAround(shape.p50),
    rps: rate,
    errorPercent,
    totals: { requests, ok: requests - failed, failed },
  };
}

const metric = (result: ReturnType<typeof compareReports>, name: string): MetricComparison => {
  const found = result.steps[0]?.metrics.find((item) => item.metric === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
};

describe('compareReports', () => {
  const baseline = runReport({ runId: 'base', p50: 100 });

  it('finds no regression when the candidate measures the same within a few percent', () => {
    const result = compareReports(baseline, runReport({ runId: 'same', p50: 102, seed: 2 }));
    expect(result.regressed).toBe(false);
    expect(result.steps.map((step) => step.step)).toEqual(['GET /orders']);
    expect(result.steps[0]?.metrics.map((item) => item.verdict)).toEqual(Array(5).fill('within tolerance'));
    expect(metric(result, 'p50')).toMatchObject({ baseline: 100, candidate: 102, change: 2, unit: '%' });
    // A run of one step: its per-second samples are the run's, which are the step's own.
    expect(metric(result, 'p50').samplesOf).toBe('step');
  });

  it('marks a 30 % slowdown a regression on p50, p95 and p99 with a significant p-value', () => {
    const result = compareReports(baseline, runReport({ runId: 'slow', p50: 130, seed: 3 }));
    expect(result.regressed).toBe(true);
    expect(result.regressions.map((item) => [item.metric, item.change])).toEqual([
      ['p50', 30],
      ['p95', 30],
      ['p99', 30],
    ]);
    for (const item of result.regressions) expect(item.pValue).toBeLessThan(0.001);
    expect(metric(result, 'errors').verdict).toBe('within tolerance');
    // Five seconds against five, every one slower: the exact p of 1/252, printed to two digits.
    const short = compareReports(
      runReport({ runId: 'a', p50: 100, seconds: 5 }),
      runReport({ runId: 'b', p50: 130, seconds: 5 }),
    );
    expect(formatComparison(short)).toMatch(
      /GET \/orders +p50 +100 ms +130 ms +\+30% +10% +p=0\.004 +REGRESSION/,
    );
  });

  it('keeps a change over tolerance out of the regressions when the seconds overlap as noise does', () => {
    const noisy = { spread: 0.5, seconds: 6 };
    const result = compareReports(
      runReport({ runId: 'a', p50: 100, ...noisy, seed: 4 }),
      runReport({ runId: 'b', p50: 112, ...noisy, seed: 5 }),
    );
    expect(metric(result, 'p50')).toMatchObject({
      change: 12,
      overTolerance: true,
      verdict: 'over tolerance, within noise',
    });
    expect(metric(result, 'p50').pValue).toBeGreaterThan(0.05);
    expect(result.regressed).toBe(false);
  });

  it('says a run is too short to judge when it has under four seconds of samples', () => {
    const result = compareReports(baseline, runReport({ runId: 'short', p50: 200, seconds: 3 }));
    expect(metric(result, 'p99')).toMatchObject({
      pValue: null,
      samples: [10, 3],
      verdict: 'too short to judge',
    });
    expect(result.regressed).toBe(false);
  });

  it('judges errors in percentage points and a lower rate as worse', () => {
    const result = compareReports(
      baseline,
      runReport({ runId: 'worse', p50: 100, errorPercent: 2, requestsPerSecond: 80, seed: 1 }),
    );
    expect(metric(result, 'errors')).toMatchObject({
      baseline: 0,
      candidate: 2,
      change: 2,
      unit: 'pp',
      verdict: 'regression',
    });
    expect(metric(result, 'rps')).toMatchObject({
      baseline: 100,
      candidate: 80,
      change: 20,
      verdict: 'regression',
    });
    expect(formatComparison(result)).toMatch(
      /GET \/orders +rps +100\/s +80\/s +−20% +10% +p<0\.001 +REGRESSION/,
    );
    const looser = compareReports(
      baseline,
      runReport({ runId: 'worse', p50: 100, errorPercent: 2, requestsPerSecond: 80, seed: 1 }),
      { tolerance: parseTolerance('errors=3pp,rps=25%') },
    );
    expect(looser.regressed).toBe(false);
  });

  it('compares the steps both runs have and lists the others', () => {
    const withSteps = (report: ReportWithSteps, names: string[]) => ({
      ...report,
      steps: names.map((name) => ({
        ...stepOf({ name, path: '/x', requests: 1000, statusCodes: { '200': 1000 } }),
        latencyMs: report.latencyMs,
      })),
    });
    const result = compareReports(
      withSteps(baseline, ['login', 'browse']),
      withSteps(runReport({ runId: 'c', p50: 101 }), ['login', 'checkout']),
    );
    expect(result.steps.map((step) => step.step)).toEqual(['login']);
    expect(result.onlyInBaseline).toEqual(['browse']);
    expect(result.onlyInCandidate).toEqual(['checkout']);
    expect(() => compareReports(withSteps(baseline, ['a']), withSteps(baseline, ['b']))).toThrow(
      new CompareInputError(['the runs have no step in common (baseline base: a; candidate base: b)']),
    );
  });
});

describe('parseTolerance', () => {
  it('takes the defaults and overrides the metrics given', () => {
    expect(parseTolerance(undefined)).toEqual(DEFAULT_TOLERANCE);
    expect(parseTolerance('p95=5%, errors=0.1pp')).toEqual({ ...DEFAULT_TOLERANCE, p95: 5, errors: 0.1 });
  });

  it('names every entry that is not metric=value in its unit', () => {
    expect(() => parseTolerance('p95=10,latency=5%,errors=1%,x')).toThrow(CompareInputError);
    try {
      parseTolerance('p95=10,latency=5%,errors=1%,x');
    } catch (error) {
      expect((error as CompareInputError).problems).toEqual([
        '--max-regression: p95 takes a percentage of the baseline, as p95=10% (got "p95=10")',
        '--max-regression: "latency" is not a compared metric (one of p50, p95, p99, errors, rps)',
        '--max-regression: errors takes percentage points, as errors=0.5pp (got "errors=1%")',
        '--max-regression: "x" is not metric=value (e.g. "p95=10%", "errors=0.5pp")',
      ]);
    }
  });
});

describe('comparison outputs', () => {
  const named = (report: ReportWithSteps) => ({
    ...report,
    steps: [
      {
        ...stepOf({ name: 'a <b> & "c"', path: '/x', requests: 1000, statusCodes: { '200': 1000 } }),
        latencyMs: report.latencyMs,
      },
    ],
  });
  const result = compareReports(
    named(runReport({ runId: 'base', p50: 100 })),
    named(runReport({ runId: 'slow', p50: 130, seed: 9 })),
  );

  it('writes a Markdown table with the regressions in bold for a pull-request comment', () => {
    const markdown = formatComparisonMarkdown(result);
    expect(markdown).toContain('### ❌ Load test regression');
    expect(markdown).toContain(
      '| step | metric | baseline | candidate | change | tolerance | noise | verdict |',
    );
    expect(markdown).toMatch(
      /\| a <b> & "c" \| p95 \| 200 ms \| 260 ms \| \+30% \| 10% \| p<0\.001 \| \*\*REGRESSION\*\* \|/,
    );
  });

  it('writes JUnit XML with a failing test case per regression and the names escaped', () => {
    const junit = formatComparisonJunit(result);
    expect(junit).toContain('tests="5" failures="3"');
    expect(junit.match(/<testcase /g)).toHaveLength(5);
    expect(junit.match(/<failure /g)).toHaveLength(3);
    expect(junit).toContain('name="a &lt;b&gt; &amp; &quot;c&quot; p99"');
    expect(junit).not.toContain('<b>');
  });
});
