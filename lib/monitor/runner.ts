// Runs monitor cycles on an interval for a duration (or until stopped) and reports on the whole run.

import { setTimeout as sleep } from 'node:timers/promises';
import type { MonitorDefinition } from './checks.ts';
import { type CycleResult, type MonitorDeps, monitorChannels, runCycle } from './cycle.ts';
import { buildMonitorReport, type MonitorReport } from './report.ts';

export interface RunMonitorOptions {
  intervalSeconds: number;
  /** Stop after this long; undefined runs until the signal aborts. */
  durationSeconds?: number;
  once?: boolean;
  signal?: AbortSignal;
  onCycle?: (cycle: CycleResult, all: CycleResult[]) => void;
  /** A cycle that failed (the database away, say); the monitor carries on with the next one. */
  onCycleError?: (error: unknown) => void;
}

export async function runMonitor(
  definition: MonitorDefinition,
  deps: MonitorDeps,
  options: RunMonitorOptions,
): Promise<MonitorReport> {
  const startedAt = new Date();
  const cycles: CycleResult[] = [];
  const endAt = Date.now() + (options.durationSeconds ?? Number.POSITIVE_INFINITY) * 1000;
  for (;;) {
    const began = Date.now();
    try {
      const cycle = await runCycle(
        definition,
        { ...deps, intervalSeconds: options.intervalSeconds },
        { signal: options.signal },
      );
      cycles.push(cycle);
      options.onCycle?.(cycle, cycles);
    } catch (error) {
      // Stopped in the middle of a cycle: its unfinished probes are no failure of the target, and not reported.
      if (options.signal?.aborted) break;
      if (!options.onCycleError) throw error;
      options.onCycleError(error);
    }
    if (options.once || options.signal?.aborted) break;
    const next = began + options.intervalSeconds * 1000;
    if (next > endAt) break;
    // The wait rejects (an AbortError) when the signal aborts, before or during it.
    if (await sleep(Math.max(0, next - Date.now()), false, { signal: options.signal }).catch(() => true))
      break;
  }
  return buildMonitorReport(definition.checks, cycles, {
    startedAt,
    intervalSeconds: options.intervalSeconds,
    metrics: deps.metrics ? deps.metrics.description : 'PostgreSQL only (no CloudWatch configured)',
    alerts: monitorChannels(deps)
      .map((channel) => `${channel.sink.description} (${channel.severities.join(', ')})`)
      .join('; '),
  });
}
