// The status page: every check's state, a latency sparkline and recent incidents, in one HTML page.

import { escapeHtml } from '../http/html.ts';
import type { CheckStateRecord, IncidentRecord } from './store.ts';

export interface StatusPageInput {
  service: string;
  stage: string;
  generatedAt: Date;
  checks: Array<CheckStateRecord & { latencies: Array<number | null> }>;
  incidents: IncidentRecord[];
}

/** A polyline of latencies, oldest to newest; gaps (failed samples) break the line. */
export function sparkline(values: Array<number | null>, width = 240, height = 36): string {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0)
    return `<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="no samples"></svg>`;
  const max = Math.max(...known, 1);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((value, index) => {
    if (value === null) {
      if (current.length) segments.push(current.join(' '));
      current = [];
      return;
    }
    const x = (index * step).toFixed(1);
    const y = (height - 2 - (value / max) * (height - 4)).toFixed(1);
    current.push(`${x},${y}`);
  });
  if (current.length) segments.push(current.join(' '));
  const lines = segments
    .map((points) => `<polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5"/>`)
    .join('');
  const label = `latency, last ${values.length} checks, peak ${Math.round(max)} ms`;
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}"><title>${escapeHtml(label)}</title>${lines}</svg>`;
}

export function renderStatusPage(input: StatusPageInput): string {
  const alarms = input.checks.filter((check) => check.state === 'ALARM').length;
  const overall =
    input.checks.length === 0
      ? 'No checks have run yet'
      : alarms
        ? `${alarms} check(s) in alarm`
        : 'All checks operational';
  const rows = input.checks
    .map((check) => {
      const last = check.lastSample;
      const latency =
        last?.latencyMs === null || last?.latencyMs === undefined ? '–' : `${Math.round(last.latencyMs)} ms`;
      return `<tr class="${check.state === 'ALARM' ? 'alarm' : 'ok'}">
  <td><span class="dot"></span>${escapeHtml(check.check)}</td>
  <td>${check.state === 'ALARM' ? 'Alarm' : 'Operational'}<div class="muted">since ${escapeHtml(check.since)}</div></td>
  <td>${latency}${last && !last.ok && last.error ? `<div class="muted">${escapeHtml(last.error)}</div>` : ''}</td>
  <td>${sparkline(check.latencies)}</td>
</tr>`;
    })
    .join('\n');
  const incidents = input.incidents.length
    ? input.incidents
        .map(
          (incident) =>
            `<li><strong>${escapeHtml(incident.check)}</strong> · ${escapeHtml(incident.severity)} · opened ${escapeHtml(incident.openedAt)}${
              incident.resolvedAt
                ? `, resolved ${escapeHtml(incident.resolvedAt)}`
                : ' · <span class="firing">ongoing</span>'
            }<div class="muted">${escapeHtml(incident.summary)}</div></li>`,
        )
        .join('\n')
    : '<li class="muted">No incidents recorded.</li>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>${escapeHtml(input.service)} status · ${escapeHtml(input.stage)}</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --alarm: #cf222e; --muted: #6e7781; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0 auto; max-width: 960px; padding: 24px; line-height: 1.45; }
  h1 { font-size: 1.4rem; margin: 0 0 4px; }
  .banner { padding: 14px 18px; border-radius: 8px; color: #fff; font-weight: 600; margin: 16px 0 24px; background: var(--ok); }
  .banner.alarm { background: var(--alarm); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 10px 8px; border-bottom: 1px solid rgba(127,127,127,.25); vertical-align: top; }
  th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 8px; background: var(--ok); }
  tr.alarm .dot { background: var(--alarm); }
  tr.alarm td:nth-child(2) { color: var(--alarm); font-weight: 600; }
  .spark { width: 240px; height: 36px; color: #0969da; }
  tr.alarm .spark { color: var(--alarm); }
  .muted { color: var(--muted); font-size: .85rem; }
  .firing { color: var(--alarm); font-weight: 600; }
  ul { padding-left: 18px; }
  li { margin-bottom: 10px; }
</style>
</head>
<body>
<h1>${escapeHtml(input.service)} status</h1>
<div class="muted">Stage ${escapeHtml(input.stage)} · updated ${escapeHtml(input.generatedAt.toISOString())} · refreshes every minute</div>
<div class="banner${alarms ? ' alarm' : ''}" role="status">${escapeHtml(overall)}</div>
<table>
<thead><tr><th>Check</th><th>State</th><th>Last response</th><th>Latency</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4" class="muted">No checks have run yet.</td></tr>'}
</tbody>
</table>
<h2>Recent incidents</h2>
<ul>
${incidents}
</ul>
</body>
</html>
`;
}
