// The HTML page of a run still going: its figures so far, from the shards' snapshots, reloading itself every few
// seconds until the run's report replaces it.

import { escapeHtml, htmlPage } from '../http/html.ts';
import { formatDecimal } from '../http/units.ts';
import type { LivePercentiles, LiveResults } from './live.ts';
import type { RunRecord } from './store.ts';

/** Seconds between reloads of a running run's page; the shards write every second or more. */
export const LIVE_PAGE_REFRESH_SECONDS = 5;

const ms = (latency: LivePercentiles) =>
  `<td>${formatDecimal(latency.p50)}</td><td>${formatDecimal(latency.p95)}</td><td>${formatDecimal(latency.p99)}</td>`;

function stat(label: string, value: string, note = ''): string {
  return `<div class="stat"><div class="label">${escapeHtml(label)}</div><div class="value">${value}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

const STYLE = `
body{margin:0;background:#f1f5f9;color:#0f172a;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1120px;margin:0 auto;padding:28px 24px 40px}
h1{font-size:22px;margin:4px 0 0;overflow-wrap:anywhere}
h2{font-size:16px;margin:24px 0 10px}
.top,.card,.stat{background:#fff;border:1px solid #e2e8f0;border-radius:10px}
.top{padding:20px 24px}
.eyebrow,.label,.note,.muted{color:#64748b;font-size:12px}
.eyebrow,.label{text-transform:uppercase;letter-spacing:.05em}
.badge{display:inline-block;padding:6px 14px;border-radius:999px;font-weight:700;letter-spacing:.06em;color:#fff;background:#2563eb}
.reload{margin-left:12px}
.stats{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin-top:12px}
.stat{padding:12px 14px}
.value{font-size:22px;font-weight:700}
.card{padding:16px 18px}
table{width:100%;border-collapse:collapse}
th,td{padding:5px 6px;border-bottom:1px solid #e2e8f0;text-align:left}
th{font-size:12px;color:#64748b}
code{font-family:ui-monospace,Menlo,Consolas,monospace}
@media (max-width:720px){.stats{grid-template-columns:repeat(2,minmax(0,1fr))}}
`;

/** "status 200 100% · has token 78.6%": each check's pass rate so far, or a dash for a step without checks. */
function checks(list: LiveResults['steps'][number]['checks']): string {
  if (list.length === 0) return '–';
  return list
    .map((check) => {
      const total = check.passed + check.failed;
      const rate = total > 0 ? `${formatDecimal((check.passed / total) * 100)}%` : 'not run';
      return `${escapeHtml(check.name)} ${rate}`;
    })
    .join(' · ');
}

function figures(live: LiveResults): string {
  const { window } = live;
  const steps = live.steps
    .map(
      (step) =>
        `<tr><td><code>${escapeHtml(step.name)}</code></td><td>${formatDecimal(step.requests)}</td><td>${formatDecimal(step.failed)} (${formatDecimal(step.errorPercent)}%)</td>${ms(step.latencyMs)}<td>${formatDecimal(step.window.rps)} req/s</td><td>${formatDecimal(step.window.errorPercent)}%</td>${ms(step.window.latencyMs)}<td>${checks(step.checks)}</td></tr>`,
    )
    .join('');
  return `<p class="muted">${formatDecimal(live.elapsedSeconds)} s into the run · ${formatDecimal(live.shards.reporting)} shard snapshot(s), ${formatDecimal(live.shards.finished)} finished · updated ${escapeHtml(live.updatedAt ?? '')}</p>
<div class="stats">
${stat('requests so far', formatDecimal(live.totals.requests), `${formatDecimal(live.totals.failed)} failed (${formatDecimal(live.errorPercent)}%)`)}
${stat(`rate, last ${window.seconds} s`, `${formatDecimal(window.rps)} req/s`, `${formatDecimal(live.rps)} req/s over the run`)}
${stat(`errors, last ${window.seconds} s`, `${formatDecimal(window.errorPercent)}%`, `${formatDecimal(window.errors)} of ${formatDecimal(window.requests)}`)}
${stat(`p95, last ${window.seconds} s`, `${formatDecimal(window.latencyMs.p95)} ms`, `p50 ${formatDecimal(window.latencyMs.p50)} · p99 ${formatDecimal(window.latencyMs.p99)} ms`)}
</div>
<h2>Latency, ms</h2>
<div class="card"><table>
<thead><tr><th></th><th>p50</th><th>p95</th><th>p99</th></tr></thead>
<tbody><tr><td>last ${window.seconds} s (seconds ${window.fromSecond}–${window.toSecond} of the run)</td>${ms(window.latencyMs)}</tr>
<tr><td>the run so far</td>${ms(live.latencyMs)}</tr></tbody>
</table></div>
<h2>Steps</h2>
<div class="card"><table>
<thead><tr><th rowspan="2">step</th><th colspan="5">so far</th><th colspan="5">last ${window.seconds} s</th><th rowspan="2">checks passed</th></tr>
<tr><th>requests</th><th>failed</th><th>p50</th><th>p95</th><th>p99</th><th>rate</th><th>errors</th><th>p50</th><th>p95</th><th>p99</th></tr></thead>
<tbody>${steps}</tbody>
</table></div>`;
}

/** `run` is running (or pending); its `live` is what its shards have written so far, merged. */
export function renderLivePage(run: RunRecord): string {
  const stopping = run.abortRequested ? ' (stopping: an abort was asked for)' : '';
  const body = `<main>
<section class="top">
<p class="eyebrow">Load test ${escapeHtml(run.id)} · figures so far</p>
<h1>${escapeHtml(run.target)}</h1>
<p><span class="badge">${escapeHtml(run.status.toUpperCase())}</span>${escapeHtml(stopping)}
<a class="reload" href="">Reload</a> <span class="muted">(this page reloads every ${LIVE_PAGE_REFRESH_SECONDS} s until the report is ready)</span></p>
${run.live ? '' : '<p class="muted">No figures yet: no shard has written a snapshot.</p>'}
</section>
${run.live ? figures(run.live) : ''}
</main>`;
  return htmlPage({
    title: `${run.status.toUpperCase()} · ${run.target}`,
    meta: `<meta http-equiv="refresh" content="${LIVE_PAGE_REFRESH_SECONDS}">`,
    style: STYLE,
    body,
  });
}
