// monitor Lambda, on a schedule: one cycle of every check, metrics to CloudWatch, alerts through SNS.

import type { Context } from 'aws-lambda';
import { createConsoleSink } from '../lib/alerts/console.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { runCycle } from '../lib/monitor/cycle.ts';
import { monitorDefinition, monitorDeps } from '../lib/monitor/service.ts';
import { snsAlerts } from './adapters/alerts.ts';
import { lambdaDb } from './adapters/database.ts';
import { cloudWatchMetrics } from './adapters/metrics.ts';
import { webhookSecrets } from './adapters/webhooks.ts';
import { lambdaEnvironment } from './environment.ts';

const environment = lambdaEnvironment();
const { config } = environment;
const metrics = cloudWatchMetrics(config);
const alerts = snsAlerts(config);
const webhooks = webhookSecrets(config);
const logFields = invocationLogFields(config.traceHeader);

export const handler = async (_event: unknown, context: Context) => {
  const logger = environment.logger.child(logFields(context));
  if (!config.apiUrl) throw new Error('API_URL: is required for the monitor (the API it checks)');
  const definition = monitorDefinition(config, config.apiUrl);
  const cycle = await runCycle(
    definition,
    monitorDeps({
      config,
      db: lambdaDb(environment),
      logger,
      alerts:
        alerts(context) ??
        createConsoleSink((text) => logger.warn('alert (no SNS topic configured)', { text })),
      webhookSecrets: await webhooks(context),
      metrics,
    }),
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
