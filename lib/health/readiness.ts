// Liveness and readiness: what /health and /health/ready report.

import { appliedMigrations, compareMigrations, type MigrationStatus } from '../db/migrations.ts';
import type { Db, PoolStats } from '../db/pool.ts';

export interface ServiceIdentity {
  service: string;
  stage: string;
  version: string;
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

export function liveness(identity: ServiceIdentity, uptimeSeconds: number) {
  return { status: 'ok' as const, ...identity, uptimeSeconds: Math.round(uptimeSeconds) };
}

const UNAVAILABLE_REASONS: Record<string, string> = {
  DB_POOL_EXHAUSTED: 'database pool exhausted',
  DB_TIMEOUT: 'database statement timed out',
};

/**
 * One round trip within timeoutMs (READINESS_TIMEOUT): the applied migrations, whose timing doubles as the
 * database latency. A database slower than that is not ready, even if it would answer in the end.
 */
export async function readiness(
  identity: ServiceIdentity,
  db: Db,
  knownMigrations: string[],
  timeoutMs: number,
): Promise<Readiness> {
  const started = performance.now();
  const unavailable = (reason: string, reachable: boolean): Readiness => ({
    status: 'unavailable',
    ...identity,
    reason,
    database: { reachable, latencyMs: null, migrations: null, pool: db.stats() },
  });
  let applied: string[];
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<'too slow'>((resolve) => {
    timer = setTimeout(() => resolve('too slow'), timeoutMs);
  });
  try {
    const answer = await Promise.race([appliedMigrations(db), tooSlow]);
    if (answer === 'too slow') return unavailable(`database round trip over ${timeoutMs} ms`, true);
    applied = answer;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return unavailable(UNAVAILABLE_REASONS[code ?? ''] ?? 'database unreachable', false);
  } finally {
    clearTimeout(timer);
  }
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  const { current, latest, pending } = compareMigrations(applied, knownMigrations);
  const ready = pending.length === 0;
  return {
    status: ready ? 'ready' : 'unavailable',
    ...identity,
    ...(ready ? {} : { reason: `${pending.length} migration(s) pending: ${pending.join(', ')}` }),
    database: { reachable: true, latencyMs, migrations: { current, latest, pending }, pool: db.stats() },
  };
}
