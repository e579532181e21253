// The load-test report's page: its stylesheet and the shell that holds it, offline and script-free.

import { htmlPage } from '../http/html.ts';
import { COLORS } from './report-charts.ts';

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
svg .step-bar.p50{fill:${COLORS.p50}}
svg .step-bar.p95{fill:${COLORS.p95}}
svg .step-bar.p99{fill:${COLORS.p99}}
svg .step-row:hover .tick{fill:var(--ink);font-weight:600}
.steps .card{margin-bottom:12px}
.failures{margin:0 0 10px}
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

/** A whole report page: inline styles only, and a policy that lets it load nothing else. */
export function reportPage(title: string, body: string): string {
  return htmlPage({
    title,
    meta: `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    style: STYLE,
    body,
  });
}
