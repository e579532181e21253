import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/stack.ts';

const read = (path: string) => readFileSync(join(projectRoot(), path), 'utf8');

describe('custom metrics in serverless.yml', () => {
  it('names only metrics the code emits, in the alarms and on the dashboard', () => {
    const template = read('serverless.yml');
    const emitted = new Set(
      [read('lib/monitor/cycle.ts'), read('lib/loadtest/coordinator-steps.ts')].flatMap((source) =>
        [...source.matchAll(/name: '([A-Za-z]+)'/g)].map((match) => match[1]),
      ),
    );
    const onDashboard = [...template.matchAll(/"\$\{param:metricsNamespace\}", "([A-Za-z]+)"/g)].map(
      (match) => match[1],
    );
    const inAlarms = [
      ...template.matchAll(/Namespace: \$\{param:metricsNamespace\}[\s\S]*?MetricName: ([A-Za-z]+)/g),
    ].map((match) => match[1]);
    expect(onDashboard.length).toBeGreaterThan(5);
    expect(inAlarms).toContain('AlertAvailability');
    for (const metric of [...onDashboard, ...inAlarms]) expect(emitted, metric).toContain(metric);
  });
});
