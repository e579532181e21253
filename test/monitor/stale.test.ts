import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

describe('checks whose monitor went quiet', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: RunningApi;
  let target: FaultTarget;
  const lastChecked: Record<string, string> = {};

  beforeAll(async () => {
    target = await startFaultTarget();
    const store = new MonitorStore(postgres.db);
    // Each check is run by its own monitor: when it last ran, and at what interval.
    const monitors = [
      { name: 'gone', minutesAgo: 10, intervalSeconds: 60 },
      { name: 'current', minutesAgo: 0, intervalSeconds: 60 },
      { name: 'hourly', minutesAgo: 30, intervalSeconds: 3600 },
    ];
    for (const { name, minutesAgo, intervalSeconds } of monitors) {
      const definition = parseMonitorDefinition(
        { checks: [{ name, endpoint: '/health', timeout: 1000 }] },
        target.url,
        'test',
        false,
        intervalSeconds,
      );
      const at = new Date(Date.now() - minutesAgo * 60_000);
      lastChecked[name] = at.toISOString();
      await runCycle(
        definition,
        testMonitorDeps(store, new RecordingSink(), () => at, { intervalSeconds }),
      );
    }
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
  });
  afterAll(async () => {
    await api?.close();
    await target?.close();
  });

  it('lists each check with its last-checked time and stale after three of its monitor’s intervals', async () => {
    const response = await fetch(`${api.url}/v1/checks`);
    expect(response.status).toBe(200);
    const { checks } = (await response.json()) as {
      checks: Array<{
        check: string;
        state: string;
        lastCheckedAt: string;
        intervalSeconds: number;
        stale: boolean;
      }>;
    };
    expect(
      checks.map(({ check, state, lastCheckedAt, intervalSeconds, stale }) => ({
        check,
        state,
        lastCheckedAt,
        intervalSeconds,
        stale,
      })),
    ).toEqual([
      {
        check: 'current',
        state: 'OK',
        lastCheckedAt: lastChecked.current,
        intervalSeconds: 60,
        stale: false,
      },
      { check: 'gone', state: 'OK', lastCheckedAt: lastChecked.gone, intervalSeconds: 60, stale: true },
      {
        check: 'hourly',
        state: 'OK',
        lastCheckedAt: lastChecked.hourly,
        intervalSeconds: 3600,
        stale: false,
      },
    ]);
  });

  it('does not call a stale check operational on the status page', async () => {
    const response = await fetch(`${api.url}/status`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).not.toContain('All checks operational');
    expect(html).toContain('role="status">1 check not checked for over 3 intervals: gone</div>');
  });
});
