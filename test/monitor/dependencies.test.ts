import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { type CycleResult, runCycle } from '../../lib/monitor/cycle.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

const RULES = { down: { consecutive: 2 }, recoveryCycles: 2, reminderMinutes: 0, errorRate: null };

describe('checks that depend on a database check', () => {
  const postgres = useMigratedDatabase({ poolSize: 4 });
  let store: MonitorStore;
  let database: FaultTarget;
  let app: FaultTarget;
  let sink: RecordingSink;
  let clock: Date;

  const definition = () =>
    parseMonitorDefinition(
      {
        checks: [
          // Listed after its dependants: the order in the file does not matter.
          ...['orders', 'cart', 'search'].map((name) => ({
            name,
            endpoint: `/${name}`,
            timeout: 1000,
            dependsOn: ['database'],
            rules: RULES,
          })),
          {
            name: 'database',
            kind: 'database',
            url: `${database.url}/health/ready`,
            timeout: 1000,
            rules: RULES,
          },
        ],
      },
      app.url,
      'test',
      false,
      60,
    );

  async function cycles(count: number): Promise<CycleResult[]> {
    const results: CycleResult[] = [];
    for (let index = 0; index < count; index++) {
      clock = new Date(clock.getTime() + 60_000);
      results.push(
        await runCycle(
          definition(),
          testMonitorDeps(store, sink, () => clock),
        ),
      );
    }
    return results;
  }
  const subjects = () => sink.delivered.map((item) => item.subject);

  beforeAll(async () => {
    store = new MonitorStore(postgres.db);
    database = await startFaultTarget();
    app = await startFaultTarget();
  });
  beforeEach(async () => {
    await postgres.database.admin(
      'TRUNCATE monitor_samples, monitor_check_states, monitor_incidents, alert_outbox',
    );
    await database.set('healthy');
    await app.set('healthy');
    sink = new RecordingSink();
    clock = new Date('2026-02-01T00:00:00Z');
  });
  afterAll(async () => {
    await database?.close();
    await app?.close();
  });

  it('sends exactly one message while the database and its three dependants fail, then one recovery', async () => {
    await cycles(2);
    await database.set('error');
    await app.set('error');
    const outage = await cycles(5);
    expect(subjects()).toEqual(['[ALARM] loadwatch/test: database is down']);
    // The dependants failed every cycle, held by the database from its first failure on.
    expect(outage.every((cycle) => cycle.samples.filter((sample) => !sample.ok).length === 4)).toBe(true);
    expect(outage[0]?.samples.find((sample) => sample.name === 'orders')?.held).toBe(
      'its dependency "database" is failing',
    );
    const incident = (await store.incidents('firing', 10))[0];
    expect(outage.at(-1)?.transitions.filter((item) => item.name !== 'database')).toEqual(
      ['orders', 'cart', 'search'].map((name) => ({
        key: name,
        name,
        action: 'suppress',
        detail: `its dependency "database" is in incident ${incident?.id}`,
      })),
    );
    expect(outage.at(-1)?.states).toEqual({ orders: 'OK', cart: 'OK', search: 'OK', database: 'ALARM' });
    await database.set('healthy');
    await app.set('healthy');
    await cycles(4);
    expect(subjects()).toEqual([
      '[ALARM] loadwatch/test: database is down',
      '[OK] loadwatch/test: database recovered after 5m',
    ]);
    expect(await store.incidents('all', 10)).toHaveLength(1);
  });

  it('sends one recovery for each incident announced, a dependant’s own from before the outage included', async () => {
    await app.set('error');
    await cycles(2);
    expect(subjects().sort()).toEqual([
      '[ALARM] loadwatch/test: cart is down',
      '[ALARM] loadwatch/test: orders is down',
      '[ALARM] loadwatch/test: search is down',
    ]);
    await database.set('error');
    await cycles(3);
    expect(subjects()).toHaveLength(4);
    expect(subjects()[3]).toBe('[ALARM] loadwatch/test: database is down');
    await database.set('healthy');
    await app.set('healthy');
    await cycles(3);
    expect(subjects().slice(4).sort()).toEqual([
      '[OK] loadwatch/test: cart recovered after 5m',
      '[OK] loadwatch/test: database recovered after 3m',
      '[OK] loadwatch/test: orders recovered after 5m',
      '[OK] loadwatch/test: search recovered after 5m',
    ]);
    await cycles(2);
    expect(subjects()).toHaveLength(8);
  });

  it('opens a dependant’s own incident only once it stays down after the database recovers', async () => {
    await database.set('error');
    await app.set('error');
    await cycles(3);
    expect(subjects()).toEqual(['[ALARM] loadwatch/test: database is down']);
    await database.set('healthy');
    // Two healthy cycles resolve the database's incident; until then the dependants' failures still join it.
    const [first, second, third] = await cycles(3);
    const held = (cycle: CycleResult | undefined) =>
      cycle?.samples.find((sample) => sample.name === 'search')?.held;
    const raised = (cycle: CycleResult | undefined) =>
      cycle?.transitions.filter((item) => item.action === 'raise').map((item) => item.name);
    expect(held(first)).toMatch(/^its dependency "database" is in incident \d+$/);
    // Resolved in the second: the dependants, decided after it, fail on their own from there, and their second
    // own failure in a row raises.
    expect(held(second)).toBeNull();
    expect(raised(second)).toEqual([]);
    expect(raised(third)?.sort()).toEqual(['cart', 'orders', 'search']);
    expect(subjects().slice(0, 2)).toEqual([
      '[ALARM] loadwatch/test: database is down',
      '[OK] loadwatch/test: database recovered after 3m',
    ]);
    expect(subjects().slice(2).sort()).toEqual([
      '[ALARM] loadwatch/test: cart is down',
      '[ALARM] loadwatch/test: orders is down',
      '[ALARM] loadwatch/test: search is down',
    ]);
  });

  it('refuses a dependency on no check, on itself, or in a cycle', () => {
    const problems = (checks: unknown[]) => {
      try {
        parseMonitorDefinition({ checks }, app.url, 'test');
        return [];
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
    };
    expect(
      problems([
        { name: 'a', endpoint: '/a', dependsOn: ['b', 'a', 'zz'] },
        { name: 'b', endpoint: '/b', dependsOn: ['c'] },
        { name: 'c', endpoint: '/c', dependsOn: ['a'] },
      ]),
    ).toEqual([
      'checks[0].dependsOn[1]: check "a" cannot depend on itself',
      'checks[0].dependsOn[2]: "zz" is not a check',
      'checks[0].dependsOn: "a" → "b" → "c" → "a" is a cycle',
    ]);
  });
});
