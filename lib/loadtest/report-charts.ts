// The load-test report's charts: latency and rate over time, the latency distribution, per-step latencies.

import { escapeHtml } from '../http/html.ts';
import {
  countAxis,
  emptyChart,
  frame,
  type LabelledAxis,
  latencyAxis,
  MARGIN,
  PLOT_HEIGHT,
  PLOT_WIDTH,
  round1,
  svgOpen,
  timeTicks,
} from '../http/svg-chart.ts';
import { formatClock, formatCount, formatDecimal, formatMs, percentOf } from '../http/units.ts';
import type { LoadTestReport } from './report.ts';
import type { TimelinePoint } from './timeline.ts';

/** Most points a timeline chart draws; longer runs merge adjacent seconds. */
export const MAX_TIMELINE_POINTS = 600;

export const COLORS = {
  p50: '#2563eb',
  p95: '#7c3aed',
  p99: '#ea580c',
  ok: '#60a5fa',
  failed: '#dc2626',
  histogram: '#6366f1',
};

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
export function timelineEnd(timeline: TimelinePoint[]): number {
  return timeline.reduce((end, point) => Math.max(end, point.second + 1), 1);
}

function timeFrame(yAxis: LabelledAxis, yTitle: string, end: number): string {
  const xTicks = timeTicks(end).map((second) => ({
    at: (second / end) * PLOT_WIDTH,
    label: formatClock(second),
  }));
  return frame({ yAxis, yTitle, xTicks, xTitle: 'time since start (m:ss)' });
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

export function latencyChart(buckets: TimelineBucket[], end: number, label: string): string {
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
    timeFrame(axis, 'latency', end),
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

export function rateChart(buckets: TimelineBucket[], end: number, label: string): string {
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
    timeFrame(axis, 'requests per second', end),
    `<path class="bars ok" d="${okBars.join('')}"/>`,
    `<path class="bars failed" d="${failedBars.join('')}"/>`,
    hoverBands(buckets, end, (bucket) => {
      const rate = formatDecimal(Number(perSecond(bucket.requests, bucket).toPrecision(4)));
      return `${bucketLabel(bucket)}  ${rate} req/s · ${formatCount(bucket.requests)} requests, ${formatCount(bucket.errors)} failed`;
    }),
    '</svg>',
  ].join('');
}

export function histogramChart(report: LoadTestReport, label: string): string {
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

export function legend(items: Array<[string, string]>): string {
  return `<div class="legend">${items
    .map(
      ([color, text]) =>
        `<span class="legend-item"><span class="swatch" style="background:${color}"></span>${text}</span>`,
    )
    .join('')}</div>`;
}

export function figure(title: string, caption: string, legendHtml: string, svg: string): string {
  return `<figure class="chart-card"><figcaption><h3>${title}</h3><p class="muted">${caption}</p>${legendHtml}</figcaption>${svg}</figure>`;
}

/** The charts section; `extra` is appended figures, such as latency by step. */
export function charts(report: LoadTestReport, extra = ''): string {
  const buckets = downsampleTimeline(report.timeline);
  const end = timelineEnd(report.timeline);
  const size = Math.max(1, Math.ceil(end / MAX_TIMELINE_POINTS));
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
${extra}
</section>`;
}
