// Runs one check once and turns what it saw into a sample: status, latency, and why it failed.

import { request } from 'undici';
import { probeCors } from '../http/cors-probe.ts';
import type { CheckDefinition } from './checks.ts';

export interface Sample {
  key: string;
  name: string;
  at: Date;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  /** Why the sample failed; null when it passed. */
  error: string | null;
  /** Database checks: pool stats, database latency and migration versions from /health/ready. */
  details: Record<string, unknown> | null;
  /** Why alerts were held for this sample (maintenance, a load test); it then counts for no rule. */
  held?: string | null;
}

export interface ProbeOptions {
  /** The newest migration this code ships, to compare with what the API reports. */
  latestMigration?: string | null;
  now?: () => Date;
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (
    let current = error as { code?: string; message?: string; cause?: unknown } | undefined, depth = 0;
    current && depth < 3;
    depth++
  ) {
    if (current.code) parts.push(current.code);
    current = current.cause as typeof current;
  }
  const code = parts.find((part) => /TIMEOUT/.test(part)) ? 'timeout' : parts[0];
  return code ?? (error as Error)?.message ?? String(error);
}

interface ReadinessBody {
  status?: string;
  database?: {
    latencyMs?: number | null;
    migrations?: { current?: string | null; latest?: string | null; pending?: string[] } | null;
    pool?: { total?: number; idle?: number; waiting?: number; max?: number };
  };
}

function databaseVerdict(body: ReadinessBody, latestMigration: string | null | undefined) {
  const pool = body.database?.pool;
  const migrations = body.database?.migrations;
  const saturated =
    !!pool && (pool.waiting ?? 0) > 0 && (pool.total ?? 0) >= (pool.max ?? Number.POSITIVE_INFINITY);
  const problems: string[] = [];
  if (saturated)
    problems.push(`pool saturated (${pool?.waiting} waiting, ${pool?.total}/${pool?.max} in use)`);
  if (migrations?.pending?.length) problems.push(`migrations pending: ${migrations.pending.join(', ')}`);
  if (latestMigration && migrations && migrations.current !== latestMigration) {
    problems.push(`migration ${migrations.current ?? '(none)'} applied, code expects ${latestMigration}`);
  }
  return {
    problems,
    details: {
      databaseLatencyMs: body.database?.latencyMs ?? null,
      pool: pool ?? null,
      migration: migrations?.current ?? null,
      expectedMigration: latestMigration ?? null,
      poolSaturated: saturated,
    },
  };
}

export async function probe(check: CheckDefinition, options: ProbeOptions = {}): Promise<Sample> {
  const now = options.now ?? (() => new Date());
  const at = now();
  const base = { key: check.key, name: check.name, at };
  const started = performance.now();
  try {
    const response = await request(check.url, {
      method: check.method,
      headers: check.headers,
      headersTimeout: check.timeoutMs,
      bodyTimeout: check.timeoutMs,
      // A fresh connection per probe: a keep-alive socket idle since the last cycle may be dead already,
      // and its failure would be the monitor's, not the target's.
      reset: true,
    });
    let text = '';
    if (check.kind === 'database') text = await response.body.text();
    else await response.body.dump();
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    const problems: string[] = [];
    let details: Record<string, unknown> | null = null;
    if (!check.expectStatus.includes(response.statusCode)) {
      problems.push(`status ${response.statusCode}, expected ${check.expectStatus.join(' or ')}`);
    }
    if (latencyMs > check.latency.criticalMs)
      problems.push(`${latencyMs} ms is over the critical ${check.latency.criticalMs} ms`);
    if (check.kind === 'database') {
      try {
        const verdict = databaseVerdict(JSON.parse(text) as ReadinessBody, options.latestMigration);
        problems.push(...verdict.problems);
        details = verdict.details;
      } catch {
        problems.push('the readiness answer is not JSON');
      }
    }
    if (check.kind === 'cors' && check.cors) {
      const cors = await probeCors(check.url, {
        ...check.cors,
        timeoutMs: check.timeoutMs,
        headers: check.headers,
      });
      problems.push(...cors.problems);
      details = { cors: cors.problems };
    }
    return {
      ...base,
      ok: problems.length === 0,
      status: response.statusCode,
      latencyMs,
      error: problems.length ? problems.join('; ') : null,
      details,
    };
  } catch (error) {
    return { ...base, ok: false, status: null, latencyMs: null, error: describeError(error), details: null };
  }
}
