// The SQL migrations this code ships and which of them a database has applied.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationsPendingError } from './errors.ts';
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
export function listMigrations(): string[] {
  return readdirSync(findMigrationsDir())
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
      { idempotent: true },
    );
    return result.rows.map((row) => row.name);
  } catch (error) {
    if (error instanceof MigrationsPendingError) return [];
    throw error;
  }
}

export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  return compareMigrations(await appliedMigrations(db), listMigrations());
}
