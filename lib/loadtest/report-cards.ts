// The load-test report's summary cards and tables: thresholds, statuses, errors, latency, load and generator.

import { escapeHtml } from '../http/html.ts';
import { formatCount, formatDecimal, formatDuration, formatMs, percentOf } from '../http/units.ts';
import { type ErrorKind, MIN_SELF_CHECK_MS } from './measurement.ts';
import { plural } from './plural.ts';
import type { LoadTestReport } from './report.ts';
import { LATENCY_METRICS } from './thresholds.ts';

export function table(head: string[], rows: string[][], className = ''): string {
  const headRow = head.map((cell, index) => `<th${index > 0 ? ' class="num"' : ''}>${cell}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, index) => `<td${index > 0 ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${headRow}</tr></thead><tbody>${body}</tbody></table>`;
}

export function definitionList(entries: Array<[string, string]>): string {
  return `<dl>${entries.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

export function card(title: string, content: string, className = ''): string {
  return `<section class="card${className ? ` ${className}` : ''}"><h3>${title}</h3>${content}</section>`;
}

export function stat(label: string, value: string, note = '', className = ''): string {
  return `<div class="stat${className ? ` ${className}` : ''}"><div class="stat-label">${label}</div><div class="stat-value">${value}</div>${note ? `<div class="stat-note">${note}</div>` : ''}</div>`;
}

export function latencyTable(report: LoadTestReport): string {
  const open = report.model === 'open';
  const head = open ? ['', 'Corrected', 'Uncorrected'] : ['', 'Latency'];
  const rows = LATENCY_METRICS.map((key) => {
    const row = [key === 'p999' ? 'p99.9' : key, formatMs(report.latencyMs[key])];
    if (open) row.push(formatMs(report.latencyUncorrectedMs[key]));
    return row;
  });
  const note = open
    ? '<p class="note">Corrected latency counts from when each request was scheduled, not from when it was sent, so time spent waiting behind a slow response is included (coordinated omission); uncorrected counts from the actual send.</p>'
    : '';
  // Reports stored before responses were counted apart have no figure.
  const samples = report.noResponse
    ? `<p class="note">Over ${plural(report.responses, 'response')}; ${plural(report.noResponse, 'request')} without a response (refused, timed out, reset) ${report.noResponse === 1 ? 'is' : 'are'} counted under errors, not here.</p>`
    : '';
  return card('Latency', table(head, rows, 'latency') + samples + note);
}

export function modelCard(report: LoadTestReport): string {
  const entries: Array<[string, string]> = [];
  if (report.model === 'closed') {
    entries.push(
      ['Model', 'closed (virtual users)'],
      ['Users', formatCount(report.users ?? 0)],
      ['Requests per user', formatCount(report.requestsPerUser ?? 0)],
      ['Think time', formatMs(report.thinkTimeMs ?? 0)],
    );
  } else {
    entries.push(
      ['Model', 'open (arrival rate)'],
      ['Rate', `${formatDecimal(report.rate ?? 0)} req/s`],
      ['Duration', formatDuration(report.duration ?? 0)],
    );
    const stages = report.stages ?? [];
    // A steady run's one stage only repeats the rate and the duration.
    if (stages.some((stage) => stage.from !== stage.to)) {
      entries.push([
        'Stages',
        stages
          .map((stage) =>
            stage.from === stage.to
              ? `${formatDecimal(stage.from)} req/s for ${escapeHtml(formatDuration(stage.durationSeconds))}`
              : `${formatDecimal(stage.from)} → ${formatDecimal(stage.to)} req/s over ${escapeHtml(formatDuration(stage.durationSeconds))}`,
          )
          .join('<br>'),
      ]);
    }
  }
  entries.push(
    ['Workers', formatCount(report.workers)],
    ['Rounds', formatCount(report.rounds)],
    [
      'Estimate',
      `${formatCount(report.estimate.requests)} requests, ~${escapeHtml(formatDuration(report.estimate.durationSeconds))}, ${formatDecimal(report.estimate.lambdaGbSeconds)} GB-s`,
    ],
  );
  const totalWeight = report.endpoints.reduce((sum, endpoint) => sum + endpoint.weight, 0);
  const endpoints = table(
    ['Endpoint', 'Share'],
    report.endpoints.map((endpoint) => [
      `<span class="method">${escapeHtml(endpoint.method)}</span> <code>${escapeHtml(endpoint.path)}</code>`,
      percentOf(endpoint.weight, totalWeight),
    ]),
  );
  return card('Load', definitionList(entries) + endpoints);
}

function statusClass(code: string): string {
  return /^[2-5]/.test(code) ? `s${code.charAt(0)}` : '';
}

export function statusCard(report: LoadTestReport): string {
  const codes = Object.entries(report.statusCodes).sort(([a], [b]) => a.localeCompare(b));
  const content =
    codes.length === 0
      ? '<p class="muted">No responses.</p>'
      : table(
          ['Status', 'Responses', 'Share'],
          codes.map(([code, count]) => [
            `<span class="status ${statusClass(code)}">${escapeHtml(code)}</span>`,
            formatCount(count),
            percentOf(count, report.totals.requests),
          ]),
        );
  return card('Status codes', content);
}

const ERROR_DESCRIPTIONS: Record<ErrorKind, string> = {
  timeout: 'no response in time',
  refused: 'connection refused',
  reset: 'connection reset',
  dns: 'host name not found',
  other: 'other network error',
};

export function errorsCard(report: LoadTestReport): string {
  const kinds = Object.entries(report.errors) as Array<[ErrorKind, number]>;
  const total = kinds.reduce((sum, [, count]) => sum + count, 0);
  const content =
    total === 0
      ? '<p class="muted">No network errors: every request got a response.</p>'
      : table(
          ['Kind', 'Requests'],
          kinds.map(([kind, count]) => [
            `${escapeHtml(kind)} <span class="muted">${escapeHtml(ERROR_DESCRIPTIONS[kind] ?? '')}</span>`,
            count > 0 ? `<strong class="bad">${formatCount(count)}</strong>` : '0',
          ]),
        );
  return card('Network errors', content);
}

function formatThresholdActual(expression: string, actual: number): string {
  const metric = (expression.match(/^[a-z0-9]+/i)?.[0] ?? '').toLowerCase();
  if ((LATENCY_METRICS as string[]).includes(metric)) return formatMs(actual);
  if (metric === 'errors') return `${formatDecimal(actual)}%`;
  if (metric === 'rps') return `${formatDecimal(actual)} req/s`;
  return formatDecimal(actual);
}

export function thresholdsCard(report: LoadTestReport): string {
  const defaulted = report.thresholds.some((threshold) => threshold.default);
  const note = defaulted
    ? '<p class="muted">No thresholds were set: the default applies, every request failing fails the run.</p>'
    : '';
  const content =
    report.thresholds.length === 0
      ? '<p class="muted">No thresholds were set.</p>'
      : note +
        table(
          ['Threshold', 'Actual', 'Result'],
          report.thresholds.map((threshold) => [
            `<code>${escapeHtml(threshold.expr)}</code>`,
            threshold.actual === null
              ? `<span class="muted">not judged: ${escapeHtml(threshold.problem ?? '')}</span>`
              : escapeHtml(formatThresholdActual(threshold.expr, threshold.actual)),
            threshold.passed
              ? '<span class="check pass" aria-label="passed">✓ pass</span>'
              : '<span class="check fail" aria-label="failed">✗ fail</span>',
          ]),
          'thresholds',
        );
  return card('Thresholds', content);
}

export function generatorCard(report: LoadTestReport): string {
  const { generator, shards } = report;
  const warning = generator.saturated
    ? `<div class="warning generator-saturated" role="alert"><strong>Load generator saturated.</strong> A worker's event loop lagged or its CPU was busy, so requests left late: latencies may be overstated and the target may have received less load than planned. Run again with more workers.</div>`
    : '';
  const health = definitionList([
    [
      'Status',
      generator.tooShortToJudge
        ? `<span class="muted">too short to judge</span> <span class="muted">(the self-check needs a shard to run ${MIN_SELF_CHECK_MS / 1000} s)</span>`
        : generator.saturated
          ? '<span class="bad">saturated</span>'
          : '<span class="good">healthy</span>',
    ],
    ['Event-loop lag p99', formatMs(generator.eventLoopLagMs)],
    ...(report.model === 'open'
      ? ([['Send lag p99', formatMs(generator.sendLagMs ?? 0)]] as Array<[string, string]>)
      : []),
    ['CPU', `${formatDecimal(generator.cpuPercent)}% of one core`],
  ]);
  const shardList = definitionList([
    ['Planned', formatCount(shards.planned)],
    ['Completed', formatCount(shards.completed)],
    ['Failed', shards.failed > 0 ? `<span class="bad">${formatCount(shards.failed)}</span>` : '0'],
    ['Retried', formatCount(shards.retried)],
    [
      'Within tolerance',
      shards.withinTolerance ? '<span class="good">yes</span>' : '<span class="bad">no</span>',
    ],
  ]);
  // Reports stored before shard failures were recorded have no list.
  const failures = shards.failures ?? [];
  const reasons = failures.length
    ? `<h4>Why shards failed</h4><ul class="shard-failures">${failures
        .map(
          (item) =>
            `<li><code>${escapeHtml(item.error)}</code>${item.cause ? ` ${escapeHtml(item.cause)}` : ''} <span class="muted">×${formatCount(item.shards)}${item.first ? `, first round ${item.first.round} shard ${item.first.shard}` : ''}</span></li>`,
        )
        .join('')}</ul>`
    : '';
  return card('Generator', `${warning}<h4>Health</h4>${health}<h4>Shards</h4>${shardList}${reasons}`);
}
