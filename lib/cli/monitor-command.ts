// `loadwatch monitor`: the monitor's cycles from the command line, with a live table and a final report.

import { writeFileSync } from 'node:fs';
import { createConsoleSink } from '../alerts/console.ts';
import type { Config } from '../config/config.ts';
import { createLogger } from '../log/logger.ts';
import type { CycleResult } from '../monitor/cycle.ts';
import { everyCheckOk, formatMonitorReport } from '../monitor/report.ts';
import { runMonitor } from '../monitor/runner.ts';
import { monitorDefinition, monitorDeps } from '../monitor/service.ts';
import { MONITOR_INTERVAL_SECONDS } from '../monitor/settings.ts';
import { terminalJson, terminalSafe } from '../terminal-text.ts';
import { isHttpUrl, wholeNumberOf } from '../validation/rules.ts';
import { openCommandDatabase } from './command-database.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { defaultTarget } from './loadtest-command.ts';
import { UsageError } from './usage-error.ts';

export const monitorHelp = (config: Config) => `Usage: loadwatch monitor [options]

  --interval S        seconds between cycles, ${MONITOR_INTERVAL_SECONDS.min} to ${MONITOR_INTERVAL_SECONDS.max} (default MONITOR_INTERVAL, else 60)
  --duration S        stop after S seconds (default: until Ctrl-C)
  --once              one cycle, then the report
  --config FILE       checks file (JSON); default: MONITOR_CHECKS_FILE, else /health and /health/ready
  --target URL        base URL for the checks (default: ${defaultTarget(config)})
  --json              print the final report as JSON alone on stdout
  --report FILE       also write the report: .json, .md (Markdown) or anything else as text
Exit: 0 when every check ends OK (not in ALARM, and its last probe passed), 1 when any does not,
      2 for bad usage or configuration.
`;

/** The table of one cycle; what the target said (errors) and the checks file gave (names, holds) is escaped. */
function liveTable(cycle: CycleResult, count: number): string {
  const lines = [`cycle ${count} at ${cycle.at.toISOString()}`];
  for (const sample of cycle.samples) {
    const state = cycle.states[sample.key] ?? 'OK';
    const latency = sample.latencyMs === null ? '-' : `${sample.latencyMs} ms`;
    const note = sample.held ? `held: ${sample.held}` : (sample.error ?? sample.warning ?? '');
    lines.push(
      `  ${terminalSafe(sample.name).padEnd(16)} ${state.padEnd(6)} ${(sample.ok ? 'ok' : 'FAIL').padEnd(5)} ${String(sample.status ?? '-').padEnd(4)} ${latency.padEnd(10)} ${terminalSafe(note)}`,
    );
  }
  for (const transition of cycle.transitions)
    lines.push(
      terminalSafe(
        `  → ${transition.name}: ${transition.action}${transition.detail ? ` (${transition.detail})` : ''}`,
      ),
    );
  if (cycle.delivery.pending) lines.push(`  ${cycle.delivery.pending} alert(s) waiting in the outbox`);
  return `${lines.join('\n')}\n`;
}

export async function monitorCommand(argv: string[], config: Config, io: CliIo): Promise<number> {
  const { values, problems } = parseFlags(argv, {
    values: ['interval', 'duration', 'config', 'target', 'report'],
    switches: ['once', 'json'],
  });
  if (problems.length > 0) throw new UsageError(problems);
  const seconds = (flag: 'interval' | 'duration', range: { min: number; max?: number }) => {
    const value = values[flag];
    if (value === undefined) return undefined;
    const parsed = wholeNumberOf(value);
    if (parsed === undefined) throw new UsageError(`--${flag}: "${value}" is not a whole number of seconds`);
    if (parsed < range.min || parsed > (range.max ?? Number.MAX_SAFE_INTEGER)) {
      const bound = range.max === undefined ? `at least ${range.min}` : `${range.min} to ${range.max}`;
      throw new UsageError(`--${flag}: ${parsed} is out of range (${bound} seconds)`);
    }
    return parsed;
  };
  const intervalSeconds = seconds('interval', MONITOR_INTERVAL_SECONDS) ?? config.monitor.intervalSeconds;
  const durationSeconds = seconds('duration', { min: 1 });
  if (values.target !== undefined && !isHttpUrl(values.target)) {
    throw new UsageError(`--target: "${values.target}" is not an http(s) URL`);
  }
  const baseUrl = values.target ?? defaultTarget(config);
  const definition = monitorDefinition(config, baseUrl, {
    file: values.config,
    overridden: values.target !== undefined,
    intervalSeconds,
  });

  const database = await openCommandDatabase(config, 'monitor', { size: 1, maxOverflow: 4 });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const logger = createLogger({ level: 'error', write: (line) => io.err(`${line}\n`) });
    // On a terminal the table redraws in place; an alert printed below it starts a fresh one.
    const live = io.errIsTerminal === true;
    let drawnLines = 0;
    const alerts = createConsoleSink((text) => {
      io.err(text);
      drawnLines = 0;
    });
    const deps = monitorDeps({ config, db: database.db, logger, alerts });
    io.err(
      `monitoring ${definition.checks.length} check(s) at ${terminalSafe(baseUrl)} every ${intervalSeconds}s` +
        `${values.once ? ' (once)' : durationSeconds ? ` for ${durationSeconds}s` : ' until Ctrl-C'}; metrics: PostgreSQL only (no CloudWatch configured)\n`,
    );
    const report = await runMonitor(definition, deps, {
      intervalSeconds,
      durationSeconds,
      once: values.once === true,
      signal: controller.signal,
      onCycle: (cycle, all) => {
        const table = liveTable(cycle, all.length);
        io.err(live && drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[J${table}` : table);
        drawnLines = table.split('\n').length - 1;
      },
      onCycleError: (error) =>
        io.err(
          `cycle failed: ${terminalSafe((error as Error)?.message ?? String(error))}; trying again next cycle\n`,
        ),
    });
    // A report file is read with cat as often as with an editor: it carries no raw control character either.
    const render = (format: 'json' | 'markdown' | 'text') =>
      format === 'json'
        ? `${terminalJson(report)}\n`
        : terminalSafe(formatMonitorReport(report, format), { keepLines: true });
    if (values.report) {
      const { report: file } = values;
      writeFileSync(
        file,
        render(file.endsWith('.json') ? 'json' : file.endsWith('.md') ? 'markdown' : 'text'),
      );
      io.err(`report written to ${terminalSafe(file)}\n`);
    }
    io.out(render(values.json ? 'json' : 'text'));
    return everyCheckOk(report) ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await database.close();
  }
}
