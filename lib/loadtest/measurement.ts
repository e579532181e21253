// What a shard's measurements are made of, apart from the engine that takes them, so reports bundle without it.

import { LoadwatchError } from '../errors.ts';

export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'other';
export const ERROR_KINDS: ErrorKind[] = ['timeout', 'refused', 'reset', 'dns', 'other'];

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
