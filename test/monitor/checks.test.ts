import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/stack.ts';
import { DEFAULT_RULES } from '../../lib/monitor/check-schema.ts';
import { CheckConfigError, parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { MONITOR_LAMBDA_TIMEOUT_SECONDS } from '../../lib/monitor/settings.ts';

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

function rulesOf(rules: unknown) {
  const [check] = parseMonitorDefinition(
    { checks: [{ name: 'a', endpoint: '/health', rules }] },
    'http://127.0.0.1:1',
    'test',
    false,
  ).checks;
  return check?.rules;
}

describe('parseMonitorDefinition alert rules', () => {
  it('gives a check the default rules when it sets none', () => {
    expect(rulesOf(undefined)).toEqual(DEFAULT_RULES);
  });

  it('keeps the defaults for every rule a check leaves out when it sets only some', () => {
    expect(rulesOf({ recoveryCycles: 5, reminderMinutes: 0 })).toEqual({
      ...DEFAULT_RULES,
      recoveryCycles: 5,
      reminderMinutes: 0,
    });
  });

  it('reads down as X failures of the last Y checks when failures and window are given', () => {
    expect(rulesOf({ down: { failures: 3, window: 5 } })?.down).toEqual({ failures: 3, window: 5 });
    expect(rulesOf({ down: { consecutive: 4 } })?.down).toEqual({ consecutive: 4 });
  });

  it('turns the error-rate rule off when errorRate is null or false', () => {
    expect(rulesOf({ errorRate: null })?.errorRate).toBeNull();
    expect(rulesOf({ errorRate: false })?.errorRate).toBeNull();
    expect(rulesOf({ errorRate: { percent: 20, window: 30 } })?.errorRate).toEqual({
      percent: 20,
      window: 30,
    });
  });

  it('refuses a down rule whose failures exceed its window, or that names neither form', () => {
    expect(
      problemsOf([{ name: 'a', endpoint: '/health', rules: { down: { failures: 6, window: 5 } } }]),
    ).toEqual(['checks[0].rules.down: failures (6) cannot exceed window (5)']);
    expect(problemsOf([{ name: 'a', endpoint: '/health', rules: { down: {} } }])).toEqual([
      'checks[0].rules.down: needs "consecutive", or "failures" and "window"',
    ]);
  });

  it('refuses a rule count that is not a whole number in range, naming the field', () => {
    expect(
      problemsOf([{ name: 'a', endpoint: '/health', rules: { recoveryCycles: 0, degradedCycles: 1.5 } }]),
    ).toEqual([
      'checks[0].rules.degradedCycles: 1.5 is not a whole number',
      'checks[0].rules.recoveryCycles: 0 is out of range (1 to 100)',
    ]);
  });
});
