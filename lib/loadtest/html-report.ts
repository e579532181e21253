// Renders a load test report as one self-contained HTML page: summary tables and server-drawn SVG charts.

import { escapeHtml, htmlPage } from '../http/html.ts';
import type { LatencySummary } from './histogram.ts';
import { type ErrorKind, MIN_SELF_CHECK_MS } from './measurement.ts';
import { plural } from './plural.ts';
import type { LoadTestReport } from './report.ts';
import type { TimelinePoint } from './timeline.ts';
import { explainVerdict, heldRate, verdictLabel } from './verdict.ts';

/** Most points a timeline chart draws; longer runs merge adjacent seconds. */
export const MAX_TIMELINE_POINTS = 600;

const CHART_WIDTH = 960;
const CHART_HEIGHT = 296;
const MARGIN = { top: 30, right: 18, bottom: 44, left: 72 };
const PLOT_WIDTH = CHART_WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;

const COLORS = {
  p50: '#2563eb',
  p99: '#ea580c',
  ok: '#60a5fa',
  failed: '#dc2626',
  histogram: '#6366f1',
};

// Numbers

const countFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

function formatCount(value: number): string {
  return Number.isFinite(value) ? countFormat.format(value) : '–';
}

function formatDecimal(value: number): string {
  return Number.isFinite(value) ? decimalFormat.format(value) : '–';
}

/** 1.2k, 3.4M: short enough for an axis. */
function formatCompact(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${trim(value / 1e9)}G`;
  if (magnitude >= 1e6) return `${trim(value / 1e6)}M`;
  if (magnitude >= 1e4) return `${trim(value / 1e3)}k`;
  return formatDecimal(value);
}

function trim(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Three significant digits, four for a table's hundreds of milliseconds. */
function formatMs(value: number, digits: 3 | 4 = 4): string {
  if (!Number.isFinite(value)) return '–';
  if (value < 1) return `${trim(value)} ms`;
  if (value < 1000) return `${formatDecimal(Number(value.toPrecision(value < 100 ? 3 : digits)))} ms`;
  if (value < 60_000) return `${trim(value / 1000)} s`;
  if (value < 3_600_000) return `${trim(value / 60_000)} min`;
  return `${trim(value / 3_600_000)} h`;
}

/** A latency axis whose ticks are round numbers in one unit, chosen from the largest value. */
function latencyAxis(maxMs: number): LabelledAxis {
  const [divisor, unit] =
    maxMs >= 120_000 ? [60_000, 'min'] : maxMs >= 2000 ? [1000, 's'] : ([1, 'ms'] as const);
  const axis = linearAxis(maxMs / divisor);
  return {
    top: axis.top * divisor,
    ticks: axis.ticks.map((tick) => tick * divisor),
    format: (value) => `${trim(value / divisor)} ${unit}`,
  };
}

function formatClock(totalSeconds: number): string {
  const seconds = Math.round(totalSeconds);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '0 s';
  if (seconds < 60) return `${formatDecimal(Number(seconds.toPrecision(3)))} s`;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return [hours ? `${hours} h` : '', minutes ? `${minutes} min` : '', rest ? `${rest} s` : '']
    .filter(Boolean)
    .join(' ');
}

function formatTimestamp(iso: string | null): string {
  if (iso === null) return 'not started';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function percentOf(part: number, whole: number): string {
  return whole > 0 ? `${formatDecimal(Number(((part / whole) * 100).toPrecision(3)))}%` : '–';
}

// Scales

interface Axis {
  top: number;
  ticks: number[];
}

/** An axis with the formatter for its tick labels. */
interface LabelledAxis extends Axis {
  format: (value: number) => string;
}

/** A linear axis of counts, labelled 1.2k, 3.4M. */
function countAxis(max: number): LabelledAxis {
  return { ...linearAxis(max), format: formatCompact };
}

/** 0 to a round number above max, with about `count` evenly spaced round ticks. */
function linearAxis(max: number, count = 5): Axis {
  const span = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const step =
    (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10) * power;
  const steps = Math.max(1, Math.ceil(span / step - 1e-9));
  const ticks = Array.from({ length: steps + 1 }, (_, index) => Number((index * step).toPrecision(12)));
  return { top: ticks[ticks.length - 1] ?? span, ticks };
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200];

function timeTicks(end: number): number[] {
  const step = TIME_STEPS.find((candidate) => end / candidate <= 8) ?? Math.ceil(end / 8 / 3600) * 3600;
  const ticks: number[] = [];
  for (let tick = 0; tick <= end + 1e-9; tick += step) ticks.push(tick);
  return ticks;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

// Timeline downsampling

export interface TimelineBucket {
  /** First second the bucket covers, from the start of the run. */
  start: number;
  /** Seconds the bucket covers. */
  seconds: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

/**
 * Groups the timeline into at most MAX_TIMELINE_POINTS buckets of equal length. Within a bucket requests and
 * errors are summed and p99 is the worst second's p99; p50 is the mean of the seconds' p50 weighted by their
 * requests, an approximation (percentiles cannot be averaged exactly) that is close enough to draw.
 * Seconds without requests leave no bucket, so the chart shows the gap.
 */
export function downsampleTimeline(
  timeline: TimelinePoint[],
  maxPoints = MAX_TIMELINE_POINTS,
): TimelineBucket[] {
  if (timeline.length === 0) return [];
  const end = timelineEnd(timeline);
  const size = Math.max(1, Math.ceil(end / maxPoints));
  const buckets = new Map<number, TimelineBucket & { weightedP50: number; weight: number }>();
  for (const point of timeline) {
    const index = Math.floor(point.second / size);
    let bucket = buckets.get(index);
    if (!bucket) {
      const start = index * size;
      bucket = {
        start,
        seconds: Math.min(size, end - start),
        requests: 0,
        errors: 0,
        p50: 0,
        p99: 0,
        weightedP50: 0,
        weight: 0,
      };
      buckets.set(index, bucket);
    }
    bucket.requests += point.requests;
    bucket.errors += point.errors;
    bucket.p99 = Math.max(bucket.p99, point.p99);
    const weight = Math.max(1, point.requests);
    bucket.weightedP50 += point.p50 * weight;
    bucket.weight += weight;
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, { weightedP50, weight, ...bucket }]) => ({
      ...bucket,
      p50: weight > 0 ? weightedP50 / weight : 0,
    }));
}

/** The run's length on the time axis: one past the last second with data. */
function timelineEnd(timeline: TimelinePoint[]): number {
  return timeline.reduce((end, point) => Math.max(end, point.second + 1), 1);
}

// Charts

interface ChartFrame {
  yAxis: LabelledAxis;
  yTitle: string;
  xTicks: Array<{ at: number; label: string }>;
  xTitle: string;
}

function svgOpen(id: string, label: string): string {
  return `<svg id="${id}" class="chart" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(label)}" preserveAspectRatio="xMidYMid meet">`;
}

/** Grid lines, ticks and axis titles; x ticks are given in plot pixels. */
function frame({ yAxis, yTitle, xTicks, xTitle }: ChartFrame): string {
  const parts: string[] = [];
  for (const tick of yAxis.ticks) {
    const y = round1(MARGIN.top + PLOT_HEIGHT - (tick / yAxis.top) * PLOT_HEIGHT);
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeHtml(yAxis.format(tick))}</text>`,
    );
  }
  const baseline = MARGIN.top + PLOT_HEIGHT;
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${baseline}" y2="${baseline}"/>`,
  );
  for (const { at, label } of xTicks) {
    const x = round1(MARGIN.left + at);
    parts.push(
      `<line class="axis" x1="${x}" x2="${x}" y1="${baseline}" y2="${baseline + 5}"/>`,
      `<text class="tick" x="${x}" y="${baseline + 18}" text-anchor="middle">${escapeHtml(label)}</text>`,
    );
  }
  parts.push(
    `<text class="axis-title" x="${MARGIN.left + PLOT_WIDTH / 2}" y="${CHART_HEIGHT - 6}" text-anchor="middle">${escapeHtml(xTitle)}</text>`,
    // The y title sits above the axis, horizontal, so it never collides with long tick labels.
    `<text class="axis-title" x="8" y="14">${escapeHtml(yTitle)}</text>`,
  );
  return parts.join('');
}

function emptyChart(id: string, label: string, message: string): string {
  return `${svgOpen(id, label)}<rect class="empty" x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" rx="6"/><text class="empty-text" x="${MARGIN.left + PLOT_WIDTH / 2}" y="${MARGIN.top + PLOT_HEIGHT / 2}" text-anchor="middle" dominant-baseline="middle">${escapeHtml(message)}</text></svg>`;
}

function timeAxis(end: number): Array<{ at: number; label: string }> {
  return timeTicks(end).map((second) => ({ at: (second / end) * PLOT_WIDTH, label: formatClock(second) }));
}

function bucketLabel(bucket: TimelineBucket): string {
  return bucket.seconds > 1
    ? `${formatClock(bucket.start)}–${formatClock(bucket.start + bucket.seconds)}`
    : formatClock(bucket.start);
}

/** Transparent full-height bands, one a bucket, whose titles are the charts' hover tooltips. */
function hoverBands(
  buckets: TimelineBucket[],
  end: number,
  describe: (bucket: TimelineBucket) => string,
): string {
  return buckets
    .map((bucket) => {
      const x = round1(MARGIN.left + (bucket.start / end) * PLOT_WIDTH);
      const width = round1(Math.max(0.5, (bucket.seconds / end) * PLOT_WIDTH));
      return `<rect class="hover" x="${x}" y="${MARGIN.top}" width="${width}" height="${PLOT_HEIGHT}"><title>${escapeHtml(describe(bucket))}</title></rect>`;
    })
    .join('');
}

function latencyChart(buckets: TimelineBucket[], end: number, label: string): string {
  const id = 'chart-latency';
  if (buckets.length === 0) return emptyChart(id, label, 'No requests were recorded');
  const axis = latencyAxis(Math.max(...buckets.map((bucket) => bucket.p99)));
  const x = (bucket: TimelineBucket) =>
    round1(MARGIN.left + ((bucket.start + bucket.seconds / 2) / end) * PLOT_WIDTH);
  const y = (value: number) =>
    round1(MARGIN.top + PLOT_HEIGHT - (Math.min(value, axis.top) / axis.top) * PLOT_HEIGHT);
  // Break the line where seconds without requests leave a gap.
  const line = (key: 'p50' | 'p99') => {
    let previous: TimelineBucket | undefined;
    const commands: string[] = [];
    const lonely: TimelineBucket[] = [];
    let runLength = 0;
    for (const bucket of buckets) {
      const joined = previous !== undefined && previous.start + previous.seconds === bucket.start;
      if (!joined && runLength === 1 && previous) lonely.push(previous);
      runLength = joined ? runLength + 1 : 1;
      commands.push(`${joined ? 'L' : 'M'}${x(bucket)} ${y(bucket[key])}`);
      previous = bucket;
    }
    if (runLength === 1 && previous) lonely.push(previous);
    const markers = buckets.length <= 60 ? buckets : lonely;
    const dots = markers
      .map((bucket) => `<circle class="dot ${key}" cx="${x(bucket)}" cy="${y(bucket[key])}" r="3"/>`)
      .join('');
    return `<path class="line ${key}" d="${commands.join('')}"/>${dots}`;
  };
  return [
    svgOpen(id, label),
    frame({
      yAxis: axis,
      yTitle: 'latency',
      xTicks: timeAxis(end),
      xTitle: 'time since start (m:ss)',
    }),
    line('p99'),
    line('p50'),
    hoverBands(
      buckets,
      end,
      (bucket) => `${bucketLabel(bucket)}  p50 ${formatMs(bucket.p50)} · p99 ${formatMs(bucket.p99)}`,
    ),
    '</svg>',
  ].join('');
}

function rateChart(buckets: TimelineBucket[], end: number, label: string): string {
  const id = 'chart-rate';
  if (buckets.length === 0) return emptyChart(id, label, 'No requests were recorded');
  // Per second of the bucket, so the axis reads requests per second however many seconds a bar merges.
  const perSecond = (count: number, bucket: TimelineBucket) => count / Math.max(1, bucket.seconds);
  const axis = countAxis(Math.max(...buckets.map((bucket) => perSecond(bucket.requests, bucket))));
  const height = (value: number) => (Math.min(value, axis.top) / axis.top) * PLOT_HEIGHT;
  const baseline = MARGIN.top + PLOT_HEIGHT;
  const okBars: string[] = [];
  const failedBars: string[] = [];
  for (const bucket of buckets) {
    const slot = (bucket.seconds / end) * PLOT_WIDTH;
    const gap = slot > 4 ? Math.min(slot * 0.15, 6) : 0;
    const x = round1(MARGIN.left + (bucket.start / end) * PLOT_WIDTH + gap / 2);
    const width = round1(Math.max(0.6, slot - gap));
    const failedHeight = height(perSecond(bucket.errors, bucket));
    const okHeight = height(perSecond(bucket.requests, bucket)) - failedHeight;
    // Failed requests stacked under the successful ones, so a bar's height is every request sent.
    if (failedHeight > 0)
      failedBars.push(`M${x} ${round1(baseline)}v${-round1(failedHeight)}h${width}v${round1(failedHeight)}z`);
    if (okHeight > 0)
      okBars.push(
        `M${x} ${round1(baseline - failedHeight)}v${-round1(okHeight)}h${width}v${round1(okHeight)}z`,
      );
  }
  return [
    svgOpen(id, label),
    frame({
      yAxis: axis,
      yTitle: 'requests per second',
      xTicks: timeAxis(end),
      xTitle: 'time since start (m:ss)',
    }),
    `<path class="bars ok" d="${okBars.join('')}"/>`,
    `<path class="bars failed" d="${failedBars.join('')}"/>`,
    hoverBands(buckets, end, (bucket) => {
      const rate = formatDecimal(Number(perSecond(bucket.requests, bucket).toPrecision(4)));
      return `${bucketLabel(bucket)}  ${rate} req/s · ${formatCount(bucket.requests)} requests, ${formatCount(bucket.errors)} failed`;
    }),
    '</svg>',
  ].join('');
}

function histogramChart(report: LoadTestReport, label: string): string {
  const id = 'chart-histogram';
  const buckets = report.histogram;
  if (buckets.length === 0 || buckets.every(([, count]) => count <= 0))
    return emptyChart(id, label, 'No latencies were recorded');
  const axis = countAxis(Math.max(...buckets.map(([, count]) => count)));
  const slot = PLOT_WIDTH / buckets.length;
  const gap = Math.min(slot * 0.12, 3);
  const baseline = MARGIN.top + PLOT_HEIGHT;
  const lowest = Math.min(report.latencyMs.min, buckets[0]?.[0] ?? 0);
  const lowerBound = (index: number) => (index === 0 ? lowest : (buckets[index - 1]?.[0] ?? lowest));
  const bars = buckets
    .map(([upper, count], index) => {
      if (count <= 0) return '';
      const height = round1((Math.min(count, axis.top) / axis.top) * PLOT_HEIGHT);
      const x = round1(MARGIN.left + index * slot + gap / 2);
      const tip = `${formatMs(lowerBound(index))} – ${formatMs(upper)}: ${formatCount(count)} requests (${percentOf(count, report.totals.requests)})`;
      return `<rect class="bar" x="${x}" y="${round1(baseline - height)}" width="${round1(slot - gap)}" height="${height}"><title>${escapeHtml(tip)}</title></rect>`;
    })
    .join('');
  // The buckets grow geometrically, so equal-width bars make a logarithmic x axis; label a few bounds.
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  const xTicks = [{ at: 0, label: formatMs(lowest, 3) }];
  buckets.forEach(([upper], index) => {
    const isLast = index === buckets.length - 1;
    const regular = (index + 1) % every === 0 && buckets.length - 1 - index >= every / 2;
    if (isLast || regular) xTicks.push({ at: (index + 1) * slot, label: formatMs(upper, 3) });
  });
  const marker = (value: number, key: 'p50' | 'p99', text: string) => {
    const at = histogramPosition(buckets, lowest, value);
    if (at === null) return '';
    const x = round1(MARGIN.left + at * slot);
    const anchor = x > MARGIN.left + PLOT_WIDTH - 60 ? 'end' : 'start';
    const dx = anchor === 'end' ? -4 : 4;
    return `<line class="marker ${key}" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${baseline}"/><text class="marker-label ${key}" x="${x + dx}" y="${MARGIN.top + (key === 'p50' ? 10 : 24)}" text-anchor="${anchor}">${escapeHtml(`${text} ${formatMs(value)}`)}</text>`;
  };
  return [
    svgOpen(id, label),
    frame({
      yAxis: axis,
      yTitle: 'requests',
      xTicks,
      xTitle: 'latency (logarithmic buckets)',
    }),
    bars,
    marker(report.latencyMs.p50, 'p50', 'p50'),
    marker(report.latencyMs.p99, 'p99', 'p99'),
    '</svg>',
  ].join('');
}

/** Where a latency falls on the histogram, in bucket widths from the left, interpolated on a log scale. */
function histogramPosition(buckets: Array<[number, number]>, lowest: number, value: number): number | null {
  const index = buckets.findIndex(([upper]) => value <= upper);
  if (index === -1) return null;
  const upper = buckets[index]?.[0] ?? value;
  const lower = index === 0 ? lowest : (buckets[index - 1]?.[0] ?? lowest);
  if (upper <= lower || lower <= 0 || value <= lower) return index + (value <= lower ? 0 : 1);
  return index + Math.log(value / lower) / Math.log(upper / lower);
}

// Summary

function table(head: string[], rows: string[][], className = ''): string {
  const headRow = head.map((cell, index) => `<th${index > 0 ? ' class="num"' : ''}>${cell}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, index) => `<td${index > 0 ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${headRow}</tr></thead><tbody>${body}</tbody></table>`;
}

function definitionList(entries: Array<[string, string]>): string {
  return `<dl>${entries.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

function card(title: string, content: string, className = ''): string {
  return `<section class="card${className ? ` ${className}` : ''}"><h3>${title}</h3>${content}</section>`;
}

function stat(label: string, value: string, note = '', className = ''): string {
  return `<div class="stat${className ? ` ${className}` : ''}"><div class="stat-label">${label}</div><div class="stat-value">${value}</div>${note ? `<div class="stat-note">${note}</div>` : ''}</div>`;
}

const PERCENTILES: Array<[keyof LatencySummary, string]> = [
  ['min', 'min'],
  ['mean', 'mean'],
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p95', 'p95'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['max', 'max'],
];

function latencyTable(report: LoadTestReport): string {
  const open = report.model === 'open';
  const head = open ? ['', 'Corrected', 'Uncorrected'] : ['', 'Latency'];
  const rows = PERCENTILES.map(([key, name]) => {
    const row = [name, formatMs(report.latencyMs[key])];
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

function modelCard(report: LoadTestReport): string {
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
  const first = code.charAt(0);
  return first === '2' ? 's2' : first === '3' ? 's3' : first === '4' ? 's4' : first === '5' ? 's5' : '';
}

function statusCard(report: LoadTestReport): string {
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

function errorsCard(report: LoadTestReport): string {
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

const LATENCY_METRICS = new Set(['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max']);

function formatThresholdActual(expression: string, actual: number): string {
  const metric = (expression.match(/^[a-z0-9]+/i)?.[0] ?? '').toLowerCase();
  if (LATENCY_METRICS.has(metric)) return formatMs(actual);
  if (metric === 'errors') return `${formatDecimal(actual)}%`;
  if (metric === 'rps') return `${formatDecimal(actual)} req/s`;
  return formatDecimal(actual);
}

function thresholdsCard(report: LoadTestReport): string {
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

function generatorCard(report: LoadTestReport): string {
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

function legend(items: Array<[string, string]>): string {
  return `<div class="legend">${items
    .map(
      ([color, text]) =>
        `<span class="legend-item"><span class="swatch" style="background:${color}"></span>${text}</span>`,
    )
    .join('')}</div>`;
}

function figure(title: string, caption: string, legendHtml: string, svg: string): string {
  return `<figure class="chart-card"><figcaption><h3>${title}</h3><p class="muted">${caption}</p>${legendHtml}</figcaption>${svg}</figure>`;
}

function charts(report: LoadTestReport): string {
  const buckets = downsampleTimeline(report.timeline);
  const end = report.timeline.length > 0 ? timelineEnd(report.timeline) : 0;
  const size = buckets.length > 0 ? Math.max(1, Math.ceil(end / MAX_TIMELINE_POINTS)) : 1;
  const resolution = size > 1 ? `Each point merges ${size} seconds.` : 'One point per second.';
  const anyFailed = report.timeline.some((point) => point.errors > 0);
  return `<section class="charts"><h2>Charts</h2>
${figure(
  'Latency over time',
  `p50 and p99 of the requests completed in each second. ${resolution}`,
  legend([
    [COLORS.p50, 'p50'],
    [COLORS.p99, 'p99'],
  ]),
  latencyChart(buckets, end, 'Latency p50 and p99 over time'),
)}
${figure(
  'Request rate and failures',
  `Requests completed per second, failed ones in red at the bottom of each bar. ${resolution}`,
  legend([
    [COLORS.ok, 'succeeded'],
    [COLORS.failed, anyFailed ? 'failed' : 'failed (none)'],
  ]),
  rateChart(buckets, end, 'Requests per second and failures over time'),
)}
${figure(
  'Latency distribution',
  'Requests per latency bucket over the whole run; bucket bounds grow geometrically.',
  legend([
    [COLORS.histogram, 'requests'],
    [COLORS.p50, 'p50'],
    [COLORS.p99, 'p99'],
  ]),
  histogramChart(report, 'Latency histogram'),
)}
</section>`;
}

const STYLE = `
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--panel:#fff;--bg:#f1f5f9;--good:#15803d;--bad:#b91c1c;--accent:#2563eb}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1120px;margin:0 auto;padding:28px 24px 40px}
h1,h2,h3,h4{margin:0;line-height:1.25}
h2{font-size:18px;margin:28px 0 12px}
h3{font-size:14px;text-transform:uppercase;letter-spacing:.04em;color:#334155;margin-bottom:10px}
h4{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;margin-bottom:4px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.good{color:var(--good);font-weight:600}
.bad{color:var(--bad);font-weight:600}
.top{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:20px 24px}
.title-row{display:flex;justify-content:space-between;align-items:flex-start;gap:16px}
.eyebrow{margin:0 0 4px;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.target{font-size:22px;overflow-wrap:anywhere;word-break:break-word}
.verdict{display:flex;align-items:center;gap:10px;flex:none}
.badge{display:inline-block;padding:6px 14px;border-radius:999px;font-weight:700;letter-spacing:.06em;font-size:14px;color:#fff}
.badge.passed{background:var(--good)}
.badge.failed{background:var(--bad)}
.badge.aborted{background:#b45309}
.verdict-reason{margin:8px 0 0;font-weight:600}
.grade-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em;margin-left:6px}
.grade{display:inline-flex;align-items:center;justify-content:center;width:40px;height:40px;border-radius:8px;font-size:22px;font-weight:800;color:#fff;background:#475569}
.grade-A{background:#15803d}.grade-B{background:#4d7c0f}.grade-C{background:#b45309}.grade-D{background:#c2410c}.grade-F{background:#b91c1c}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:12px 0 0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
.top dl{grid-template-columns:max-content 1fr;margin-top:14px}
.warning{margin-top:14px;padding:12px 14px;border:1px solid #f59e0b;border-left:5px solid #d97706;background:#fffbeb;color:#78350f;border-radius:6px}
.card .warning{margin:0 0 12px}
.stats{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:12px}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.stat-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.stat-value{font-size:22px;font-weight:700;margin-top:2px}
.stat-note{color:var(--muted);font-size:12px}
.stat.bad .stat-value{color:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:12px;margin-top:12px;align-items:start}
.column{display:flex;flex-direction:column;gap:12px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px 18px;break-inside:avoid}
.card dl{margin:0 0 12px}
.card h4+dl{margin-top:0}
table{width:100%;border-collapse:collapse}
th,td{padding:5px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
tbody tr:last-child td{border-bottom:0}
.num{text-align:right;white-space:nowrap}
.note{margin:10px 0 0;font-size:12px;color:var(--muted)}
.method{font-size:11px;font-weight:700;color:#334155;background:#e2e8f0;border-radius:4px;padding:1px 5px}
.status{font-weight:600}
.status.s2{color:var(--good)}.status.s3{color:#0369a1}.status.s4{color:#b45309}.status.s5{color:var(--bad)}
.check{font-weight:700}
.check.pass{color:var(--good)}
.check.fail{color:var(--bad)}
.chart-card{margin:0 0 14px;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:16px 18px 8px;break-inside:avoid}
.chart-card figcaption p{margin:0 0 6px;font-size:13px}
.legend{display:flex;gap:16px;font-size:12px;color:#334155}
.legend-item{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px}
svg.chart{display:block;width:100%;height:auto;margin-top:6px;overflow:visible}
svg .grid{stroke:#e2e8f0;stroke-width:1}
svg .axis{stroke:#94a3b8;stroke-width:1}
svg .tick{fill:#475569;font-size:13px}
svg .axis-title{fill:#64748b;font-size:13px}
svg .line{fill:none;stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
svg .line.p50,svg .dot.p50{stroke:${COLORS.p50}}
svg .line.p99,svg .dot.p99{stroke:${COLORS.p99}}
svg .dot{fill:#fff;stroke-width:2}
svg .bars.ok{fill:${COLORS.ok}}
svg .bars.failed{fill:${COLORS.failed}}
svg .bar{fill:${COLORS.histogram}}
svg .bar:hover{fill:#4338ca}
svg .marker{stroke-width:1.5;stroke-dasharray:5 4}
svg .marker.p50{stroke:${COLORS.p50}}
svg .marker.p99{stroke:${COLORS.p99}}
svg .marker-label{font-size:12px;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
svg .marker-label.p50{fill:${COLORS.p50}}
svg .marker-label.p99{fill:${COLORS.p99}}
svg .hover{fill:transparent}
svg .hover:hover{fill:rgba(15,23,42,.06)}
svg .empty{fill:#f8fafc;stroke:#e2e8f0;stroke-dasharray:4 4}
svg .empty-text{fill:#64748b;font-size:14px}
footer{margin-top:20px;color:var(--muted);font-size:12px;text-align:center}
@media (max-width:900px),print{.stats{grid-template-columns:repeat(3,minmax(0,1fr))}svg .tick,svg .axis-title,svg .marker-label{font-size:16px}}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media (max-width:600px){.cards{grid-template-columns:minmax(0,1fr)}}
@media print{body{background:#fff;font-size:12px}main{max-width:none;padding:0}.stat,.card,.chart-card,.top{border-color:#cbd5e1}.charts{break-before:page}svg .hover{display:none}}
`;

/** One HTML file that opens offline: inline styles, server-drawn SVG, no scripts, every report string escaped. */
export function renderHtmlReport(report: LoadTestReport): string {
  const verdict = verdictLabel(report);
  return htmlPage({
    title: `${verdict} · ${report.target} · load test ${report.runId}`,
    meta: `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    style: STYLE,
    body: `<main>
${header(report)}
${summary(report)}
${charts(report)}
<footer>loadwatch · run <code>${escapeHtml(report.runId)}</code></footer>
</main>`,
  });
}
