// Retention: expired rows deleted in bounded batches, each its own short statement, and what that took.

import type { Db } from './pool.ts';

/** How long each kind of row is kept and how many go per statement (README, "Retention"). */
export interface RetentionSettings {
  /** Monitor samples deleted per statement (MONITOR_PRUNE_BATCH_ROWS); their age is MONITOR_RETENTION_DAYS. */
  sampleBatchRows: number;
  /** Hours a finished run keeps its shard rows (LOADTEST_SHARD_RETENTION_HOURS); its report keeps their figures. */
  shardRetentionHours: number;
  /** Shard rows deleted per statement (LOADTEST_PRUNE_BATCH_ROWS): each holds kilobytes of histograms. */
  shardBatchRows: number;
  /** Days a finished run is kept, report and all (LOADTEST_RUN_RETENTION_DAYS); 0 keeps every run. */
  runRetentionDays: number;
  /** Statements one prune may run (PRUNE_MAX_BATCHES): a backlog is worked off over several cycles. */
  maxBatches: number;
}

export const RETENTION_DEFAULTS: RetentionSettings = {
  sampleBatchRows: 5000,
  shardRetentionHours: 24,
  shardBatchRows: 500,
  runRetentionDays: 0,
  maxBatches: 100,
};

export interface PruneReport {
  deleted: number;
  batches: number;
  /** The slowest statement: the longest any of them held its row locks. */
  longestBatchMs: number;
  /** False when maxBatches ran out with expired rows left for the next prune. */
  complete: boolean;
}

export const EMPTY_PRUNE: PruneReport = { deleted: 0, batches: 0, longestBatchMs: 0, complete: true };

/**
 * Runs `statement` until it deletes fewer than `batchRows` rows or `maxBatches` statements have run. The
 * statement takes the batch size as its last parameter (`LIMIT $n`) and deletes at most that many rows; each
 * runs on its own, so its locks end with it and writers in between never wait for the whole prune.
 */
export async function deleteInBatches(
  db: Db,
  statement: string,
  params: unknown[],
  limits: { batchRows: number; maxBatches: number },
): Promise<PruneReport> {
  const report: PruneReport = { ...EMPTY_PRUNE, complete: false };
  while (report.batches < limits.maxBatches) {
    const started = performance.now();
    const result = await db.query(statement, [...params, limits.batchRows]);
    report.longestBatchMs = Math.max(report.longestBatchMs, performance.now() - started);
    report.batches++;
    const deleted = result.rowCount ?? 0;
    report.deleted += deleted;
    if (deleted < limits.batchRows) {
      report.complete = true;
      break;
    }
  }
  return report;
}

/** Adds up the reports of several statements' prunes. */
export function combinePrunes(...reports: PruneReport[]): PruneReport {
  return reports.reduce(
    (total, report) => ({
      deleted: total.deleted + report.deleted,
      batches: total.batches + report.batches,
      longestBatchMs: Math.max(total.longestBatchMs, report.longestBatchMs),
      complete: total.complete && report.complete,
    }),
    EMPTY_PRUNE,
  );
}
