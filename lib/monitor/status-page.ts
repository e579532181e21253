// The status page: every check's state, a latency sparkline and recent incidents, in one HTML page.

import { escapeHtml, htmlPage } from '../http/html.ts';
import { SPARKLINE_FLOOR_MS, sparkline } from '../http/svg-chart.ts';
import { formatElapsed } from '../http/units.ts';
import { STALE_AFTER_INTERVALS } from './rules.ts';
import type { CheckStateRecord, DailyUptime, IncidentRecord } from './store.ts';

export interface StatusPageCheck extends CheckStateRecord {
  latencies: Array<number | null>;
  /** The samples behind the latency chart, oldest first (null latency: failed). */
  latencySamples?: Array<{ at: string; latencyMs: number | null }>;
  /** Percent of samples that passed over 24 h, 7 d and 30 d; null without samples. */
  uptime?: { day: number | null; week: number | null; month: number | null };
  /** Days with samples among the last UPTIME_DAYS. */
  days?: DailyUptime[];
}

export interface StatusPageInput {
  service: string;
  stage: string;
  generatedAt: Date;
  checks: StatusPageCheck[];
  incidents: IncidentRecord[];
}

/** The uptime bars cover this many days, today last. */
export const UPTIME_DAYS = 30;

/** "99.95%": two decimals below 100, where the nines are what matter. */
export function formatUptime(percent: number | null): string {
  if (percent === null) return '–';
  if (percent >= 100) return '100%';
  return `${(Math.floor(percent * 100) / 100).toFixed(2)}%`;
}

/** One bar per UTC day, oldest left: green at 99.9 % or more, amber at 99 %, red below, grey without samples. */
export function uptimeBars(days: DailyUptime[], today: Date, count = UPTIME_DAYS): string {
  const byDay = new Map(days.map((item) => [item.day, item]));
  const width = 6;
  const gap = 2;
  const bars: string[] = [];
  for (let index = 0; index < count; index++) {
    const date = new Date(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (count - 1 - index)),
    );
    const day = date.toISOString().slice(0, 10);
    const found = byDay.get(day);
    const percent = found && found.total > 0 ? (100 * (found.total - found.failed)) / found.total : null;
    const tone = percent === null ? 'none' : percent >= 99.9 ? 'up' : percent >= 99 ? 'partial' : 'down';
    const label =
      percent === null
        ? `${day}: no samples`
        : `${day}: ${formatUptime(percent)} up (${found?.failed} of ${found?.total} failed)`;
    bars.push(
      `<rect class="${tone}" x="${index * (width + gap)}" y="0" width="${width}" height="24" rx="1"><title>${escapeHtml(label)}</title></rect>`,
    );
  }
  const total = count * (width + gap) - gap;
  return `<svg class="bars" viewBox="0 0 ${total} 24" width="${total}" height="24" role="img" aria-label="uptime per day, last ${count} days">${bars.join('')}</svg>`;
}

const clock = (iso: string) => iso.slice(11, 16);

/** Latency over time with a y axis in ms and the first and last sample's times on the x axis; failures as red ticks. */
export function latencyChart(
  samples: Array<{ at: string; latencyMs: number | null }>,
  width = 300,
  height = 80,
): string {
  const left = 40;
  const bottom = 16;
  const plotWidth = width - left - 4;
  const plotHeight = height - bottom - 6;
  const known = samples.flatMap((sample) => (sample.latencyMs === null ? [] : [sample.latencyMs]));
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last)
    return `<svg class="latency" viewBox="0 0 ${width} ${height}" role="img" aria-label="no samples"></svg>`;
  const top = Math.max(SPARKLINE_FLOOR_MS, ...known);
  const start = Date.parse(first.at);
  const span = Math.max(1, Date.parse(last.at) - start);
  const x = (at: string) => (left + ((Date.parse(at) - start) / span) * plotWidth).toFixed(1);
  const y = (ms: number) => (6 + plotHeight - (ms / top) * plotHeight).toFixed(1);
  const segments: string[][] = [[]];
  for (const sample of samples) {
    if (sample.latencyMs === null) segments.push([]);
    else segments.at(-1)?.push(`${x(sample.at)},${y(sample.latencyMs)}`);
  }
  const lines = segments
    .filter((points) => points.length > 0)
    .map((points) =>
      points.length > 1
        ? `<polyline points="${points.join(' ')}" fill="none" stroke="currentColor" stroke-width="1.5"/>`
        : `<circle cx="${points[0]?.split(',')[0]}" cy="${points[0]?.split(',')[1]}" r="1.8" fill="currentColor"/>`,
    )
    .join('');
  const failures = samples
    .filter((sample) => sample.latencyMs === null)
    .map(
      (sample) =>
        `<line class="fail" x1="${x(sample.at)}" x2="${x(sample.at)}" y1="${6 + plotHeight}" y2="${plotHeight}"/>`,
    )
    .join('');
  const axis = `<line class="axis" x1="${left}" y1="6" x2="${left}" y2="${6 + plotHeight}"/><line class="axis" x1="${left}" y1="${6 + plotHeight}" x2="${left + plotWidth}" y2="${6 + plotHeight}"/>`;
  const labels = [
    `<text class="y-max" x="${left - 4}" y="12" text-anchor="end">${Math.round(top)} ms</text>`,
    `<text class="y-zero" x="${left - 4}" y="${6 + plotHeight}" text-anchor="end">0 ms</text>`,
    `<text class="x-start" x="${left}" y="${height - 2}">${clock(first.at)}</text>`,
    `<text class="x-end" x="${left + plotWidth}" y="${height - 2}" text-anchor="end">${clock(last.at)} UTC</text>`,
  ].join('');
  const label = `latency in ms from ${clock(first.at)} to ${clock(last.at)} UTC, ${samples.length} checks, peak ${Math.round(Math.max(0, ...known))} ms`;
  return `<svg class="latency" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${axis}${lines}${failures}${labels}</svg>`;
}

/** "1h05m", "12m", "40s". */
function uptimeCell(check: StatusPageCheck): string {
  const uptime = check.uptime;
  const figures = uptime
    ? `<div class="uptime">24 h <b>${formatUptime(uptime.day)}</b> · 7 d <b>${formatUptime(uptime.week)}</b> · 30 d <b>${formatUptime(uptime.month)}</b></div>`
    : '';
  const slo = check.slo
    ? `<div class="muted slo${check.slo.budgetLeftPercent < 0 ? ' spent' : ''}">SLO ${check.slo.kind === 'latency' ? `p95 ≤ ${check.slo.latencyMs} ms` : `${check.slo.targetPercent}%`} over ${check.slo.windowDays} d: ${Math.round(check.slo.budgetLeftPercent)}% of the error budget left${check.slo.firing ? ` · burning (${check.slo.firing})` : ''}</div>`
    : '';
  return figures + slo;
}

/** "2026-03-01 11:00 UTC", with the exact time kept in the datetime attribute. */
function when(iso: string): string {
  const readable = `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(readable)}</time>`;
}

const checks = (count: number) => `${count} ${count === 1 ? 'check' : 'checks'}`;

/** The banner: alarms first, then stale checks; "operational" only when every check is OK and current. */
function overallStatus(input: StatusPageInput): { text: string; tone: 'ok' | 'alarm' | 'stale' } {
  if (input.checks.length === 0) return { text: 'No checks have run yet', tone: 'ok' };
  const names = (list: StatusPageInput['checks']) => list.map((check) => check.check).join(', ');
  const alarms = input.checks.filter((check) => check.state === 'ALARM');
  const stale = input.checks.filter((check) => check.stale);
  const parts: string[] = [];
  if (alarms.length) parts.push(`${checks(alarms.length)} in alarm: ${names(alarms)}`);
  if (stale.length)
    parts.push(
      `${checks(stale.length)} not checked for over ${STALE_AFTER_INTERVALS} intervals: ${names(stale)}`,
    );
  if (parts.length === 0) return { text: 'All checks operational', tone: 'ok' };
  return { text: parts.join('; '), tone: alarms.length ? 'alarm' : 'stale' };
}

function stateCell(check: StatusPageInput['checks'][number]): string {
  const state = check.state === 'ALARM' ? 'Alarm' : 'Operational';
  if (!check.stale) return `${state}<div class="muted">since ${when(check.since)}</div>`;
  // The stored state is only what the monitor last saw: say so, and how long it has been quiet.
  return `Stale<div class="muted">last seen ${state.toLowerCase()}; not checked for over ${STALE_AFTER_INTERVALS} × ${check.intervalSeconds}s</div>`;
}

const STYLE = `
  :root { color-scheme: light dark; --ok: #1a7f37; --alarm: #cf222e; --muted: #6e7781; --stale: #9a6700; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0 auto; max-width: 1200px; padding: 24px; line-height: 1.45; }
  h1 { font-size: 1.4rem; margin: 0 0 4px; }
  .banner { padding: 14px 18px; border-radius: 8px; color: #fff; font-weight: 600; margin: 16px 0 24px; background: var(--ok); }
  .banner.alarm { background: var(--alarm); }
  .banner.stale { background: var(--stale); }
  tr.stale .dot { background: var(--stale); }
  tr.stale td:nth-child(2) { color: var(--stale); font-weight: 600; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 10px 8px; border-bottom: 1px solid rgba(127,127,127,.25); vertical-align: top; }
  th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 8px; background: var(--ok); }
  tr.alarm .dot { background: var(--alarm); }
  tr.alarm td:nth-child(2) { color: var(--alarm); font-weight: 600; }
  .spark { width: 240px; height: 36px; color: #0969da; }
  tr.alarm .spark, tr.alarm .latency { color: var(--alarm); }
  .muted { color: var(--muted); font-size: .85rem; font-weight: normal; }
  .spark line.fail, .latency line.fail { stroke: var(--alarm); stroke-width: 1.5; }
  @media (prefers-color-scheme: dark) {
    :root { --muted: #9aa4ae; --ok: #2ea043; }
    tr.alarm td:nth-child(2), .firing { color: #ff7b72; }
  }
  .firing { color: var(--alarm); font-weight: 600; }
  .bars rect.up { fill: var(--ok); } .bars rect.partial { fill: var(--stale); } .bars rect.down { fill: var(--alarm); }
  .bars rect.none { fill: rgba(127,127,127,.3); }
  .latency { color: #0969da; font-size: 9px; } .latency text { fill: var(--muted); }
  .latency line.axis { stroke: var(--muted); stroke-width: 1; }
  .uptime b { font-weight: 600; } .slo.spent { color: var(--alarm); }

  ul { padding-left: 18px; }
  li { margin-bottom: 10px; }
`;

export function renderStatusPage(input: StatusPageInput): string {
  const overall = overallStatus(input);
  const rows = input.checks
    .map((check) => {
      const last = check.lastSample;
      const latency = typeof last?.latencyMs === 'number' ? `${Math.round(last.latencyMs)} ms` : '–';
      const checked = check.lastCheckedAt ? when(check.lastCheckedAt) : 'never';
      return `<tr class="${check.state === 'ALARM' ? 'alarm' : 'ok'}${check.stale ? ' stale' : ''}">
  <td><span class="dot"></span>${escapeHtml(check.check)}</td>
  <td>${stateCell(check)}</td>
  <td>${latency}${last && !last.ok && last.error ? `<div class="muted">${escapeHtml(last.error)}</div>` : ''}<div class="muted">checked ${checked}</div></td>
  <td>${check.latencySamples ? latencyChart(check.latencySamples) : sparkline(check.latencies)}</td>
  ${check.days ? `<td>${uptimeBars(check.days, input.generatedAt)}${uptimeCell(check)}</td>` : ''}
</tr>`;
    })
    .join('\n');
  const incidents = input.incidents.length
    ? input.incidents
        .map(
          (incident) =>
            `<li><strong>${escapeHtml(incident.check)}</strong> · ${escapeHtml(incident.severity)} · opened ${when(incident.openedAt)}${
              incident.resolvedAt
                ? `, resolved ${when(incident.resolvedAt)} · lasted ${formatElapsed(Date.parse(incident.resolvedAt) - Date.parse(incident.openedAt))}`
                : ` · <span class="firing">ongoing for ${formatElapsed(input.generatedAt.getTime() - Date.parse(incident.openedAt))}</span>`
            }<div class="muted">${escapeHtml(incident.summary)}</div></li>`,
        )
        .join('\n')
    : '<li class="muted">No incidents recorded.</li>';
  return htmlPage({
    title: `${input.service} status · ${input.stage}`,
    meta: '<meta http-equiv="refresh" content="60">',
    style: STYLE,
    body: `<h1>${escapeHtml(input.service)} status</h1>
<div class="muted">Stage ${escapeHtml(input.stage)} · updated ${when(input.generatedAt.toISOString())} · refreshes every minute</div>
<div class="banner${overall.tone === 'ok' ? '' : ` ${overall.tone}`}" role="status">${escapeHtml(overall.text)}</div>
<table>
<thead><tr><th>Check</th><th>State</th><th>Last response</th><th>Latency</th>${
      input.checks.some((check) => check.days) ? `<th>Uptime, last ${UPTIME_DAYS} days</th>` : ''
    }</tr></thead>
<tbody>
${rows || '<tr><td colspan="4" class="muted">No checks have run yet.</td></tr>'}
</tbody>
</table>
<h2>Incident history</h2>
<ul>
${incidents}
</ul>`,
  });
}
