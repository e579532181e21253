// The monitor's run report: availability, latency percentiles, breaches and alerts per check, with totals.

import type { CheckDefinition } from './checks.ts';
import type { CycleResult } from './cycle.ts';

export interface CheckReport {
  name: string;
  url: string;
  samples: number;
  /** Percent of samples that passed. */
  availability: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
  /** Samples that failed or were slower than the warn threshold. */
  breaches: number;
  alertsRaised: number;
  alertsResolved: number;
  state: 'OK' | 'ALARM';
  /** The check's newest sample of the run; null when no cycle reached it. */
  last: { at: string; ok: boolean; error: string | null } | null;
}

export interface MonitorReport {
  startedAt: string;
  finishedAt: string;
  cycles: number;
  intervalSeconds: number;
  checks: CheckReport[];
  totals: {
    samples: number;
    availability: number;
    breaches: number;
    alertsRaised: number;
    alertsResolved: number;
    alarms: number;
    /** Checks whose newest sample failed (or that were never probed), in alarm or not yet. */
    failing: number;
  };
  /** Resource use seen over the run: the monitor's own memory, and the API's database as /health/ready reports it. */
  resources: {
    monitorMemoryMb: number;
    database: {
      latencyMs: { p50: number | null; p95: number | null };
      pool: Record<string, number> | null;
    } | null;
  };
  metrics: string;
  alerts: string;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? null;
}

const round = (value: number) => Math.round(value * 100) / 100;

export function buildMonitorReport(
  checks: CheckDefinition[],
  cycles: CycleResult[],
  context: { startedAt: Date; intervalSeconds: number; metrics: string; alerts: string },
): MonitorReport {
  const reports = checks.map((check): CheckReport => {
    const samples = cycles.flatMap((cycle) => cycle.samples.filter((sample) => sample.key === check.key));
    const latencies = samples
      .flatMap((sample) => (sample.latencyMs === null ? [] : [sample.latencyMs]))
      .sort((a, b) => a - b);
    const transitions = cycles.flatMap((cycle) => cycle.transitions.filter((item) => item.key === check.key));
    const last = cycles.at(-1);
    const newest = samples.at(-1);
    return {
      name: check.name,
      url: check.url,
      samples: samples.length,
      availability: samples.length
        ? round((samples.filter((sample) => sample.ok).length / samples.length) * 100)
        : 0,
      latencyMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
      },
      breaches: samples.filter((sample) => !sample.ok || (sample.latencyMs ?? 0) > check.latency.warnMs)
        .length,
      alertsRaised: transitions.filter((item) => item.action === 'raise').length,
      alertsResolved: transitions.filter((item) => item.action === 'resolve').length,
      state: last?.states[check.key] ?? 'OK',
      last: newest ? { at: newest.at.toISOString(), ok: newest.ok, error: newest.error } : null,
    };
  });
  const databaseSamples = cycles.flatMap((cycle) =>
    cycle.samples.filter((sample) => sample.details && 'databaseLatencyMs' in sample.details),
  );
  const databaseLatencies = databaseSamples
    .map((sample) => sample.details?.databaseLatencyMs)
    .filter((value): value is number => typeof value === 'number')
    .sort((a, b) => a - b);
  const lastPool = databaseSamples.at(-1)?.details?.pool as Record<string, number> | null | undefined;
  const samples = reports.reduce((sum, item) => sum + item.samples, 0);
  const okSamples = reports.reduce((sum, item) => sum + (item.availability / 100) * item.samples, 0);
  return {
    startedAt: context.startedAt.toISOString(),
    finishedAt: (cycles.at(-1)?.at ?? context.startedAt).toISOString(),
    cycles: cycles.length,
    intervalSeconds: context.intervalSeconds,
    checks: reports,
    totals: {
      samples,
      availability: samples ? round((okSamples / samples) * 100) : 0,
      breaches: reports.reduce((sum, item) => sum + item.breaches, 0),
      alertsRaised: reports.reduce((sum, item) => sum + item.alertsRaised, 0),
      alertsResolved: reports.reduce((sum, item) => sum + item.alertsResolved, 0),
      alarms: reports.filter((item) => item.state === 'ALARM').length,
      failing: reports.filter((item) => !item.last?.ok).length,
    },
    resources: {
      monitorMemoryMb:
        Math.round((Math.max(0, ...cycles.map((cycle) => cycle.memoryBytes ?? 0)) / 1048576) * 10) / 10,
      database: databaseSamples.length
        ? {
            latencyMs: { p50: percentile(databaseLatencies, 50), p95: percentile(databaseLatencies, 95) },
            pool: lastPool ?? null,
          }
        : null,
    },
    metrics: context.metrics,
    alerts: context.alerts,
  };
}

/**
 * True when every check ended healthy: not in alarm, and its last probe passed. A failing check that has not yet
 * tripped a rule (a single `--once` cycle, say) is not healthy.
 */
export function everyCheckOk(report: MonitorReport): boolean {
  return report.checks.every((check) => check.state === 'OK' && check.last?.ok === true);
}

const cell = (value: number | null) => (value === null ? '-' : String(value));

export function formatMonitorReport(report: MonitorReport, format: 'text' | 'markdown'): string {
  const header = [
    'check',
    'state',
    'availability',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'breaches',
    'raised',
    'resolved',
  ];
  const rows = report.checks.map((check) => [
    check.name,
    check.state,
    `${check.availability}%`,
    cell(check.latencyMs.p50),
    cell(check.latencyMs.p95),
    cell(check.latencyMs.p99),
    String(check.breaches),
    String(check.alertsRaised),
    String(check.alertsResolved),
  ]);
  const totals = [
    'total',
    report.totals.alarms
      ? `${report.totals.alarms} ALARM`
      : report.totals.failing
        ? `${report.totals.failing} FAILING`
        : 'OK',
    `${report.totals.availability}%`,
    '',
    '',
    '',
    String(report.totals.breaches),
    String(report.totals.alertsRaised),
    String(report.totals.alertsResolved),
  ];
  const intro = `monitor: ${report.cycles} cycle(s) every ${report.intervalSeconds}s from ${report.startedAt} to ${report.finishedAt}`;
  const database = report.resources.database;
  const footer = [
    `resources: monitor ${report.resources.monitorMemoryMb} MB${
      database
        ? `; database latency p50 ${cell(database.latencyMs.p50)} ms, p95 ${cell(database.latencyMs.p95)} ms; pool ${
            database.pool
              ? `${database.pool.total}/${database.pool.max} open, ${database.pool.waiting} waiting`
              : '-'
          }`
        : ''
    }`,
    `metrics: ${report.metrics}`,
    `alerts: ${report.alerts}`,
  ];
  if (format === 'markdown') {
    const line = (values: string[]) => `| ${values.join(' | ')} |`;
    return [
      `# loadwatch monitor report`,
      '',
      intro,
      '',
      line(header),
      line(header.map(() => '---')),
      ...rows.map(line),
      line(totals.map((value, index) => (index === 0 ? '**total**' : value))),
      '',
      ...footer.map((text) => `- ${text}`),
      '',
    ].join('\n');
  }
  const table = [header, ...rows, totals];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const render = (row: string[]) =>
    row
      .map((value, column) => value.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [intro, '', render(header), ...rows.map(render), render(totals), '', ...footer, ''].join('\n');
}
