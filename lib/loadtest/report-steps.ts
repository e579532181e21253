// The load-test report's steps: a table of each step's figures, its checks, and a chart of latency by step.

import { escapeHtml } from '../http/html.ts';
import { CHART_WIDTH, emptyChart, latencyAxis, MARGIN, PLOT_WIDTH, round1 } from '../http/svg-chart.ts';
import { formatCount, formatDecimal, formatMs } from '../http/units.ts';
import { card, table } from './report-cards.ts';
import { COLORS, figure, legend } from './report-charts.ts';
import {
  describeFailures,
  formatPassRate,
  type ReportWithSteps,
  reportChecks,
  reportSteps,
  stepName,
  WHOLE_RUN_STEP,
} from './step-report.ts';
import type { StepReport } from './steps.ts';
import { heldRate } from './verdict.ts';

/** Height of one step's row in the chart: three bars and the gaps around them. */
const STEP_ROW_HEIGHT = 36;
/** Characters of a step's name drawn beside its bars; the full name is in the row's tooltip. */
const STEP_LABEL_CHARS = 22;
const BAR_SERIES = [
  ['p50', COLORS.p50],
  ['p95', COLORS.p95],
  ['p99', COLORS.p99],
] as const;

function shortName(name: string): string {
  return name.length > STEP_LABEL_CHARS ? `${name.slice(0, STEP_LABEL_CHARS - 1)}…` : name;
}

/** p50, p95 and p99 of each step as horizontal bars on one latency axis, a row per step. */
export function stepLatencyChart(steps: StepReport[]): string {
  const id = 'chart-steps';
  const label = 'Latency p50, p95 and p99 by step';
  const caption = 'p50, p95 and p99 of each step over the whole run.';
  const keys = legend(BAR_SERIES.map(([key, color]) => [color, key]));
  if (steps.every((step) => step.requests === 0))
    return figure('Latency by step', caption, keys, emptyChart(id, label, 'No requests were recorded'));
  const left = MARGIN.left + 120;
  const plotWidth = PLOT_WIDTH - 120;
  const height = MARGIN.top + steps.length * STEP_ROW_HEIGHT + MARGIN.bottom;
  const baseline = MARGIN.top + steps.length * STEP_ROW_HEIGHT;
  const axis = latencyAxis(Math.max(1, ...steps.map((step) => step.latencyMs.p99)));
  const x = (value: number) => round1((Math.min(value, axis.top) / axis.top) * plotWidth);
  const parts = [
    `<svg id="${id}" class="chart" viewBox="0 0 ${CHART_WIDTH} ${height}" role="img" aria-label="${escapeHtml(label)}" preserveAspectRatio="xMidYMid meet">`,
  ];
  for (const tick of axis.ticks) {
    const at = round1(left + x(tick));
    parts.push(
      `<line class="grid" x1="${at}" x2="${at}" y1="${MARGIN.top}" y2="${baseline}"/>`,
      `<text class="tick" x="${at}" y="${baseline + 18}" text-anchor="middle">${escapeHtml(axis.format(tick))}</text>`,
    );
  }
  steps.forEach((step, index) => {
    const top = MARGIN.top + index * STEP_ROW_HEIGHT;
    const tip = `${step.name}: p50 ${formatMs(step.latencyMs.p50)} · p95 ${formatMs(step.latencyMs.p95)} · p99 ${formatMs(step.latencyMs.p99)}`;
    parts.push(
      `<g class="step-row"><title>${escapeHtml(tip)}</title>`,
      `<text class="tick" x="${left - 8}" y="${top + STEP_ROW_HEIGHT / 2}" text-anchor="end" dominant-baseline="middle">${escapeHtml(shortName(step.name))}</text>`,
      ...BAR_SERIES.map(([key], bar) => {
        const width = Math.max(step.latencyMs[key] > 0 ? 1 : 0, x(step.latencyMs[key]));
        return `<rect class="step-bar ${key}" x="${left}" y="${top + 5 + bar * 9}" width="${width}" height="8"/>`;
      }),
      '</g>',
    );
  });
  parts.push(
    `<line class="axis" x1="${left}" x2="${left}" y1="${MARGIN.top}" y2="${baseline}"/>`,
    `<text class="axis-title" x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">latency</text>`,
    '</svg>',
  );
  return figure('Latency by step', caption, keys, parts.join(''));
}

function stepTable(report: ReportWithSteps, steps: StepReport[]): string {
  const rate = heldRate(report);
  return table(
    ['Step', 'Requests', 'req/s', 'p50', 'p95', 'p99', 'Errors', 'Failed checks'],
    steps.map((step) => {
      const failedChecks = step.checks.reduce((sum, check) => sum + check.failed, 0);
      return [
        step.name === WHOLE_RUN_STEP
          ? escapeHtml(step.name)
          : step.name === stepName(step.method, step.path)
            ? `<span class="method">${escapeHtml(step.method)}</span> <code>${escapeHtml(step.path)}</code>`
            : `${escapeHtml(step.name)} <span class="muted">${escapeHtml(step.method)} ${escapeHtml(step.path)}</span>`,
        formatCount(step.requests),
        rate ? formatDecimal(step.rps) : '–',
        formatMs(step.latencyMs.p50),
        formatMs(step.latencyMs.p95),
        formatMs(step.latencyMs.p99),
        step.failed > 0
          ? `<strong class="bad">${formatDecimal(step.errorPercent)}%</strong>`
          : `${formatDecimal(step.errorPercent)}%`,
        step.checks.length === 0
          ? '<span class="muted">–</span>'
          : failedChecks > 0
            ? `<strong class="bad">${formatCount(failedChecks)}</strong>`
            : '0',
      ];
    }),
    'steps',
  );
}

function checkTable(report: ReportWithSteps): string {
  const checks = reportChecks(report);
  if (checks.length === 0)
    return '<p class="muted">No response checks ran: checks come with scenario steps.</p>';
  return table(
    ['Check', 'Step', 'Passed', 'Failed', 'Pass rate'],
    checks.map((check) => [
      `<code>${escapeHtml(check.name)}</code>`,
      escapeHtml(check.step),
      formatCount(check.passed),
      check.failed > 0 ? `<strong class="bad">${formatCount(check.failed)}</strong>` : '0',
      formatPassRate(check),
    ]),
    'checks',
  );
}

/** The steps section: which requests failed and how, a row per step, then every check. */
export function stepsSection(report: ReportWithSteps): string {
  const steps = reportSteps(report);
  const failures = `<p class="failures"><strong>Failures</strong> ${escapeHtml(describeFailures(report))}</p>`;
  return `<section class="steps"><h2>Steps</h2>${card('Per step', failures + stepTable(report, steps))}${card('Checks', checkTable(report))}</section>`;
}
