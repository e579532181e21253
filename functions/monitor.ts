// monitor Lambda, on a schedule: one cycle of every check, metrics to CloudWatch, alerts through SNS.

import type { Context } from 'aws-lambda';
import { createConsoleSink } from '../lib/alerts/console.ts';
import { runCycle } from '../lib/monitor/cycle.ts';
import { monitorDefinition, monitorDeps } from '../lib/monitor/service.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (_event: unknown, context: Context) => {
  const deps = lambdaDeps();
  const { config, logger } = deps;
  if (!config.apiUrl) throw new Error('API_URL: is required for the monitor (the API it checks)');
  const definition = monitorDefinition(config, config.apiUrl);
  const alerts =
    deps.alerts(context) ??
    createConsoleSink((text) => logger.warn('alert (no SNS topic configured)', { text }));
  const cycle = await runCycle(
    definition,
    monitorDeps({ config, db: deps.db(), logger, alerts, metrics: deps.metrics() }),
  );
  const summary = {
    at: cycle.at.toISOString(),
    checks: cycle.samples.map((sample) => ({
      name: sample.name,
      ok: sample.ok,
      status: sample.status,
      latencyMs: sample.latencyMs,
      error: sample.error,
      state: cycle.states[sample.key],
    })),
    transitions: cycle.transitions,
    delivery: cycle.delivery,
    metrics: cycle.metrics,
  };
  logger.info('monitor cycle', summary);
  return summary;
};
