import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runMonitor } from '../../lib/monitor/runner.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

async function untilProbed(target: FaultTarget, before: number, timeoutMs = 20_000) {
  const started = Date.now();
  while (target.requests() === before) {
    if (Date.now() - started > timeoutMs) throw new Error('the target was never probed');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('runMonitor stopped during a cycle', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let target: FaultTarget;
  const dataDir = scratchDataDir('monitor-stop');
  const definitionOf = (name: string, timeout: number, intervalSeconds: number) =>
    parseMonitorDefinition(
      { checks: [{ name, url: `${target.url}/health`, timeout }] },
      target.url,
      'test',
      false,
      intervalSeconds,
    );

  beforeAll(async () => {
    target = await startFaultTarget();
    await target.set('hang');
  });
  afterAll(async () => {
    await target?.close();
    dataDir.remove();
  });

  it('returns at once, abandoning the probe in flight without storing or reporting it', async () => {
    const store = new MonitorStore(postgres.db);
    const definition = definitionOf('stuck', 4000, 5);
    const controller = new AbortController();
    const errors: unknown[] = [];
    const before = target.requests();
    const running = runMonitor(
      definition,
      testMonitorDeps(store, new RecordingSink(), () => new Date()),
      {
        intervalSeconds: 5,
        signal: controller.signal,
        onCycleError: (error) => errors.push(error),
      },
    );
    await untilProbed(target, before);
    const stopped = performance.now();
    controller.abort();
    const report = await running;
    expect(performance.now() - stopped).toBeLessThan(500);
    expect(report.cycles).toBe(0);
    expect(errors).toEqual([]);
    expect(await store.samples('stuck', new Date(0), 10)).toEqual([]);
  }, 10_000);

  it('returns at once when stopped while it waits for the next cycle', async () => {
    await target.set('healthy');
    const store = new MonitorStore(postgres.db);
    const definition = definitionOf('waiting', 2000, 30);
    const controller = new AbortController();
    let stopped = 0;
    const report = await runMonitor(
      definition,
      testMonitorDeps(store, new RecordingSink(), () => new Date()),
      {
        intervalSeconds: 30,
        signal: controller.signal,
        onCycle: () =>
          setTimeout(() => {
            stopped = performance.now();
            controller.abort();
          }, 100),
      },
    );
    expect(performance.now() - stopped).toBeLessThan(500);
    expect(report.cycles).toBe(1);
    expect(report.checks[0]?.last?.ok).toBe(true);
    await target.set('hang');
  }, 10_000);

  it('lets `loadwatch start` stop within 2 s of SIGTERM while a check is probing', async () => {
    const checksFile = join(dataDir.path, 'checks.json');
    writeFileSync(
      checksFile,
      JSON.stringify({ checks: [{ name: 'stuck', url: `${target.url}/health`, timeout: 4000 }] }),
    );
    const before = target.requests();
    const stack = startCli(['start'], {
      LOADWATCH_DATA_DIR: dataDir.path,
      DATABASE_URL: postgres.database.url,
      PORT: String(await freePort()),
      MONITOR_CHECKS_FILE: checksFile,
      MONITOR_INTERVAL: '5',
    });
    try {
      await stack.waitFor(/Ctrl-C stops everything/);
      await untilProbed(target, before);
      const signalled = performance.now();
      stack.child.kill('SIGTERM');
      expect(await stack.exited).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(2000);
    } finally {
      stack.child.kill('SIGKILL');
    }
  }, 40_000);
});
