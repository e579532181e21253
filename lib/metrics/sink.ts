// Where metrics go: CloudWatch when deployed, nowhere (or PostgreSQL) locally.

export type MetricUnit = 'Milliseconds' | 'Count' | 'Percent' | 'Count/Second' | 'Bytes' | 'None';

export interface Metric {
  name: string;
  value: number;
  unit: MetricUnit;
  dimensions: Record<string, string>;
  timestamp?: Date;
}

export interface MetricsSink {
  /** A short name for logs and CLI output, e.g. "CloudWatch namespace Loadwatch". */
  readonly description: string;
  put(metrics: Metric[]): Promise<void>;
}
