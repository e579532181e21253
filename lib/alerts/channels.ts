// Where each notification goes: every channel names the incident severities it hears about.

import type { AlertSink, Severity } from './sink.ts';

/** The severities an incident can have: recoveries and reminders follow the channels its announcement went to. */
export type IncidentSeverity = Exclude<Severity, 'info'>;
export const INCIDENT_SEVERITIES: readonly IncidentSeverity[] = ['critical', 'warning'];

export interface AlertChannel {
  /** Stable: each outbox row records the channel it is for. */
  name: string;
  severities: readonly IncidentSeverity[];
  sink: AlertSink;
}

/** The SNS topic's channel (the console locally) is called this in the outbox. */
export const PRIMARY_CHANNEL = 'sns';

/** Names of the channels that announce an incident of this severity. */
export function channelsFor(channels: readonly AlertChannel[], severity: Severity): string[] {
  return channels
    .filter((channel) => severity === 'info' || channel.severities.includes(severity))
    .map((channel) => channel.name);
}

/** A webhook channel as the configuration names it; its URL and signing secret come from the environment or a secret. */
export interface WebhookSettings {
  name: string;
  format: 'json' | 'slack';
  severities: IncidentSeverity[];
  /** Set locally (ALERT_WEBHOOK_URL_<NAME>); on AWS read from the Secrets Manager secret. */
  url?: string;
  signingSecret?: string;
}

export interface AlertSettings {
  /** What the SNS topic (the console locally) announces. */
  snsSeverities: IncidentSeverity[];
  webhooks: WebhookSettings[];
  /** A Secrets Manager secret's name holding {"<webhook>": {"url", "signingSecret"}}; its ARN is built at run time. */
  webhookSecretName: string | undefined;
}

/** The environment variable holding a webhook's URL or signing secret: ALERT_WEBHOOK_URL_ONCALL_PAGE for "oncall-page". */
export function webhookVariable(kind: 'URL' | 'SIGNING_SECRET', name: string): string {
  return `ALERT_WEBHOOK_${kind}_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
