// The load-test report as a terminal summary table.

import { formatDecimal } from '../http/units.ts';
import { terminalSafe } from '../terminal-text.ts';
import { MIN_SELF_CHECK_MS } from './measurement.ts';
import { plural } from './plural.ts';
import type { LoadTestReport } from './report.ts';
import {
  describeFailures,
  formatPassRate,
  type ReportWithSteps,
  reportChecks,
  reportSteps,
} from './step-report.ts';
import { LATENCY_METRICS } from './thresholds.ts';
import { explainVerdict, heldRate } from './verdict.ts';

function rampUp(report: LoadTestReport): string {
  // Ramp-up stages change the rate; the steady stage does not.
  const ramp = (report.stages ?? [])
    .filter((stage) => stage.from !== stage.to)
    .reduce((sum, stage) => sum + stage.durationSeconds, 0);
  return ramp > 0 ? `, ramp-up ${ramp}s` : '';
}

/** Widest a step's name is printed; longer names end in "…". */
const STEP_NAME_WIDTH = 32;

function fitColumn(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/** One row per step, then every check with its passes and failures. */
function stepLines(report: ReportWithSteps): string[] {
  const steps = reportSteps(report);
  const checks = reportChecks(report);
  const width = Math.min(STEP_NAME_WIDTH, Math.max(4, ...steps.map((step) => step.name.length)));
  const cells = (values: string[]) => values.map((value) => value.padEnd(9)).join('');
  const lines = [
    `  ${'step'.padEnd(width + 2)}${cells(['requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'checks failed'])}`.trimEnd(),
  ];
  const heldARate = heldRate(report);
  for (const step of steps) {
    const failedChecks = step.checks.reduce((sum, check) => sum + check.failed, 0);
    const values = [
      formatDecimal(step.requests),
      heldARate ? formatDecimal(step.rps) : '–',
      formatDecimal(step.latencyMs.p50),
      formatDecimal(step.latencyMs.p95),
      formatDecimal(step.latencyMs.p99),
      `${formatDecimal(step.errorPercent)}%`,
      step.checks.length ? formatDecimal(failedChecks) : '–',
    ];
    lines.push(`  ${terminalSafe(fitColumn(step.name, width))}  ${cells(values)}`.trimEnd());
  }
  if (checks.length) {
    lines.push('');
    const checkWidth = Math.min(STEP_NAME_WIDTH, Math.max(5, ...checks.map((check) => check.name.length)));
    lines.push(`  ${'check'.padEnd(checkWidth + 2)}${cells(['passed', 'failed', 'rate'])}step`);
    for (const check of checks) {
      const values = [formatDecimal(check.passed), formatDecimal(check.failed), formatPassRate(check)];
      lines.push(
        `  ${terminalSafe(fitColumn(check.name, checkWidth))}  ${cells(values)}${terminalSafe(check.step)}${check.failed ? '  FAIL' : ''}`,
      );
    }
  }
  return lines;
}

export function formatSummary(report: LoadTestReport, status: string): string {
  const lines: string[] = [];
  // Values hold the target, paths and errors as given or answered: escaped, so the terminal only prints them.
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(12)}${terminalSafe(value)}`);
  lines.push('');
  const why = explainVerdict(report);
  lines.push(
    `loadwatch load test ${report.runId}: ${status.toUpperCase()}, grade ${report.grade}${why ? `: ${why}` : ''}`,
  );
  row('target', report.target);
  for (const warning of report.warnings ?? []) row('WARNING', `!! ${warning}`);
  const connection = report.connection;
  // Only what differs from HTTP/1.1 with the default certificate check.
  if (
    connection &&
    (connection.protocol !== 'HTTP/1.1' ||
      connection.clientCertificate ||
      connection.certificateVerification === 'verified against the given CA' ||
      connection.certificateVerification === 'skipped')
  )
    row(
      'connection',
      [
        connection.protocol,
        ...(connection.clientCertificate ? ['client certificate'] : []),
        {
          verified: 'certificate verified',
          'verified against the given CA': 'certificate verified against the given CA',
          skipped: 'certificate NOT verified',
          none: 'plain http',
        }[connection.certificateVerification],
      ].join(', '),
    );
  row(
    'endpoints',
    report.endpoints
      .map((item) => `${item.method} ${item.path}${report.endpoints.length > 1 ? ` ×${item.weight}` : ''}`)
      .join(', '),
  );
  row(
    'model',
    report.model === 'closed'
      ? `closed: ${plural(report.users ?? 0, 'user')} × ${plural(report.requestsPerUser ?? 0, 'request')}${report.thinkTimeMs ? `, think ${report.thinkTimeMs} ms` : ''}`
      : `open: ${report.rate} req/s for ${report.duration}s${rampUp(report)}`,
  );
  row(
    'workers',
    `${formatDecimal(report.workers)} × ${plural(report.rounds, 'round')}${report.shards.failed ? `, ${plural(report.shards.failed, 'shard')} failed` : ''}${report.shards.retried ? `, ${formatDecimal(report.shards.retried)} retried` : ''}`,
  );
  row(
    'requests',
    `${formatDecimal(report.totals.requests)} (ok ${formatDecimal(report.totals.ok)}, failed ${formatDecimal(report.totals.failed)}, ${report.errorPercent}%) in ${report.durationSeconds}s, ${heldRate(report) ? `${formatDecimal(report.rps)} req/s` : 'under a second: too short for a rate'}`,
  );
  const latency = report.latencyMs;
  lines.push('');
  lines.push('  latency ms  min      mean     p50      p90      p95      p99      p99.9    max');
  const values = (summary: typeof latency) =>
    LATENCY_METRICS.map((key) => formatDecimal(summary[key]).padEnd(9))
      .join('')
      .trimEnd();
  lines.push(`  ${(report.model === 'open' ? 'corrected' : 'measured').padEnd(12)}${values(latency)}`);
  if (report.model === 'open')
    lines.push(`  ${'uncorrected'.padEnd(12)}${values(report.latencyUncorrectedMs)}`);
  // Reports stored before responses were counted apart have no figure.
  if (report.noResponse)
    lines.push(
      `  ${''.padEnd(12)}over ${plural(report.responses, 'response')}; ${formatDecimal(report.noResponse)} without a response ${report.noResponse === 1 ? 'is' : 'are'} counted under errors only`,
    );
  lines.push('');
  lines.push(...stepLines(report));
  lines.push('');
  const codes = Object.entries(report.statusCodes).map(([code, count]) => `${code}: ${formatDecimal(count)}`);
  row('status', codes.length ? codes.join(', ') : '(no responses)');
  // HTTP failures and network errors together, each named: the count agrees with "failed" above.
  row('errors', describeFailures(report));
  // Reports stored before shard failures were recorded have no list.
  (report.shards.failures ?? []).forEach((item, index) => {
    const where = item.first ? `, first round ${item.first.round} shard ${item.first.shard}` : '';
    row(
      index === 0 ? 'shard fails' : '',
      `${item.error}${item.cause ? `: ${item.cause}` : ''} (${plural(item.shards, 'shard')}${where})`,
    );
  });
  report.thresholds.forEach((threshold, index) => {
    const measured =
      threshold.actual === null
        ? `not judged: ${threshold.problem}`
        : `actual ${formatDecimal(threshold.actual)}`;
    const verdict = `${threshold.passed ? 'pass' : 'FAIL'}  ${threshold.expr} (${measured})${threshold.default ? ', the default when no threshold is set' : ''}`;
    row(index === 0 ? 'thresholds' : '', verdict);
  });
  const figures = `event-loop lag p99 ${report.generator.eventLoopLagMs} ms${report.model === 'open' ? `, send lag p99 ${report.generator.sendLagMs} ms` : ''}, CPU ${report.generator.cpuPercent}%`;
  row(
    'generator',
    report.generator.tooShortToJudge
      ? `too short to judge (the self-check needs a shard to run ${MIN_SELF_CHECK_MS / 1000} s; ${figures})`
      : report.generator.saturated
        ? `SATURATED (${figures}): the figures may measure the load generator, not the target; add --workers or lower the load`
        : `ok (${figures})`,
  );
  if (report.aborted) row('aborted', 'the run was stopped before it finished');
  else if (report.unsent > 0)
    row(
      'unsent',
      `${plural(report.unsent, 'request')} ${report.unsent === 1 ? 'was' : 'were'} never sent: the run used all its rounds`,
    );
  lines.push('');
  return lines.join('\n');
}
