// Where notifications go: SNS when deployed; printed locally.

export type Severity = 'critical' | 'warning' | 'info';

export interface Notification {
  subject: string;
  /** Human-readable text; the JSON detail is appended by the sink. */
  message: string;
  detail: Record<string, unknown>;
  severity: Severity;
  /** Extra attributes for subscription filter policies, e.g. { check: 'api-health' }. */
  attributes?: Record<string, string>;
  /** Stable per incident and transition ("12:raised"): sent as the `dedupe` attribute for consumers that deduplicate. */
  deduplicationId?: string;
}

export interface AlertSink {
  readonly description: string;
  publish(notification: Notification): Promise<void>;
}
