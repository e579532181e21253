// What the monitor tests share: a sink that records (and can fail on demand) and the deps of a cycle.

import type { AlertSink, Notification } from '../../lib/alerts/sink.ts';
import { createLogger } from '../../lib/log/logger.ts';
import type { MonitorDeps } from '../../lib/monitor/cycle.ts';
import type { MonitorStore } from '../../lib/monitor/store.ts';

export class RecordingSink implements AlertSink {
  readonly description = 'recording sink';
  readonly delivered: Notification[] = [];
  /** Publishes to fail before the sink delivers again, as an SNS outage would. */
  failuresLeft = 0;
  attempts = 0;
  async publish(notification: Notification) {
    this.attempts++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('SNS is unavailable (injected)');
    }
    this.delivered.push(notification);
  }
}

export function testMonitorDeps(
  store: MonitorStore,
  alerts: AlertSink,
  now: () => Date,
  extra: Partial<MonitorDeps> = {},
): MonitorDeps {
  return {
    store,
    logger: createLogger({ level: 'error' }),
    alerts,
    dimensions: { Service: 'loadwatch', Stage: 'test' },
    retentionDays: 14,
    intervalSeconds: 60,
    latestMigration: null,
    serviceLabel: 'loadwatch/test',
    now,
    ...extra,
  };
}
