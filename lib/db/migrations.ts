// Versioned SQL migrations run by node-pg-migrate, always over a direct (non-proxy) connection.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { DatabaseTarget } from '../config/config.ts';
import { clientConfig } from './connection.ts';
import type { Db } from './pool.ts';

export const MIGRATIONS_TABLE = 'pgmigrations';

/** Finds migrations/ beside the code: the project root locally, /var/task in a Lambda bundle. */
export function findMigrationsDir(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'migrations');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no migrations/ directory above ${start}`);
  }
}

/** Migration names (file names without .sql), in the order they apply. */
export function listMigrations(dir = findMigrationsDir()): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => file.slice(0, -'.sql'.length))
    .sort();
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** The last applied migration, or null on an empty database. */
  current: string | null;
  /** The newest migration this code knows. */
  latest: string | null;
}

export function compareMigrations(applied: string[], known: string[]): MigrationStatus {
  const appliedSet = new Set(applied);
  return {
    applied,
    pending: known.filter((name) => !appliedSet.has(name)),
    current: applied.at(-1) ?? null,
    latest: known.at(-1) ?? null,
  };
}

/** Applied migration names in order; an empty list when the table does not exist yet. */
export async function appliedMigrations(db: Db): Promise<string[]> {
  try {
    const result = await db.query<{ name: string }>(
      `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`,
      [],
      {
        idempotent: true,
      },
    );
    return result.rows.map((row) => row.name);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return [];
    throw error;
  }
}

export async function migrationStatus(db: Db, dir = findMigrationsDir()): Promise<MigrationStatus> {
  return compareMigrations(await appliedMigrations(db), listMigrations(dir));
}

export interface MigrateOptions {
  target: DatabaseTarget;
  direction: 'up' | 'down';
  /** How many to apply or revert; up defaults to all pending, down to one. */
  count?: number;
  dir?: string;
  log?: (line: string) => void;
}

/**
 * Applies or reverts migrations. Concurrent runs serialize on an advisory lock (fine on a direct
 * connection, never through the proxy): the second waits, then finds nothing left to do.
 */
export async function runMigrations(options: MigrateOptions): Promise<string[]> {
  if (options.target.via === 'proxy') {
    throw new Error('migrations must run against the direct database endpoint, not RDS Proxy');
  }
  const client = new pg.Client({ ...clientConfig(options.target), application_name: 'loadwatch-migrate' });
  await client.connect();
  const log = options.log ?? (() => undefined);
  try {
    const ran = await runner({
      dbClient: client,
      dir: options.dir ?? findMigrationsDir(),
      migrationsTable: MIGRATIONS_TABLE,
      direction: options.direction,
      count: options.count ?? (options.direction === 'up' ? Number.POSITIVE_INFINITY : 1),
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: { debug: () => undefined, info: log, warn: log, error: log },
    });
    return ran.map((migration) => migration.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}
