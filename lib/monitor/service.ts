// Wires a monitor from configuration: its checks, its store, and where alerts and metrics go.

import type { AlertSettings } from '../alerts/channels.ts';
import type { AlertSink } from '../alerts/sink.ts';
import { alertChannels, type WebhookSecrets } from '../alerts/webhook-channels.ts';
import { listMigrations } from '../db/migrations.ts';
import type { Db } from '../db/pool.ts';
import type { RetentionSettings } from '../db/retention.ts';
import { LoadTestStore } from '../loadtest/store.ts';
import type { Logger } from '../log/logger.ts';
import type { MetricsSink } from '../metrics/sink.ts';
import { CheckConfigError, loadMonitorDefinition } from './checks.ts';
import type { MonitorDeps } from './cycle.ts';
import type { MonitorSettings } from './settings.ts';
import { MonitorStore } from './store.ts';

/** What a monitor reads of the configuration. */
export interface MonitorConfig {
  service: string;
  stage: string;
  monitor: MonitorSettings;
  /** The batches samples are pruned in; the defaults when unset. */
  retention?: RetentionSettings;
  alerts: AlertSettings;
}

export function monitorDeps(options: {
  config: MonitorConfig;
  db: Db;
  logger: Logger;
  alerts: AlertSink;
  /** The webhooks' URLs and signing secrets that the configuration does not hold (read from Secrets Manager). */
  webhookSecrets?: WebhookSecrets;
  metrics?: MetricsSink;
}): MonitorDeps {
  const loadTests = new LoadTestStore(options.db);
  return {
    store: new MonitorStore(options.db, { retention: options.config.retention }),
    logger: options.logger,
    alerts: options.alerts,
    channels: alertChannels(options.config.alerts, options.alerts, options.webhookSecrets),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    loadTestHosts: async () => (await loadTests.activeTargets()).map((target) => new URL(target).host),
    dimensions: { Service: options.config.service, Stage: options.config.stage },
    retentionDays: options.config.monitor.retentionDays,
    intervalSeconds: options.config.monitor.intervalSeconds,
    latestMigration: listMigrations().at(-1) ?? null,
    serviceLabel: `${options.config.service}/${options.config.stage}`,
  };
}

/**
 * The checks for a base URL: `target` overrides the service's own API (and keeps its history apart). Their
 * timeouts must fit `intervalSeconds`, MONITOR_INTERVAL unless the caller runs cycles at another pace.
 */
export function monitorDefinition(
  config: MonitorConfig,
  baseUrl: string,
  options: { file?: string; overridden?: boolean; intervalSeconds?: number } = {},
) {
  const file = options.file ?? config.monitor.checksFile;
  const definition = loadMonitorDefinition(
    file,
    baseUrl,
    options.overridden ?? false,
    options.intervalSeconds ?? config.monitor.intervalSeconds,
  );
  // An SLO's budget is counted over the samples kept: unless told otherwise, the cycle keeps them for the longest
  // window (sampleRetentionDays); a retention set shorter would read a partial budget, so it is refused.
  const { retentionDays, retentionDaysSet } = config.monitor;
  const problems = definition.checks.flatMap((check, index) =>
    retentionDaysSet && check.slo && check.slo.windowDays > retentionDays
      ? [
          `checks[${index}].slo.window: ${check.slo.windowDays} days for check "${check.name}" is longer than MONITOR_RETENTION_DAYS (${retentionDays}); keep samples at least as long, or unset it to keep them for the longest window`,
        ]
      : [],
  );
  if (problems.length > 0) throw new CheckConfigError(file ?? 'default checks', problems);
  return definition;
}
