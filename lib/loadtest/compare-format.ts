// A comparison as a terminal table, a Markdown table for a pull-request comment, and a JUnit XML report for CI.

import { formatDecimal, formatMs } from '../http/units.ts';
import { COMPARED_METRICS, type Comparison, type MetricComparison } from './compare.ts';

function value(item: MetricComparison, figure: number): string {
  if (item.metric === 'errors') return `${formatDecimal(figure)}%`;
  if (item.metric === 'rps') return `${formatDecimal(figure)}/s`;
  return formatMs(figure);
}

/** The change as measured, signed: "+31.4%" slower latency or more errors, "−8%" a lower rate. */
function change(item: MetricComparison): string {
  if (item.change === null) return '–';
  const measured = item.metric === 'rps' ? -item.change : item.change;
  const sign = measured > 0 ? '+' : measured < 0 ? '−' : '±';
  return `${sign}${formatDecimal(Math.abs(measured))}${item.unit === 'pp' ? ' pp' : '%'}`;
}

function noise(item: MetricComparison): string {
  return item.pValue === null
    ? `too few seconds (${item.samples[0]}, ${item.samples[1]})`
    : item.pValue < 0.001
      ? 'p<0.001'
      : `p=${Number(item.pValue.toPrecision(2))}`;
}

const tolerance = (item: MetricComparison) =>
  `${formatDecimal(item.tolerance)}${item.unit === 'pp' ? ' pp' : '%'}`;

function rows(comparison: Comparison): string[][] {
  return comparison.steps.flatMap((step) =>
    step.metrics.map((item) => [
      step.step,
      item.metric,
      value(item, item.baseline),
      value(item, item.candidate),
      change(item),
      tolerance(item),
      noise(item),
      item.verdict === 'regression' ? 'REGRESSION' : item.verdict,
    ]),
  );
}

const HEAD = ['step', 'metric', 'baseline', 'candidate', 'change', 'tolerance', 'noise', 'verdict'];

function headline(comparison: Comparison): string {
  const verdict = comparison.regressed
    ? `REGRESSION in ${comparison.regressions.length} of ${comparison.steps.length * COMPARED_METRICS.length} figures`
    : 'no regression';
  return `loadwatch compare: baseline ${comparison.baseline.runId} → candidate ${comparison.candidate.runId}: ${verdict}`;
}

function unmatched(comparison: Comparison): string[] {
  const only = { baseline: comparison.onlyInBaseline, candidate: comparison.onlyInCandidate };
  return Object.entries(only).flatMap(([run, steps]) =>
    steps.length ? [`only in the ${run}: ${steps.join(', ')}`] : [],
  );
}

function method(comparison: Comparison): string {
  const wholeRun = comparison.steps.some((step) => step.metrics.some((item) => item.samplesOf === 'run'));
  const samples = wholeRun
    ? "each step's per-second samples, the whole run's where a report keeps none for the step"
    : "each step's per-second samples";
  return `A regression is over its tolerance and significant (one-sided Mann-Whitney U on ${samples}, p95 on the per-second p99s, p < ${comparison.significance}).`;
}

export function formatComparison(comparison: Comparison): string {
  const table = [HEAD, ...rows(comparison)];
  const widths = HEAD.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const lines = table.map((row) =>
    `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`.trimEnd(),
  );
  return [
    '',
    headline(comparison),
    ...lines,
    ...unmatched(comparison).map((line) => `  ${line}`),
    `  ${method(comparison)}`,
    '',
  ].join('\n');
}

const markdownCell = (text: string) => text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

export function formatComparisonMarkdown(comparison: Comparison): string {
  const title = comparison.regressed ? '### ❌ Load test regression' : '### ✅ No load test regression';
  const body = rows(comparison).map(
    (row) =>
      `| ${row.map((cell, column) => (column === 7 && cell === 'REGRESSION' ? '**REGRESSION**' : markdownCell(cell))).join(' | ')} |`,
  );
  return [
    title,
    '',
    `Baseline \`${comparison.baseline.runId}\` → candidate \`${comparison.candidate.runId}\` (${markdownCell(comparison.candidate.target)}).`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map((_, column) => (column >= 2 && column <= 5 ? '---:' : '---')).join(' | ')} |`,
    ...body,
    '',
    ...unmatched(comparison).map((line) => `${markdownCell(line)}  `),
    method(comparison),
    '',
  ].join('\n');
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** XML 1.0 holds no control character but tab, line feed and carriage return. */
function allowedInXml(character: string): boolean {
  const code = character.charCodeAt(0);
  return code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Text for an XML attribute or element: escaped, and without the characters XML cannot hold. */
function xml(text: string): string {
  return [...text]
    .filter(allowedInXml)
    .join('')
    .replace(/[&<>"']/g, (character) => XML_ESCAPES[character] ?? character);
}

/** One test case per step and metric; a regression is a failure, anything else passes. */
export function formatComparisonJunit(comparison: Comparison): string {
  const cases = comparison.steps.flatMap((step) =>
    step.metrics.map((item) => {
      const name = `${step.step} ${item.metric}`;
      const detail = `baseline ${value(item, item.baseline)}, candidate ${value(item, item.candidate)}, change ${change(item)} (tolerance ${tolerance(item)}), ${noise(item)}: ${item.verdict}`;
      const failure =
        item.verdict === 'regression'
          ? `<failure message="${xml(`${name} regressed: ${change(item)}`)}" type="regression">${xml(detail)}</failure>`
          : `<system-out>${xml(detail)}</system-out>`;
      return `    <testcase classname="loadwatch.compare" name="${xml(name)}">${failure}</testcase>`;
    }),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="${xml(`loadwatch compare ${comparison.baseline.runId} → ${comparison.candidate.runId}`)}" tests="${cases.length}" failures="${comparison.regressions.length}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
