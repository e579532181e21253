// Liveness and readiness: what /health and /health/ready report.

import { appliedMigrations, compareMigrations, type MigrationStatus } from '../db/migrations.ts';
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
    applied = await appliedMigrations(db);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      status: 'unavailable',
      ...identity,
      reason: code === 'DB_POOL_EXHAUSTED' ? 'database pool exhausted' : 'database unreachable',
      database: { reachable: false, latencyMs: null, migrations: null, pool: db.stats() },
    };
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
