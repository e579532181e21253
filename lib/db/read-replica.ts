// Reads that tolerate replica lag go to the reader; everything else, and every read when the reader is down, to the writer.

import { DatabaseError } from './errors.ts';
import { type CreateDbOptions, createDb, type Db } from './pool.ts';
import type { DatabaseTarget } from './target.ts';

/** After a failed read on the reader, reads skip it this long rather than pay its connect timeout again. */
export const READER_RETRY_AFTER_MS = 30_000;

export interface ReplicaDbOptions extends CreateDbOptions {
  /** The read replica (or the proxy's read-only endpoint); without one, createDb's pool alone. */
  reader?: DatabaseTarget;
  /** Told when the reader failed and reads moved to the writer. */
  onReaderDown?: (error: Error) => void;
  now?: () => number;
}

/**
 * A Db over two pools. Queries marked `replica` (reads that may be a moment behind) run on the reader; writes,
 * transactions and reads of one's own writes on the writer. The reader's pool waits at most half the pool
 * timeout for a connection, so a read on a reader that is down is answered by the writer within the pool
 * timeout; for READER_RETRY_AFTER_MS after that, such reads go straight to the writer.
 */
export function createReplicaDb(options: ReplicaDbOptions): Db {
  const writer = createDb(options);
  if (!options.reader) return writer;
  const reader = createDb({
    ...options,
    target: options.reader,
    pool: { ...options.pool, timeoutSeconds: Math.max(0.5, options.pool.timeoutSeconds / 2) },
    applicationName: `${options.applicationName ?? 'loadwatch'}-reader`,
  });
  const now = options.now ?? Date.now;
  let readerDownUntil = 0;
  return {
    async query(sql, params, queryOptions = {}) {
      if (!queryOptions.replica || now() < readerDownUntil) return writer.query(sql, params, queryOptions);
      try {
        return await reader.query(sql, params, queryOptions);
      } catch (error) {
        // Only the reader's own unavailability moves the read; a bad query fails as it would on the writer.
        if (!(error instanceof DatabaseError)) throw error;
        readerDownUntil = now() + READER_RETRY_AFTER_MS;
        options.onReaderDown?.(error);
        return writer.query(sql, params, queryOptions);
      }
    },
    transaction: (fn, transactionOptions) => writer.transaction(fn, transactionOptions),
    stats: () => writer.stats(),
    close: async () => {
      await Promise.all([writer.close(), reader.close()]);
    },
  };
}
