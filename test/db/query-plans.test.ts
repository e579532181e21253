import { beforeAll, describe, expect, it } from 'vitest';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { sloWindows } from '../../lib/monitor/slo.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type GrowthData, seedGrowthAt } from '../support/growth-seed.ts';
import {
  type ExplainedStatement,
  explainingDb,
  formatPlan,
  planProblems,
  rowsRead,
} from '../support/query-plans.ts';

/** Big enough that a sequential scan costs the planner more than an index: two days of 50 checks. */
const SCALE = {
  checks: 50,
  sampleMinutes: 2 * 24 * 60,
  incidents: 20_000,
  openIncidents: 3,
  runs: 3_000,
  shardsPerRun: 2,
};

const LARGE_TABLES = [
  'monitor_samples',
  'monitor_uptime_hourly',
  'monitor_latency_hourly',
  'monitor_incidents',
  'alert_outbox',
  'loadtest_runs',
  'loadtest_shard_results',
] as const;

describe('query plans at size', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let data: GrowthData;

  beforeAll(async () => {
    data = await seedGrowthAt(postgres.database.url, SCALE);
  });

  /** Runs `call` against a Db that plans its statements, and checks every plan. */
  async function expectPlans(
    call: (stores: { monitor: MonitorStore; loadTests: LoadTestStore }) => Promise<unknown>,
    indexes: string[],
  ): Promise<ExplainedStatement[]> {
    const db = explainingDb(postgres.db);
    await call({ monitor: new MonitorStore(db), loadTests: new LoadTestStore(db) });
    expect(db.explained.length).toBeGreaterThan(0);
    const used = db.explained.map((statement) => ({
      statement,
      problems: planProblems(statement, { largeTables: LARGE_TABLES, indexes: [] }),
    }));
    const unused = indexes.filter(
      (index) =>
        !db.explained.some(
          (statement) => planProblems(statement, { largeTables: [], indexes: [index] }).length === 0,
        ),
    );
    const report = [
      ...used
        .filter((entry) => entry.problems.length > 0)
        .map(
          (entry) =>
            `${entry.problems.join(', ')}:\n${entry.statement.sql}\n${formatPlan(entry.statement.plan)}`,
        ),
      ...(unused.length > 0
        ? [
            `${unused.join(', ')} not used by:\n${db.explained.map((statement) => formatPlan(statement.plan)).join('\n\n')}`,
          ]
        : []),
    ];
    expect(report.join('\n\n'), 'plans').toBe('');
    return db.explained;
  }

  it('reads the check list with one index probe per check for its newest sample', async () => {
    await expectPlans(({ monitor }) => monitor.checkStates(), ['monitor_samples_check_at']);
  });

  it('reads a check’s samples since a time by the (check, time) index', async () => {
    const since = new Date(data.now.getTime() - 3_600_000);
    await expectPlans(
      ({ monitor }) => monitor.samples(data.checkNames[7] ?? '', since, 1000),
      ['monitor_samples_check_at'],
    );
  });

  it('reads every check’s recent samples for the status page in one statement, one index range per check', async () => {
    const since = new Date(data.now.getTime() - 6 * 3_600_000);
    const statements = await expectPlans(
      ({ monitor }) => monitor.samplesOf(data.checkNames, since, 60),
      ['monitor_samples_check_at'],
    );
    expect(statements).toHaveLength(1);
    // The same samples, per check and in order, as a query of each check's own returns.
    const keys = data.checkNames.slice(0, 3);
    const together = await new MonitorStore(postgres.db).samplesOf(keys, since, 60);
    for (const key of keys) {
      const alone = await postgres.database.admin<{ at: Date }>(
        `SELECT at FROM monitor_samples WHERE check_name = $1 AND at >= $2 ORDER BY at DESC LIMIT 60`,
        [key, since],
      );
      expect(alone.rows).toHaveLength(60);
      expect(together.get(key)?.map((sample) => sample.at)).toEqual(
        alone.rows.map((row) => row.at.toISOString()),
      );
    }
  });

  it('reads the newest samples the rules need by the (check, time) index, not by ranking the history', async () => {
    const keys = data.checkNames.slice(0, 5);
    await expectPlans(({ monitor }) => monitor.recentSamples(keys, 5), ['monitor_samples_check_at']);
    const db = explainingDb(postgres.db, { analyze: true });
    await new MonitorStore(db).recentSamples(keys, 5);
    const [statement] = db.explained;
    if (!statement) throw new Error('recentSamples sent no query');
    // Each check's range stops after its newest five (and the one that shows the tie-break is over).
    expect(rowsRead(statement.plan, 'monitor_samples'), formatPlan(statement.plan)).toBeLessThanOrEqual(
      keys.length * 6,
    );
  });

  it('counts the status page’s uptime from the daily and hourly rollups, reading only the edge hours’ samples', async () => {
    const windows = [86_400, 7 * 86_400, 30 * 86_400];
    await expectPlans(
      ({ monitor }) =>
        Promise.all([
          monitor.uptimeWindows(data.checkNames, data.now, windows),
          monitor.dailyUptime(data.checkNames, data.now, 30),
        ]),
      // monitor_uptime_daily is a row per check and day: a page or two, which the planner rightly reads whole.
      ['monitor_uptime_hourly_pkey', 'monitor_samples_check_at'],
    );
    const db = explainingDb(postgres.db, { analyze: true });
    await new MonitorStore(db).uptimeWindows(data.checkNames, data.now, windows);
    await new MonitorStore(db).dailyUptime(data.checkNames, data.now, 30);
    const [counted, daily] = db.explained;
    if (!counted || !daily) throw new Error('the uptime reads sent no query');
    // A sample a minute: under an hour of samples at each end of each window, the current hour for the days;
    // the samples of the windows themselves are 2,880 per check.
    expect(rowsRead(counted.plan, 'monitor_samples'), formatPlan(counted.plan)).toBeLessThanOrEqual(
      data.checkNames.length * windows.length * 2 * 60,
    );
    expect(rowsRead(daily.plan, 'monitor_samples'), formatPlan(daily.plan)).toBeLessThanOrEqual(
      data.checkNames.length * 60,
    );
    // Today's hours before the current one, and a row per earlier day.
    expect(rowsRead(daily.plan, 'monitor_uptime_hourly')).toBeLessThanOrEqual(data.checkNames.length * 23);
    expect(rowsRead(daily.plan, 'monitor_uptime_daily')).toBeLessThanOrEqual(data.checkNames.length * 29);
    // A month's window: its whole days, at most 46 whole hours around them.
    expect(rowsRead(counted.plan, 'monitor_uptime_hourly')).toBeLessThanOrEqual(
      data.checkNames.length * (23 + 46 + 46),
    );
  });

  it('counts a latency objective’s windows from the latency rollup, reading only the edge hours’ samples', async () => {
    const windows = sloWindows({ kind: 'latency', targetPercent: 95, latencyMs: 40, windowDays: 30 });
    const keys = data.checkNames.slice(0, 10);
    await new MonitorStore(postgres.db).registerLatencyBounds(
      data.checkNames,
      data.checkNames.map((key) => ({ key, boundMs: 40 })),
    );
    await expectPlans(
      ({ monitor }) => Promise.all(keys.map((key) => monitor.windowCounts(key, data.now, windows, 40))),
      ['monitor_latency_hourly_pkey', 'monitor_samples_check_at'],
    );
    const db = explainingDb(postgres.db, { analyze: true });
    await new MonitorStore(db).windowCounts(keys[0] ?? '', data.now, windows, 40);
    const [statement] = db.explained;
    if (!statement) throw new Error('windowCounts sent no query');
    // The two days seeded are 2,880 samples a check; the windows read under an hour of them at each end, and the
    // rollup holds every one of them.
    const counts = await new MonitorStore(postgres.db).windowCounts(keys[0] ?? '', data.now, windows, 40);
    expect(counts.get(30 * 86_400)?.total).toBeGreaterThan(2_000);
    expect(rowsRead(statement.plan, 'monitor_samples'), formatPlan(statement.plan)).toBeLessThanOrEqual(
      windows.length * 2 * 60,
    );
    expect(rowsRead(statement.plan, 'monitor_latency_hourly')).toBeLessThanOrEqual(windows.length * 49);
  });

  it('lists alerts newest first by the opened index, and firing ones by the open-incident index', async () => {
    await expectPlans(({ monitor }) => monitor.incidents('all', 100), ['monitor_incidents_opened']);
    await expectPlans(({ monitor }) => monitor.incidents('resolved', 100), ['monitor_incidents_opened']);
    await expectPlans(({ monitor }) => monitor.incidents('firing', 100), ['monitor_incidents_open']);
  });

  it('finds undelivered alerts by the pending index', async () => {
    await expectPlans(
      ({ monitor }) =>
        Promise.all([monitor.pendingCount(), monitor.deliverPending(10, async () => undefined)]),
      ['alert_outbox_pending'],
    );
  });

  it('prunes samples oldest first by the time index, in bounded batches', async () => {
    await expectPlans(({ monitor }) => monitor.prune(1, data.now), ['monitor_samples_at']);
  });

  it('lists runs newest first by the created index, after finding stale runs by the active index', async () => {
    await expectPlans(
      ({ loadTests }) => loadTests.listRuns(20),
      ['loadtest_runs_created_at', 'loadtest_runs_active'],
    );
    await expectPlans(
      ({ loadTests }) => loadTests.listRuns(20, new Date(data.now.getTime() - 86_400_000).toISOString()),
      ['loadtest_runs_created_at'],
    );
  });

  it('reads a run by its key and its shard rows a page at a time by theirs', async () => {
    await expectPlans(({ loadTests }) => loadTests.getRun(data.runId), ['loadtest_runs_pkey']);
    await expectPlans(({ loadTests }) => loadTests.shardResults(data.runId), ['loadtest_shard_results_pkey']);
  });

  it('finds the targets of runs in progress by the active index', async () => {
    await expectPlans(({ loadTests }) => loadTests.activeTargets(), ['loadtest_runs_active']);
  });

  it('prunes shard rows by their write time and old runs by their finish time, a batch at a time', async () => {
    await expectPlans(
      ({ loadTests }) => loadTests.pruneShardResults(24),
      ['loadtest_shard_results_updated_at'],
    );
    await expectPlans(({ loadTests }) => loadTests.pruneRuns(30), ['loadtest_runs_finished_at']);
  });
});
