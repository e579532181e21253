// What a shard's measurements are made of, apart from the engine that takes them, so reports bundle without it.

import { LoadwatchError } from '../errors.ts';

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
    super(message, {
      code: 'LOADTEST_ENCODING',
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
    });
  }
}
