// What the configuration tells a monitor, and its bounds: small, so that every Lambda's config can read it without
// the checks file's schema.

export interface MonitorSettings {
  /** A JSON file of checks; the service's own /health and /health/ready when unset. */
  checksFile: string | undefined;
  intervalSeconds: number;
  /** Days of samples kept; a longer SLO window keeps them as long unless MONITOR_RETENTION_DAYS set this. */
  retentionDays: number;
  /** MONITOR_RETENTION_DAYS was set: a check whose SLO window is longer is then refused, not kept longer. */
  retentionDaysSet?: boolean;
}

/** Seconds between monitor cycles, for MONITOR_INTERVAL and --interval alike. */
export const MONITOR_INTERVAL_SECONDS = { min: 1, max: 86_400 } as const;
export const DEFAULT_MONITOR_INTERVAL_SECONDS = 60;

/** The monitor function's timeout in serverless.yml: every probe's deadline must end inside it. */
export const MONITOR_LAMBDA_TIMEOUT_SECONDS = 50;
