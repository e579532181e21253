// Liveness and readiness: what /health and /health/ready report.

import { compareMigrations, MIGRATIONS_TABLE, type MigrationStatus } from '../db/migrations.ts';
import type { Db, PoolStats } from '../db/pool.ts';

export interface ServiceIdentity {
  service: string;
  stage: string;
  version: string;
}

export interface Liveness extends ServiceIdentity {
  status: 'ok';
  uptimeSeconds: number;
}

export interface Readiness extends ServiceIdentity {
  status: 'ready' | 'unavailable';
  /** Why the service is not ready; absent when it is. */
  reason?: string;
  database: {
    reachable: boolean;
    latencyMs: number | null;
    migrations: Pick<MigrationStatus, 'current' | 'latest' | 'pending'> | null;
    pool: PoolStats;
  };
}

export function liveness(identity: ServiceIdentity, uptimeSeconds: number): Liveness {
  return { status: 'ok', ...identity, uptimeSeconds: Math.round(uptimeSeconds) };
}

/** One round trip: the applied migrations, whose timing doubles as the database latency. */
export async function readiness(
  identity: ServiceIdentity,
  db: Db,
  knownMigrations: string[],
  now: () => number = () => performance.now(),
): Promise<Readiness> {
  const started = now();
  let applied: string[];
  try {
    const result = await db.query<{ name: string }>(
      `SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`,
      [],
      {
        idempotent: true,
      },
    );
    applied = result.rows.map((row) => row.name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '42P01') {
      return {
        status: 'unavailable',
        ...identity,
        reason: code === 'DB_POOL_EXHAUSTED' ? 'database pool exhausted' : 'database unreachable',
        database: { reachable: false, latencyMs: null, migrations: null, pool: db.stats() },
      };
    }
    applied = []; // no migrations table yet: every migration is pending
  }
  const latencyMs = Math.round((now() - started) * 100) / 100;
  const { current, latest, pending } = compareMigrations(applied, knownMigrations);
  const ready = pending.length === 0;
  return {
    status: ready ? 'ready' : 'unavailable',
    ...identity,
    ...(ready ? {} : { reason: `${pending.length} migration(s) pending: ${pending.join(', ')}` }),
    database: { reachable: true, latencyMs, migrations: { current, latest, pending }, pool: db.stats() },
  };
}
