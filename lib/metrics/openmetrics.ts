// The OpenMetrics text format (what Prometheus scrapes with `Accept: application/openmetrics-text`): metric families
// in, exposition text out, with names, labels and values written as the specification requires.

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface MetricSample {
  /** Appended to the family's name: "_bucket", "_gcount", "_total". */
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'gaugehistogram' | 'info' | 'stateset';
  /** When set, the name must end in `_<unit>`. */
  unit?: string;
  samples: MetricSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/** The bucket bound as a label: "+Inf" for the last. */
export const bucketBound = (le: number) => (le === Number.POSITIVE_INFINITY ? '+Inf' : String(le));

/** A sample's value: as a bound, or "NaN" and "-Inf". */
const formatValue = (value: number) =>
  Number.isNaN(value) ? 'NaN' : value === Number.NEGATIVE_INFINITY ? '-Inf' : bucketBound(value);

export function renderOpenMetrics(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`"${family.name}" is not a metric name`);
    if (family.unit && !family.name.endsWith(`_${family.unit}`))
      throw new Error(`metric "${family.name}" must end in its unit "_${family.unit}"`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.unit) lines.push(`# UNIT ${family.name} ${family.unit}`);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      for (const [label] of labels) if (!LABEL.test(label)) throw new Error(`"${label}" is not a label name`);
      const labelText = labels.length
        ? `{${labels.map(([label, value]) => `${label}="${escapeLabel(value)}"`).join(',')}}`
        : '';
      lines.push(`${family.name}${sample.suffix ?? ''}${labelText} ${formatValue(sample.value)}`);
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}
