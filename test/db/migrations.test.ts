import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import {
  MigrateUsageError,
  migrateCommand,
  parseMigrateRequest,
  runMigrateRequest,
} from '../../lib/db/migrate-command.ts';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { listMigrations, migrationStatus } from '../../lib/db/migrations.ts';
import { createDb } from '../../lib/db/pool.ts';
import { LAMBDA_POOL_DEFAULTS } from '../../lib/db/pool-settings.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const tablesOf = async (database: TestDatabase) =>
  (
    await database.admin<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations' ORDER BY 1`,
    )
  ).rows.map((row) => row.name);

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('lists the SQL files in order', () => {
    const names = listMigrations();
    expect(names.length).toBeGreaterThan(0);
    expect(names[0]).toBe('0001_api-tokens');
    expect([...names].sort()).toEqual(names);
  });

  it('applies every migration once when two runs start at the same time', async () => {
    const [first, second] = await Promise.all([
      runMigrations({ target: database.target, direction: 'up' }),
      runMigrations({ target: database.target, direction: 'up' }),
    ]);
    const all = listMigrations();
    expect([first, second].filter((ran) => ran.length > 0)).toEqual([all]);
    expect([first, second].filter((ran) => ran.length === 0)).toHaveLength(1);
    const db = createDb({ target: database.target, pool: LAMBDA_POOL_DEFAULTS });
    const status = await migrationStatus(db);
    await db.close();
    expect(status).toMatchObject({ pending: [], current: all.at(-1), latest: all.at(-1), applied: all });
  });

  it('reverts every migration with its down, one at a time, and applies them again', async () => {
    const all = listMigrations();
    const before = await tablesOf(database);
    expect(before.length).toBeGreaterThan(0);
    for (const name of [...all].reverse()) {
      const result = await runMigrateRequest(database.target, { action: 'down', count: 1 });
      expect(result.ran).toEqual([name]);
    }
    expect(await tablesOf(database)).toEqual([]);
    const result = await runMigrateRequest(database.target, { action: 'up' });
    expect(result.ran).toEqual(all);
    expect(result.status.pending).toEqual([]);
    expect(await tablesOf(database)).toEqual(before);
  });

  it('refuses down N beyond what is applied, naming how many are, and keeps every table', async () => {
    const all = listMigrations();
    const before = await tablesOf(database);
    // The migrate Lambda's path: its event parsed, then run against the configured database.
    const config = loadConfig({ DATABASE_URL: database.url });
    const request = parseMigrateRequest({ action: 'down', count: all.length + 6 });
    const refused = migrateCommand(config, request);
    await expect(refused).rejects.toThrow(MigrateUsageError);
    await expect(refused).rejects.toThrow(
      `count: cannot revert ${all.length + 6} migrations, only ${all.length} are applied; to revert every one, use --all`,
    );
    expect(await tablesOf(database)).toEqual(before);
    const status = await runMigrateRequest(database.target, { action: 'status' });
    expect(status.status.applied).toEqual(all);
  });

  it('reverts every applied migration only when asked for all, then refuses a plain down', async () => {
    const all = listMigrations();
    const before = await tablesOf(database);
    const reverted = await runMigrateRequest(
      database.target,
      parseMigrateRequest({ action: 'down', all: true }),
    );
    expect(reverted.ran).toEqual([...all].reverse());
    expect(await tablesOf(database)).toEqual([]);
    await expect(runMigrateRequest(database.target, { action: 'down' })).rejects.toThrow(
      'count: cannot revert 1 migration, none is applied',
    );
    await runMigrateRequest(database.target, { action: 'up' });
    expect(await tablesOf(database)).toEqual(before);
  });

  it('refuses to run through RDS Proxy', async () => {
    await expect(
      runMigrations({ target: { ...database.target, via: 'proxy' }, direction: 'up' }),
    ).rejects.toThrow(/direct database endpoint/);
  });
});

describe('parseMigrateRequest', () => {
  it('defaults to up and accepts down with a count', () => {
    expect(parseMigrateRequest(undefined)).toEqual({ action: 'up' });
    expect(parseMigrateRequest({ action: 'down', count: 2 })).toEqual({ action: 'down', count: 2 });
  });

  it('names the bad field when the request is wrong', () => {
    expect(() => parseMigrateRequest({ action: 'sideways' })).toThrow(
      'action: "sideways" is not one of up, down, status',
    );
    expect(() => parseMigrateRequest({ action: 'down', count: 0 })).toThrow('count: 0 is not a whole number');
    expect(() => parseMigrateRequest({ action: 'status', count: 1 })).toThrow('count: not used with status');
    expect(() => parseMigrateRequest({ action: 'down', all: 'yes' })).toThrow(
      'all: "yes" is not true or false',
    );
    expect(() => parseMigrateRequest({ action: 'down', count: 2, all: true })).toThrow(
      'all: give either count or all, not both',
    );
    expect(() => parseMigrateRequest({ action: 'down', cout: 9 })).toThrow(
      'cout: not a migrate field (action, count, all)',
    );
  });

  it('accepts all for down', () => {
    expect(parseMigrateRequest({ action: 'down', all: true })).toEqual({ action: 'down', all: true });
  });
});
