import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../lib/config/config.ts';
import type { MonitorReport } from '../../lib/monitor/report.ts';
import { startAccountApi } from '../support/account-api.ts';
import { runCli, startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';

describe('loadwatch monitor', () => {
  const dataDir = scratchDataDir('monitor-cli');
  const checksFile = join(dataDir.path, 'checks.json');
  let target: FaultTarget;

  beforeAll(async () => {
    target = await startFaultTarget();
    writeFileSync(
      checksFile,
      JSON.stringify({
        checks: [
          {
            name: 'api',
            endpoint: '/health',
            timeout: 500,
            latency: { warn: 200, critical: 400 },
            rules: { down: { consecutive: 2 }, recoveryCycles: 2, reminderMinutes: 0, errorRate: null },
          },
        ],
      }),
    );
  });
  afterAll(async () => {
    await target?.close();
    dataDir.remove();
  });

  it('reports one alert and one recovery for a target that fails for several cycles, and exits 0', async () => {
    const run = startCli(
      [
        'monitor',
        '--target',
        target.url,
        '--config',
        checksFile,
        '--interval',
        '1',
        '--duration',
        '9',
        '--json',
      ],
      { LOADWATCH_DATA_DIR: dataDir.path },
    );
    await run.waitFor(/cycle 2 at/);
    await target.set('error');
    await run.waitFor(/cycle 6 at/);
    await target.set('healthy');
    expect(await run.exited).toBe(0);
    const output = run.output();
    const report = JSON.parse(output.slice(output.indexOf('{\n'))) as MonitorReport;
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]).toMatchObject({ name: 'api', alertsRaised: 1, alertsResolved: 1, state: 'OK' });
    expect(report.checks[0]?.availability).toBeLessThan(100);
    expect(report.checks[0]?.latencyMs.p50).toBeGreaterThan(0);
    expect(report.totals).toMatchObject({ alertsRaised: 1, alertsResolved: 1, alarms: 0 });
    expect(report.resources.monitorMemoryMb).toBeGreaterThan(10);
    expect(output.match(/\[ALARM\] loadwatch\/local: api is down/g)).toHaveLength(1);
    expect(output.match(/\[OK\] loadwatch\/local: api recovered/g)).toHaveLength(1);
    expect(output).toContain('metrics: PostgreSQL only (no CloudWatch configured)');
  });

  it('exits 1 when a check ends in alarm, and writes a Markdown report', async () => {
    await target.set('refuse');
    const reportFile = join(dataDir.path, 'report.md');
    const result = await runCli(
      [
        'monitor',
        '--target',
        target.url,
        '--config',
        checksFile,
        '--interval',
        '1',
        '--duration',
        '3',
        '--report',
        reportFile,
      ],
      { LOADWATCH_DATA_DIR: dataDir.path },
    );
    await target.set('healthy');
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/api\s+ALARM\s+0%/);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(reportFile, 'utf8')).toMatch(/^# loadwatch monitor report/);
  });

  it('exits 1 after --once when a check failed without raising an alert yet, and 0 when it passed', async () => {
    // A check of its own: the earlier tests leave "api" in alarm.
    const onceFile = join(dataDir.path, 'once.json');
    writeFileSync(
      onceFile,
      JSON.stringify({
        checks: [{ name: 'once', endpoint: '/health', timeout: 500, rules: { down: { consecutive: 2 } } }],
      }),
    );
    await target.set('error');
    const failing = await runCli(
      ['monitor', '--target', target.url, '--config', onceFile, '--once', '--json'],
      {
        LOADWATCH_DATA_DIR: dataDir.path,
      },
    );
    await target.set('healthy');
    expect(failing.code).toBe(1);
    const report = JSON.parse(failing.output.slice(failing.output.indexOf('{\n'))) as MonitorReport;
    expect(report.checks[0]).toMatchObject({
      state: 'OK',
      alertsRaised: 0,
      last: { ok: false, error: 'status 500, expected 200' },
    });
    expect(report.totals).toMatchObject({ alarms: 0, failing: 1 });
    const passing = await runCli(['monitor', '--target', target.url, '--config', onceFile, '--once'], {
      LOADWATCH_DATA_DIR: dataDir.path,
    });
    expect(passing.code).toBe(0);
    expect(passing.output).toMatch(/total\s+OK\s+100%/);
  });

  it('ends --once at the check timeout against a target that trickles a byte at a time', async () => {
    const trickleFile = join(dataDir.path, 'trickle.json');
    writeFileSync(
      trickleFile,
      JSON.stringify({ checks: [{ name: 'trickle', endpoint: '/health', timeout: 1000 }] }),
    );
    // A database of its own, so that what is timed is the probe, not starting an embedded PostgreSQL.
    const database = await createTestDatabase();
    await target.set('trickle', 200);
    const started = performance.now();
    const result = await runCli(
      ['monitor', '--target', target.url, '--config', trickleFile, '--once'],
      { LOADWATCH_DATA_DIR: dataDir.path, DATABASE_URL: database.url },
      20_000,
    );
    const elapsed = performance.now() - started;
    await target.set('healthy');
    await database.drop();
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/trickle\s+OK\s+FAIL\s+-\s+-\s+timeout/);
    // Start-up and migrations included: a second of probing, where the trickle used to keep it forever.
    expect(elapsed).toBeLessThan(8000);
  }, 30_000);

  it('runs a scenario check from a file beside the checks file with --once, naming the step that failed', async () => {
    const api = await startAccountApi();
    mkdirSync(join(dataDir.path, 'flows'), { recursive: true });
    writeFileSync(
      join(dataDir.path, 'flows', 'account.yml'),
      [
        'flows:',
        '  - steps:',
        '      - { name: login, method: POST, path: /login, json: { user: monitor },',
        '          capture: { token: { json: $.token } } }',
        '      - name: account',
        '        path: /account',
        '        headers: { authorization: "Bearer {{ token }}" }',
        '        checks: [{ name: plan-is-pro, json: $.plan, equals: pro }]',
        '',
      ].join('\n'),
    );
    const scenarioFile = join(dataDir.path, 'scenario.json');
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        checks: [{ name: 'account', kind: 'scenario', file: 'flows/account.yml', timeout: 2000 }],
      }),
    );
    try {
      const run = () =>
        runCli(['monitor', '--target', api.url, '--config', scenarioFile, '--once', '--json'], {
          LOADWATCH_DATA_DIR: dataDir.path,
        });
      const passing = await run();
      expect(passing.code).toBe(0);
      expect(api.requests).toEqual(['POST /login', 'GET /account']);
      api.plan = 'free';
      const failing = await run();
      expect(failing.code).toBe(1);
      const report = JSON.parse(failing.output.slice(failing.output.indexOf('{\n'))) as MonitorReport;
      expect(report.checks[0]?.last).toMatchObject({
        ok: false,
        error: 'step account: check "plan-is-pro" failed',
      });
    } finally {
      await api.close();
    }
  });

  it('exits 2 naming each bad field of a checks file', async () => {
    const bad = join(dataDir.path, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ checks: [{ name: 'x y', endpoint: 'health', timeout: 'soon', rules: { down: {} } }] }),
    );
    const result = await runCli(['monitor', '--config', bad, '--once'], { LOADWATCH_DATA_DIR: dataDir.path });
    expect(result.code).toBe(2);
    expect(result.output).toContain('checks[0].name: "x y" must be 1-64 letters, digits');
    expect(result.output).toContain('checks[0].endpoint: "health" must be a path starting with "/"');
    expect(result.output).toContain('checks[0].timeout: "soon" is not a whole number');
    expect(result.output).toContain('checks[0].rules.down: needs "consecutive", or "failures" and "window"');
    expect((await runCli(['monitor', '--interval', 'fast'], { LOADWATCH_DATA_DIR: dataDir.path })).code).toBe(
      2,
    );
  });

  it('takes an interval from --interval in exactly the range MONITOR_INTERVAL accepts', async () => {
    const configProblem = (value: string) => {
      try {
        loadConfig({ MONITOR_INTERVAL: value });
        return null;
      } catch (error) {
        return (error as ConfigError).problems.join('\n');
      }
    };
    expect(configProblem('1')).toBeNull();
    expect(configProblem('86400')).toBeNull();
    expect(configProblem('86401')).toBe('MONITOR_INTERVAL: 86401 is out of range (1 to 86400 seconds)');
    const tooLong = await runCli(['monitor', '--interval', '86401', '--once'], {
      LOADWATCH_DATA_DIR: dataDir.path,
    });
    expect(tooLong.code).toBe(2);
    expect(tooLong.output).toContain('--interval: 86401 is out of range (1 to 86400 seconds)');
    const tooShort = await runCli(['monitor', '--interval', '0', '--once'], {
      LOADWATCH_DATA_DIR: dataDir.path,
    });
    expect(tooShort.code).toBe(2);
    expect(tooShort.output).toContain('--interval: 0 is out of range (1 to 86400 seconds)');
  });

  it('exits 2 for a --duration that is not a whole number of seconds, or under one', async () => {
    const env = { LOADWATCH_DATA_DIR: dataDir.path };
    const zero = await runCli(['monitor', '--duration', '0'], env);
    expect(zero.code).toBe(2);
    expect(zero.output).toContain('--duration: 0 is out of range (at least 1 seconds)');
    const word = await runCli(['monitor', '--duration', '5m'], env);
    expect(word.code).toBe(2);
    expect(word.output).toContain('--duration: "5m" is not a whole number of seconds');
  });
});
