// Renders a load test report as one self-contained HTML page: summary tables and server-drawn SVG charts.

import { escapeHtml } from '../http/html.ts';
import {
  formatCount,
  formatDecimal,
  formatDuration,
  formatMs,
  formatTimestamp,
  percentOf,
} from '../http/units.ts';
import type { LoadTestReport } from './report.ts';
import {
  definitionList,
  errorsCard,
  generatorCard,
  latencyTable,
  modelCard,
  stat,
  statusCard,
  thresholdsCard,
} from './report-cards.ts';
import { charts } from './report-charts.ts';
import { reportPage } from './report-page.ts';
import { stepLatencyChart, stepsSection } from './report-steps.ts';
import { reportSteps } from './step-report.ts';
import { explainVerdict, heldRate, verdictLabel } from './verdict.ts';

function header(report: LoadTestReport): string {
  const label = verdictLabel(report);
  const badge = `<span class="badge ${label.toLowerCase()}">${label}</span>`;
  const why = explainVerdict(report);
  const reason = why ? `<p class="verdict-reason">${escapeHtml(why)}</p>` : '';
  const when =
    report.startedAt === null
      ? 'not started'
      : `${escapeHtml(formatTimestamp(report.startedAt))} → ${escapeHtml(formatTimestamp(report.finishedAt))}`;
  const aborted = report.aborted
    ? '<div class="warning aborted" role="alert"><strong>Aborted.</strong> The run was stopped before it finished; the numbers cover what was sent until then.</div>'
    : '';
  return `<header class="top">
<div class="title-row"><div><p class="eyebrow">loadwatch · load test report</p><h1 class="target">${escapeHtml(report.target)}</h1></div>
<div class="verdict">${badge}<span class="grade-label">grade</span><span class="grade grade-${escapeHtml(report.grade)}" title="Grade from the error rate and p95 latency">${escapeHtml(report.grade)}</span></div></div>
${definitionList([
  ['Run', `<code>${escapeHtml(report.runId)}</code>`],
  ['When', when],
  ['Duration', escapeHtml(formatDuration(report.durationSeconds))],
])}
${reason}${aborted}</header>`;
}

function summary(report: LoadTestReport): string {
  const { totals } = report;
  const stats = [
    stat('Requests', formatCount(totals.requests)),
    stat('OK', formatCount(totals.ok), percentOf(totals.ok, totals.requests)),
    stat(
      'Failed',
      formatCount(totals.failed),
      percentOf(totals.failed, totals.requests),
      totals.failed > 0 ? 'bad' : '',
    ),
    stat('Error rate', `${formatDecimal(report.errorPercent)}%`, '', report.errorPercent > 0 ? 'bad' : ''),
    heldRate(report)
      ? stat('Throughput', `${formatDecimal(report.rps)}`, 'requests per second')
      : stat('Throughput', '—', 'under a second: too short for a rate'),
    stat('p95 latency', formatMs(report.latencyMs.p95), `p99 ${formatMs(report.latencyMs.p99)}`),
  ].join('');
  return `<section class="summary"><h2>Summary</h2><div class="stats">${stats}</div>
<div class="cards"><div class="column">${thresholdsCard(report)}${statusCard(report)}${errorsCard(report)}</div><div class="column">${latencyTable(report)}</div><div class="column">${generatorCard(report)}${modelCard(report)}</div></div></section>`;
}

/** One HTML file that opens offline: inline styles, server-drawn SVG, no scripts, every report string escaped. */
export function renderHtmlReport(report: LoadTestReport): string {
  const verdict = verdictLabel(report);
  return reportPage(
    `${verdict} · ${report.target} · load test ${report.runId}`,
    `<main>
${header(report)}
${summary(report)}
${stepsSection(report)}
${charts(report, stepLatencyChart(reportSteps(report)))}
<footer>loadwatch · run <code>${escapeHtml(report.runId)}</code></footer>
</main>`,
  );
}
