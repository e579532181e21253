// The status page: every check's state, a latency sparkline and recent incidents, in one HTML page.

import { escapeHtml, htmlPage } from '../http/html.ts';
import { sparkline } from '../http/svg-chart.ts';
import { STALE_AFTER_INTERVALS } from './rules.ts';
import type { CheckStateRecord, IncidentRecord } from './store.ts';

export interface StatusPageInput {
  service: string;
  stage: string;
  generatedAt: Date;
  checks: Array<CheckStateRecord & { latencies: Array<number | null> }>;
  incidents: IncidentRecord[];
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
  body { margin: 0 auto; max-width: 960px; padding: 24px; line-height: 1.45; }
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
  tr.alarm .spark { color: var(--alarm); }
  .muted { color: var(--muted); font-size: .85rem; font-weight: normal; }
  .spark line.fail { stroke: var(--alarm); stroke-width: 1.5; }
  @media (prefers-color-scheme: dark) {
    :root { --muted: #9aa4ae; --ok: #2ea043; }
    tr.alarm td:nth-child(2), .firing { color: #ff7b72; }
  }
  .firing { color: var(--alarm); font-weight: 600; }
  ul { padding-left: 18px; }
  li { margin-bottom: 10px; }
`;

export function renderStatusPage(input: StatusPageInput): string {
  const overall = overallStatus(input);
  const rows = input.checks
    .map((check) => {
      const last = check.lastSample;
      const latency =
        last?.latencyMs === null || last?.latencyMs === undefined ? '–' : `${Math.round(last.latencyMs)} ms`;
      const checked = check.lastCheckedAt ? when(check.lastCheckedAt) : 'never';
      return `<tr class="${check.state === 'ALARM' ? 'alarm' : 'ok'}${check.stale ? ' stale' : ''}">
  <td><span class="dot"></span>${escapeHtml(check.check)}</td>
  <td>${stateCell(check)}</td>
  <td>${latency}${last && !last.ok && last.error ? `<div class="muted">${escapeHtml(last.error)}</div>` : ''}<div class="muted">checked ${checked}</div></td>
  <td>${sparkline(check.latencies)}</td>
</tr>`;
    })
    .join('\n');
  const incidents = input.incidents.length
    ? input.incidents
        .map(
          (incident) =>
            `<li><strong>${escapeHtml(incident.check)}</strong> · ${escapeHtml(incident.severity)} · opened ${when(incident.openedAt)}${
              incident.resolvedAt
                ? `, resolved ${when(incident.resolvedAt)}`
                : ' · <span class="firing">ongoing</span>'
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
<thead><tr><th>Check</th><th>State</th><th>Last response</th><th>Latency</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4" class="muted">No checks have run yet.</td></tr>'}
</tbody>
</table>
<h2>Recent incidents</h2>
<ul>
${incidents}
</ul>`,
  });
}
