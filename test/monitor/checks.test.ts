import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/stack.ts';
import {
  CheckConfigError,
  MONITOR_LAMBDA_TIMEOUT_SECONDS,
  parseMonitorDefinition,
} from '../../lib/monitor/checks.ts';

function problemsOf(checks: unknown[], intervalSeconds?: number): string[] {
  try {
    parseMonitorDefinition({ checks }, 'http://127.0.0.1:1', 'checks.json', false, intervalSeconds);
  } catch (error) {
    if (error instanceof CheckConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseMonitorDefinition', () => {
  it('refuses a timeout that is not below the interval, naming the check and both numbers', () => {
    expect(problemsOf([{ name: 'slow', endpoint: '/health', timeout: 5000 }], 5)).toEqual([
      'checks[0].timeout: 5000 ms for check "slow" is not below the monitor\'s interval of 5 s (5000 ms); lower the timeout or lengthen the interval',
    ]);
    expect(problemsOf([{ name: 'fits', endpoint: '/health', timeout: 4999 }], 5)).toEqual([]);
  });

  it('refuses a timeout that is not below the monitor function’s timeout, whatever the interval', () => {
    expect(problemsOf([{ name: 'long', endpoint: '/health', timeout: 55_000 }], 60)).toEqual([
      `checks[0].timeout: 55000 ms for check "long" is not below the monitor function's timeout of ${MONITOR_LAMBDA_TIMEOUT_SECONDS} s (${MONITOR_LAMBDA_TIMEOUT_SECONDS * 1000} ms)`,
    ]);
  });

  it('gives a check without a timeout half the interval when that is under the default 5 s', () => {
    const [short] = parseMonitorDefinition(
      { checks: [{ name: 'a', endpoint: '/health' }] },
      'http://127.0.0.1:1',
      'test',
      false,
      1,
    ).checks;
    expect(short?.timeoutMs).toBe(500);
    const [long] = parseMonitorDefinition(
      { checks: [{ name: 'a', endpoint: '/health' }] },
      'http://127.0.0.1:1',
      'test',
      false,
      60,
    ).checks;
    expect(long?.timeoutMs).toBe(5000);
  });

  it('checks against the timeout serverless.yml gives the monitor function, and the interval it runs at', () => {
    const yaml = readFileSync(join(projectRoot(), 'serverless.yml'), 'utf8');
    const start = yaml.indexOf('\n  monitor:\n');
    const block = yaml.slice(start, yaml.indexOf('\n\n', start));
    expect(block.match(/\n {4}timeout: (\d+)/)?.[1]).toBe(String(MONITOR_LAMBDA_TIMEOUT_SECONDS));
    // The same number as the schedule's period, so the stored interval and the staleness it decides are true.
    expect(block).toContain(`MONITOR_INTERVAL: \${param:monitorPeriodSeconds}`);
  });
});
