// What a shard's measurements are made of, apart from the engine that takes them, so reports bundle without it.

import { LoadwatchError } from '../errors.ts';
import type { LatencySummary } from './histogram.ts';

export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'other';
export const ERROR_KINDS: ErrorKind[] = ['timeout', 'refused', 'reset', 'dns', 'other'];

/** A failed request's kind, from the codes along its error's cause chain. */
export function classifyError(error: unknown): ErrorKind {
  const codes: string[] = [];
  for (
    let current = error as { code?: unknown; cause?: unknown; name?: unknown } | undefined, depth = 0;
    current && depth < 4;
    depth++
  ) {
    if (typeof current.code === 'string') codes.push(current.code);
    if (typeof current.name === 'string') codes.push(current.name);
    current = current.cause as typeof current;
  }
  if (codes.some((code) => /TIMEOUT|TimeoutError|ETIMEDOUT/i.test(code))) return 'timeout';
  if (codes.includes('ECONNREFUSED')) return 'refused';
  if (codes.some((code) => ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code)))
    return 'reset';
  if (codes.some((code) => ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME'].includes(code))) return 'dns';
  return 'other';
}

/**
 * The shortest shard whose CPU and lag figures mean anything: over a few milliseconds of start-up, one request
 * reads 110 % CPU. A shorter shard is "too short to judge", never saturated.
 */
export const MIN_SELF_CHECK_MS = 1000;

/** Stored measurements that this version cannot read: the service's fault, never shown to a client. */
export class EncodingError extends LoadwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, code: 'LOADTEST_ENCODING' });
  }
}

/** What every count of requests holds, a shard's, a step's or a run's: how many, how many passed, how they ended. */
export interface ResponseCounts {
  /** Responses and requests without one. */
  requests: number;
  /** Passed the status expectation (by default: a status under 400). */
  ok: number;
  statusCodes: Record<string, number>;
  /** Requests without a response, by kind. */
  errors: Record<ErrorKind, number>;
}

/** Counts with every failed request: a status that failed its expectation, or no response. */
export interface RequestCounts extends ResponseCounts {
  failed: number;
}

/** The three totals a report and the live view lead with. */
export type RequestTotals = Pick<RequestCounts, 'requests' | 'ok' | 'failed'>;

/** A run's figures over every request: the report's, and the live view's so far. */
export interface RunFigures {
  totals: RequestTotals;
  /** failed / requests × 100. */
  errorPercent: number;
  /** Requests per second so far, over one second at least: 3 requests in 10 ms never held 300 req/s. */
  rps: number;
  /**
   * Over the requests that got a response (any status), never over refused, timed-out or reset ones. In the
   * open model measured from each request's intended send time (coordinated omission corrected).
   */
  latencyMs: LatencySummary;
  statusCodes: Record<string, number>;
  /** Requests without a response, by kind. */
  errors: Record<ErrorKind, number>;
}

/** Figures are reported to two decimals. */
export const round2 = (value: number) => Math.round(value * 100) / 100;
/** `part` over `whole` in percent, 0 of nothing. */
export const percent = (part: number, whole: number) => (whole > 0 ? round2((part / whole) * 100) : 0);

export function emptyErrors(): Record<ErrorKind, number> {
  return Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0])) as Record<ErrorKind, number>;
}

export function requestTotals({ requests, ok, failed }: RequestTotals): RequestTotals {
  return { requests, ok, failed };
}

export function emptyRequestCounts(): RequestCounts {
  return { requests: 0, ok: 0, failed: 0, statusCodes: {}, errors: emptyErrors() };
}

/** Adds a shard's (a snapshot's, a step's) counts into a merge's, exactly; `failed` is the caller's to add. */
export function addResponseCounts(into: ResponseCounts, counts: ResponseCounts): void {
  into.requests += counts.requests;
  into.ok += counts.ok;
  for (const [code, count] of Object.entries(counts.statusCodes))
    into.statusCodes[code] = (into.statusCodes[code] ?? 0) + count;
  for (const kind of ERROR_KINDS) into.errors[kind] += counts.errors[kind] ?? 0;
}

/** Adds [passed, failed] per check into a merge's, check by check. */
export function addCheckCounts(into: Array<[number, number]>, counts: Array<[number, number]>): void {
  counts.forEach(([passed, failed], check) => {
    const total = into[check] ?? [0, 0];
    total[0] += passed;
    total[1] += failed;
    into[check] = total;
  });
}
