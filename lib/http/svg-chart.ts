// Server-drawn SVG charts for the service's HTML pages: the axes and frame of a full-width chart, and the sparkline.

import { escapeHtml } from './html.ts';
import { formatCompact, trimNumber } from './units.ts';

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 296;
export const MARGIN = { top: 30, right: 18, bottom: 44, left: 72 };
export const PLOT_WIDTH = CHART_WIDTH - MARGIN.left - MARGIN.right;
export const PLOT_HEIGHT = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;

/** A latency axis whose ticks are round numbers in one unit, chosen from the largest value. */
export function latencyAxis(maxMs: number): LabelledAxis {
  const [divisor, unit] =
    maxMs >= 120_000 ? [60_000, 'min'] : maxMs >= 2000 ? [1000, 's'] : ([1, 'ms'] as const);
  const axis = linearAxis(maxMs / divisor);
  return {
    top: axis.top * divisor,
    ticks: axis.ticks.map((tick) => tick * divisor),
    format: (value) => `${trimNumber(value / divisor)} ${unit}`,
  };
}

export interface Axis {
  top: number;
  ticks: number[];
}

/** An axis with the formatter for its tick labels. */
export interface LabelledAxis extends Axis {
  format: (value: number) => string;
}

/** A linear axis of counts, labelled 1.2k, 3.4M. */
export function countAxis(max: number): LabelledAxis {
  return { ...linearAxis(max), format: formatCompact };
}

/** 0 to a round number above max, with about five evenly spaced round ticks. */
export function linearAxis(max: number): Axis {
  const span = Number.isFinite(max) && max > 0 ? max : 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const step =
    (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10) * power;
  const steps = Math.max(1, Math.ceil(span / step - 1e-9));
  const ticks = Array.from({ length: steps + 1 }, (_, index) => Number((index * step).toPrecision(12)));
  return { top: ticks[ticks.length - 1] ?? span, ticks };
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200];

export function timeTicks(end: number): number[] {
  const step = TIME_STEPS.find((candidate) => end / candidate <= 8) ?? Math.ceil(end / 8 / 3600) * 3600;
  const ticks: number[] = [];
  for (let tick = 0; tick <= end + 1e-9; tick += step) ticks.push(tick);
  return ticks;
}

export const round1 = (value: number) => Math.round(value * 10) / 10;

export interface ChartFrame {
  yAxis: LabelledAxis;
  yTitle: string;
  xTicks: Array<{ at: number; label: string }>;
  xTitle: string;
}

export function svgOpen(id: string, label: string): string {
  return `<svg id="${id}" class="chart" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(label)}" preserveAspectRatio="xMidYMid meet">`;
}

/** Grid lines, ticks and axis titles; x ticks are given in plot pixels. */
export function frame({ yAxis, yTitle, xTicks, xTitle }: ChartFrame): string {
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

export function emptyChart(id: string, label: string, message: string): string {
  return `${svgOpen(id, label)}<rect class="empty" x="${MARGIN.left}" y="${MARGIN.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" rx="6"/><text class="empty-text" x="${MARGIN.left + PLOT_WIDTH / 2}" y="${MARGIN.top + PLOT_HEIGHT / 2}" text-anchor="middle" dominant-baseline="middle">${escapeHtml(message)}</text></svg>`;
}

/** Below this, latency differences are noise: the scale never zooms in further, so jitter stays flat. */
export const SPARKLINE_FLOOR_MS = 100;

/** A polyline of latencies, oldest to newest; gaps (failed samples) break the line. */
export function sparkline(values: Array<number | null>, width = 240, height = 36): string {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0)
    return `<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="no samples"></svg>`;
  const peak = Math.max(...known);
  const max = Math.max(peak, SPARKLINE_FLOOR_MS);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const y = (value: number) => (height - 2 - (value / max) * (height - 4)).toFixed(1);
  // The runs of successful samples between failures, as "x,y" points.
  const segments: string[][] = [[]];
  values.forEach((value, index) => {
    if (value === null) segments.push([]);
    else segments.at(-1)?.push(`${(index * step).toFixed(1)},${y(value)}`);
  });
  const lines = segments
    .filter((points) => points.length > 0)
    .map(([first = '', ...rest]) =>
      rest.length > 0
        ? `<polyline points="${[first, ...rest].join(' ')}" fill="none" stroke="currentColor" stroke-width="1.5"/>`
        : // A lone successful sample between failures: a dot, since a one-point line draws nothing.
          `<circle cx="${first.split(',')[0]}" cy="${first.split(',')[1]}" r="1.8" fill="currentColor"/>`,
    )
    .join('');
  // Failed samples: short red ticks along the bottom, so a gap reads as a failure rather than missing data.
  const failures = values
    .map((value, index) =>
      value === null
        ? `<line class="fail" x1="${(index * step).toFixed(1)}" x2="${(index * step).toFixed(1)}" y1="${height}" y2="${height - 6}"/>`
        : '',
    )
    .join('');
  const label = `latency, last ${values.length} checks, peak ${Math.round(peak)} ms`;
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${lines}${failures}</svg>`;
}
