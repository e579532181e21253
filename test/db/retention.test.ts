import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { RETENTION_DEFAULTS } from '../../lib/db/retention.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type GrowthData, seedGrowthAt } from '../support/growth-seed.ts';

const SCALE = {
  checks: 20,
  sampleMinutes: 2 * 24 * 60,
  incidents: 1_000,
  openIncidents: 1,
  runs: 2_000,
  shardsPerRun: 2,
};

describe('retention', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let data: GrowthData;
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await postgres.database.admin<{ count: string }>(sql, params)).rows[0]?.count);

  beforeAll(async () => {
    data = await seedGrowthAt(postgres.database.url, SCALE);
  });

  it('prunes samples past the retention in batches of the configured size, and reports them', async () => {
    const cutoff = new Date(data.now.getTime() - 86_400_000);
    const expired = await count(`SELECT count(*) FROM monitor_samples WHERE at < $1`, [cutoff]);
    const kept = await count(`SELECT count(*) FROM monitor_samples WHERE at >= $1`, [cutoff]);
    expect(expired).toBeGreaterThan(20_000);
    const store = new MonitorStore(postgres.db, {
      retention: { ...RETENTION_DEFAULTS, sampleBatchRows: 4_000, maxBatches: 3 },
    });
    // Three statements of 4,000 leave the rest of the backlog for the next cycle.
    const first = await store.prune(1, data.now);
    expect(first).toMatchObject({ deleted: 12_000, batches: 3, complete: false });
    expect(first.longestBatchMs).toBeGreaterThan(0);
    expect(await count(`SELECT count(*) FROM monitor_samples WHERE at < $1`, [cutoff])).toBe(
      expired - 12_000,
    );
    let rest = { deleted: 0, batches: 0 };
    for (let cycle = 0; cycle < 10; cycle++) {
      const next = await store.prune(1, data.now);
      rest = { deleted: rest.deleted + next.deleted, batches: rest.batches + next.batches };
      if (next.complete) break;
    }
    expect(rest.deleted).toBe(expired - 12_000);
    expect(rest.batches).toBe(Math.floor((expired - 12_000) / 4_000) + 1);
    expect(await count(`SELECT count(*) FROM monitor_samples WHERE at < $1`, [cutoff])).toBe(0);
    expect(await count(`SELECT count(*) FROM monitor_samples`)).toBe(kept);
  });

  it('prunes shard rows of runs finished past their retention, keeping the runs and newer rows', async () => {
    const expiredRows = `SELECT count(*) FROM loadtest_shard_results s JOIN loadtest_runs r ON r.id = s.run_id
                          WHERE r.finished_at < now() - interval '24 hours'`;
    const expired = await count(expiredRows);
    const total = await count(`SELECT count(*) FROM loadtest_shard_results`);
    const runs = await count(`SELECT count(*) FROM loadtest_runs`);
    expect(expired).toBeGreaterThan(1_000);
    const store = new LoadTestStore(postgres.db, {
      retention: { ...RETENTION_DEFAULTS, shardBatchRows: 300, shardRetentionHours: 24 },
    });
    const pruned = await store.pruneShardResults();
    expect(pruned).toMatchObject({ deleted: expired, complete: true });
    // Shard rows, then failure reasons, progress snapshots and scenario data rows (none here): one short batch
    // closes each.
    expect(pruned.batches).toBe(Math.floor(expired / 300) + 4);
    expect(await count(expiredRows)).toBe(0);
    expect(await count(`SELECT count(*) FROM loadtest_shard_results`)).toBe(total - expired);
    expect(await count(`SELECT count(*) FROM loadtest_runs`)).toBe(runs);
    expect(await store.pruneShardResults()).toMatchObject({ deleted: 0, batches: 4, complete: true });
  });

  it("prunes a run's scenario data rows and progress snapshots with its shard rows, however recently written", async () => {
    const [expiredRun, recentRun] = (
      await postgres.database.admin<{ id: string }>(
        `(SELECT id FROM loadtest_runs WHERE finished_at < now() - interval '24 hours' LIMIT 1)
         UNION ALL
         (SELECT id FROM loadtest_runs WHERE finished_at > now() - interval '23 hours' LIMIT 1)`,
      )
    ).rows.map((row) => row.id);
    expect(expiredRun).toBeDefined();
    for (const run of [expiredRun, recentRun]) {
      await postgres.database.admin(
        `INSERT INTO loadtest_data_rows (run_id, row_index, data) SELECT $1, i, '{"id":1}' FROM generate_series(0, 9) i`,
        [run],
      );
      await postgres.database.admin(
        `INSERT INTO loadtest_shard_progress (run_id, round, shard, snapshot) VALUES ($1, 0, 0, '{}')`,
        [run],
      );
    }
    const store = new LoadTestStore(postgres.db, {
      retention: { ...RETENTION_DEFAULTS, shardRetentionHours: 24 },
    });
    await store.pruneShardResults();
    const left = (table: string, run: string | undefined) =>
      count(`SELECT count(*) FROM ${table} WHERE run_id = $1`, [run]);
    expect(await left('loadtest_data_rows', expiredRun)).toBe(0);
    expect(await left('loadtest_shard_progress', expiredRun)).toBe(0);
    expect(recentRun).toBeDefined();
    expect(await left('loadtest_data_rows', recentRun)).toBe(10);
    expect(await left('loadtest_shard_progress', recentRun)).toBe(1);
  });

  it('keeps every run by default and prunes finished runs past LOADTEST_RUN_RETENTION_DAYS when set', async () => {
    const runs = await count(`SELECT count(*) FROM loadtest_runs`);
    expect(await new LoadTestStore(postgres.db).pruneRuns()).toMatchObject({ deleted: 0, batches: 0 });
    expect(await count(`SELECT count(*) FROM loadtest_runs`)).toBe(runs);
    await postgres.database.admin(
      `INSERT INTO loadtest_runs (id, status, target, options, created_at) VALUES (gen_random_uuid(), 'running', 'http://127.0.0.1:1/', '{}', now() - interval '9 days')`,
    );
    const old = await count(
      `SELECT count(*) FROM loadtest_runs WHERE finished_at < now() - interval '3 days' AND status NOT IN ('pending', 'running')`,
    );
    expect(old).toBeGreaterThan(500);
    const store = new LoadTestStore(postgres.db, {
      retention: loadConfig({ LOADTEST_RUN_RETENTION_DAYS: '3', LOADTEST_PRUNE_BATCH_ROWS: '200' }).retention,
    });
    const pruned = await store.pruneRuns();
    expect(pruned).toMatchObject({ deleted: old, batches: Math.floor(old / 200) + 1, complete: true });
    // The run still in progress stays, however old.
    expect(await count(`SELECT count(*) FROM loadtest_runs WHERE status = 'running'`)).toBe(1);
    expect(await count(`SELECT count(*) FROM loadtest_runs`)).toBe(runs + 1 - old);
  });
});

describe('retention settings', () => {
  it('reads each kind from its variable and names every one that is wrong', () => {
    expect(
      loadConfig({
        MONITOR_PRUNE_BATCH_ROWS: '1000',
        LOADTEST_SHARD_RETENTION_HOURS: '48',
        LOADTEST_PRUNE_BATCH_ROWS: '50',
        LOADTEST_RUN_RETENTION_DAYS: '365',
        PRUNE_MAX_BATCHES: '10',
      }).retention,
    ).toEqual({
      sampleBatchRows: 1000,
      shardRetentionHours: 48,
      shardBatchRows: 50,
      runRetentionDays: 365,
      maxBatches: 10,
    });
    expect(loadConfig({}).retention).toEqual(RETENTION_DEFAULTS);
    expect(() =>
      loadConfig({ MONITOR_PRUNE_BATCH_ROWS: '0', LOADTEST_RUN_RETENTION_DAYS: 'a year' }),
    ).toThrow(
      /MONITOR_PRUNE_BATCH_ROWS: 0 is out of range \(1 to 1000000 rows\)[\s\S]*LOADTEST_RUN_RETENTION_DAYS: "a year" is not a whole number of days/,
    );
  });
});
