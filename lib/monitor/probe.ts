// Runs one check once and turns what it saw into a sample: status, latency, and why it failed.

import type { IncomingMessage } from 'node:http';
import { LoadwatchError } from '../errors.ts';
import { probeCors } from '../http/cors-probe.ts';
import { freshRequest } from '../http/fresh-request.ts';
import { assertionsReadBody, evaluateAssertions } from './assertions.ts';
import type { CheckDefinition, HttpCheckDefinition } from './checks.ts';
import { type HeartbeatRecord, heartbeatFinding } from './heartbeat.ts';
import {
  elapsedSince,
  finding,
  overCritical,
  type ProbeFinding,
  probeDns,
  probeTcp,
  probeTls,
} from './network-probes.ts';
import { probeScenario } from './scenario-probe.ts';

export interface Sample extends ProbeFinding {
  key: string;
  name: string;
  at: Date;
  /** Why alerts were held for this sample (maintenance, a load test, a dependency down). */
  held?: string | null;
}

export interface ProbeOptions {
  /** The newest migration this code ships, to compare with what the API reports. */
  latestMigration?: string | null;
  now?: () => Date;
  /** Stops the probe (the monitor is shutting down): it then rejects with the signal's reason, no sample. */
  signal?: AbortSignal;
  /** A heartbeat check's last beat, read by the cycle from the store. */
  heartbeat?: HeartbeatRecord;
}

/** The most of an answer a probe reads: enough for any readiness document, bounded against an endless body. */
export const MAX_PROBE_BODY_BYTES = 1_048_576;

class ProbeBodyTooLargeError extends LoadwatchError {
  constructor(message: string) {
    super(message, { code: 'PROBE_BODY_TOO_LARGE' });
    this.name = 'ProbeBodyTooLargeError';
  }
}

/**
 * Reads the body up to `limit` bytes: as text, refusing it once it passes the limit, or (`keep` false) only to
 * see it end, no further than the limit. Either way the rest is cancelled, not read.
 */
async function readCapped(body: IncomingMessage, limit: number, keep: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        if (keep) throw new ProbeBodyTooLargeError(`the answer is over ${limit} bytes`);
        break;
      }
      if (keep) chunks.push(chunk as Buffer);
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
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
  if (parts.includes('PROBE_BODY_TOO_LARGE')) return (error as Error).message;
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

/**
 * Probes a check within one deadline, `check.timeoutMs`, for everything: connecting, the headers, the body (read up
 * to MAX_PROBE_BODY_BYTES), a TLS handshake, a DNS answer and, for a CORS check, its further requests. A target that
 * trickles its answer a byte at a time is cut off there like one that never answers.
 */
export async function probe(check: CheckDefinition, options: ProbeOptions = {}): Promise<Sample> {
  const at = options.now?.() ?? new Date();
  const base = { key: check.key, name: check.name, at };
  if (check.kind === 'heartbeat') {
    const record = options.heartbeat ?? { lastBeatAt: null, registeredAt: at };
    return { ...base, ...heartbeatFinding(check, record, at) };
  }
  const started = performance.now();
  // One controller for the deadline and the monitor's stop alike; a listener rather than AbortSignal.any, so
  // the monitor's long-lived signal keeps nothing of the probes that ended.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), check.timeoutMs);
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  try {
    const signal = controller.signal;
    const found =
      check.kind === 'tls'
        ? await probeTls(check, signal, started, at)
        : check.kind === 'tcp'
          ? await probeTcp(check, signal, started)
          : check.kind === 'dns'
            ? await probeDns(check, signal, started)
            : check.kind === 'scenario'
              ? await probeScenario(check, signal, started)
              : await probeHttp(check, options, signal, started);
    if (options.signal?.aborted) throw options.signal.reason;
    // A deadline that fired means no complete answer, whatever was read before it; a scenario's sample names
    // the step it cut.
    if (check.kind !== 'scenario') controller.signal.throwIfAborted();
    return { ...base, ...found };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const described = controller.signal.aborted ? 'timeout' : describeError(error);
    return { ...base, ...finding([described], { status: null, latencyMs: null, details: null }) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}

/** Response headers as assertions read them: lower-case names, a repeated header's values joined. */
function headerValues(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

async function probeHttp(
  check: HttpCheckDefinition,
  options: ProbeOptions,
  signal: AbortSignal,
  started: number,
): Promise<ProbeFinding> {
  // A fresh connection per probe: a keep-alive socket idle since the last cycle may be dead already,
  // and its failure would be the monitor's, not the target's.
  const response = await freshRequest(check.url, { method: check.method, headers: check.headers, signal });
  const keep = check.kind === 'database' || assertionsReadBody(check.assert);
  const text = await readCapped(response, MAX_PROBE_BODY_BYTES, keep);
  const status = response.statusCode ?? 0;
  const latencyMs = elapsedSince(started);
  const problems: string[] = [];
  let details: Record<string, unknown> | null = null;
  if (check.expectStatus.length > 0 && !check.expectStatus.includes(status)) {
    problems.push(`status ${status}, expected ${check.expectStatus.join(' or ')}`);
  }
  problems.push(
    ...evaluateAssertions(check.assert, { status, headers: headerValues(response), body: text, latencyMs }),
  );
  problems.push(...overCritical(latencyMs, check));
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
      signal,
    });
    problems.push(...cors.problems);
    details = { cors: cors.problems };
  }
  return finding(problems, { status, latencyMs, details });
}
