// Load-test runs and shard results in PostgreSQL: all of the load test's SQL, in one place.

import { isSerializationFailure } from '../db/errors.ts';
import type { Db } from '../db/pool.ts';
import {
  combinePrunes,
  deleteInBatches,
  EMPTY_PRUNE,
  type PruneReport,
  RETENTION_DEFAULTS,
  type RetentionSettings,
} from '../db/retention.ts';
import { LoadwatchError } from '../errors.ts';
import type { DataRow } from '../scenario/schema.ts';
import type { ShardResult } from './engine.ts';
import type { AbortReason, LiveResults, ShardSnapshot } from './live.ts';
import { EncodingError } from './measurement.ts';
import type { LoadTestOptions } from './options.ts';
import type { LoadTestPlan } from './plan.ts';
import type { LegacyShardResult, LoadTestReport, ShardRow } from './report.ts';

export type RunStatus = 'pending' | 'running' | 'passed' | 'failed' | 'aborted' | 'error';

export interface RunRecord {
  id: string;
  status: RunStatus;
  target: string;
  options: LoadTestOptions;
  plan: LoadTestPlan | null;
  executionArn: string | null;
  abortRequested: boolean;
  /** Set when an abort threshold stopped the run. */
  abortReason: AbortReason | null;
  /** Every shard's snapshot merged, as last written (lib/loadtest/live.ts); null before the first turn. */
  live: LiveResults | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  report: LoadTestReport | null;
  error: string | null;
}

/** A run's row, its columns named as RunRecord's fields. */
const RUN_COLUMNS = `id, status, target, options, plan, execution_arn AS "executionArn",
  abort_requested AS "abortRequested", abort_reason AS "abortReason", live, created_at AS "createdAt",
  started_at AS "startedAt", finished_at AS "finishedAt", report, error`;

type RunRow = Omit<RunRecord, 'createdAt' | 'startedAt' | 'finishedAt'> & {
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

const toRecord = (row: RunRow): RunRecord => ({
  ...row,
  createdAt: row.createdAt.toISOString(),
  startedAt: row.startedAt?.toISOString() ?? null,
  finishedAt: row.finishedAt?.toISOString() ?? null,
});

/** A shard's stored result as the merge reads it. */
export type StoredShardResult = ShardRow;

/** A shard's figures without its histograms and timeline: what rounds and summaries read. */
export type ShardResultSummary = Omit<
  ShardResult,
  'latency' | 'latencyUncorrected' | 'timeline' | 'stepLatency'
>;

interface ShardResultRow {
  round: number;
  shard: number;
  attempts: number;
  /** Rows stored before the bucket-count format: the whole result, histograms in compressed base64. */
  result: LegacyShardResult | null;
  summary: ShardResultSummary | null;
  /** The bytea columns, read as base64. */
  latency: string | null;
  latency_uncorrected: string | null;
  timeline: string | null;
  step_latency: string | null;
}

function toStoredShardResult(row: ShardResultRow): StoredShardResult {
  const { round, shard, attempts } = row;
  if (row.summary === null || row.latency === null || row.timeline === null) {
    if (row.result === null)
      throw new EncodingError(`shard ${round}:${shard} has neither a result nor its bucket counts`);
    return { round, shard, attempts, result: row.result };
  }
  return {
    round,
    shard,
    attempts,
    result: {
      ...row.summary,
      latency: Buffer.from(row.latency, 'base64'),
      latencyUncorrected: Buffer.from(row.latency_uncorrected ?? row.latency, 'base64'),
      timeline: Buffer.from(row.timeline, 'base64'),
      ...(row.step_latency === null ? {} : { stepLatency: Buffer.from(row.step_latency, 'base64') }),
    },
  };
}

/** A snapshot as it is stored: JSON, its byte fields as base64. */
export function encodeSnapshot(snapshot: ShardSnapshot): string {
  return JSON.stringify(snapshot, (_key, value: unknown) =>
    value instanceof Uint8Array ? { base64: Buffer.from(value).toString('base64') } : value,
  );
}

const bytes = (value: unknown) => new Uint8Array(Buffer.from((value as { base64: string }).base64, 'base64'));
/** The bytes as a Buffer for a bytea parameter, without a copy. */
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function toSnapshot(stored: ShardSnapshot): ShardSnapshot {
  return {
    ...stored,
    latency: bytes(stored.latency),
    recent: stored.recent.map((second) => ({ ...second, latency: bytes(second.latency) })),
    ...(stored.stepFigures ? { stepFigures: bytes(stored.stepFigures) } : {}),
  };
}

/** Rows per page when the Aggregate step reads a run's shards: a few MB at a time, whatever the run's size. */
export const SHARD_RESULTS_PAGE_SIZE = 200;

/**
 * Shard rows (and failure reasons, progress snapshots and scenario data rows) of a run are kept this long after it
 * finished, then pruned: the report holds everything they said, and a 1,000-shard hour is about 150 MB of rows at
 * 100 req/s per shard, 300 MB at 1,000 (LOADTEST_SHARD_RETENTION_HOURS).
 */
export const SHARD_RESULT_RETENTION_HOURS = RETENTION_DEFAULTS.shardRetentionHours;

/**
 * Rows a page at a time, in (round, shard) order. Keyset pagination: each page starts after the last row of the
 * one before, so a page costs the same however far into the run it is.
 */
async function* keysetPages<Row extends { round: number; shard: number }>(
  pageSize: number,
  fetchAfter: (round: number, shard: number) => Promise<{ rows: Row[] }>,
): AsyncGenerator<Row[]> {
  let pending: Promise<{ rows: Row[] }> | null = fetchAfter(-1, -1);
  while (pending) {
    const { rows }: { rows: Row[] } = await pending;
    const last: Row | undefined = rows.at(-1);
    // The next page is read while the caller adds up this one.
    pending = last && rows.length === pageSize ? fetchAfter(last.round, last.shard) : null;
    // A caller that stops early never awaits it: its failure must not surface as unhandled.
    pending?.catch(() => undefined);
    if (rows.length > 0) yield rows;
  }
}

async function allPages<Row>(pages: AsyncIterable<Row[]>): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const page of pages) rows.push(...page);
  return rows;
}

/** Why a shard ended without a result, as Step Functions caught it (trimmed). */
export interface ShardFailure {
  round: number;
  shard: number;
  error: string;
  cause: string | null;
}

export interface RunSummary {
  id: string;
  status: RunStatus;
  target: string;
  createdAt: string;
  finishedAt: string | null;
  requests: number | null;
  passed: boolean | null;
  grade: string | null;
}

type RoundSummary = { shards: number; remaining: number; aborted: boolean };

/** Starts racing for the last place are retried this often before the error reaches the caller. */
const SERIALIZATION_ATTEMPTS = 10;

/** LOADTEST_MAX_CONCURRENT_RUNS runs are in progress: the API answers 429 with their ids. */
export class ConcurrencyLimitError extends LoadwatchError {
  readonly runningIds: string[];
  constructor(limit: number, runningIds: string[]) {
    super(
      `${runningIds.length} load test(s) already running (LOADTEST_MAX_CONCURRENT_RUNS=${limit}): ${runningIds.join(', ')}; wait for one to end or abort it`,
      {
        code: 'LOADTEST_CONCURRENCY_LIMIT',
        status: 429,
        // Runs last minutes; a client polling every half minute neither hammers nor waits long.
        headers: { 'Retry-After': '30' },
        details: { running: runningIds, limit },
      },
    );
    this.runningIds = runningIds;
  }
}

/**
 * Shards beat every HEARTBEAT_SECONDS (the coordinator's steps too); a run silent for HEARTBEAT_GRACE_SECONDS
 * no longer holds alerts, and is marked failed: the process that ran it is gone.
 */
export const HEARTBEAT_SECONDS = 15;
export const HEARTBEAT_GRACE_SECONDS = 120;

/** A run in progress that has shown no sign of life (created, started, a heartbeat) within the grace. */
const STALE = `status IN ('pending', 'running')
  AND GREATEST(created_at, started_at, heartbeat_at) < now() - make_interval(secs => ${HEARTBEAT_GRACE_SECONDS})`;

/** Why a stale run ended, with its last sign of life. */
const STALE_REASON = `'the process running it stopped: no heartbeat for over ${HEARTBEAT_GRACE_SECONDS} s (last sign of life '
  || to_char(GREATEST(created_at, started_at, heartbeat_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'`;

/** What an abort request found: a live run now stopping, a dead one finished at once, or nothing running. */
export type AbortOutcome = 'aborting' | 'aborted' | null;

export class LoadTestStore {
  private readonly db: Db;
  private readonly shardPageSize: number;
  private readonly retention: RetentionSettings;
  /**
   * `shardPageSize`: rows per page of shardResultPages (SHARD_RESULTS_PAGE_SIZE); `retention`: how long shard
   * rows and finished runs are kept, and the batches they are pruned in.
   */
  constructor(db: Db, options: { shardPageSize?: number; retention?: RetentionSettings } = {}) {
    this.db = db;
    this.shardPageSize = options.shardPageSize ?? SHARD_RESULTS_PAGE_SIZE;
    this.retention = options.retention ?? RETENTION_DEFAULTS;
  }

  /**
   * Marks every stale run failed, with the reason: runs whose process died (a killed CLI or stack) would
   * otherwise stay "running" forever. Reads, starts and the monitor's cycle call it; locked rows are left
   * to the next call rather than waited for.
   */
  async failStaleRuns(): Promise<string[]> {
    const result = await this.db.query<{ id: string }>(
      `UPDATE loadtest_runs
          SET status = 'failed', finished_at = now(), error = ${STALE_REASON}
        WHERE id IN (SELECT id FROM loadtest_runs WHERE ${STALE} FOR UPDATE SKIP LOCKED)
    RETURNING id`,
      [],
      // Repeating it changes nothing more, so it may be retried like the read it comes before.
      { idempotent: true },
    );
    return result.rows.map((row) => row.id);
  }

  /**
   * Records a run, unless maxConcurrent runs are already in progress (ConcurrencyLimitError). Count and insert
   * share one SERIALIZABLE transaction: of two starts racing for the last place PostgreSQL aborts one
   * (40001), which then counts again. No advisory lock and no session state, so it holds through RDS Proxy.
   */
  async createRun(
    id: string,
    options: LoadTestOptions,
    plan: LoadTestPlan,
    maxConcurrent = Number.POSITIVE_INFINITY,
  ): Promise<void> {
    await this.failStaleRuns();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction(
          async (client) => {
            if (Number.isFinite(maxConcurrent)) {
              const running = await client.query<{ id: string }>(
                `SELECT id FROM loadtest_runs
                  WHERE status IN ('pending', 'running') AND NOT (${STALE})
                  ORDER BY created_at`,
              );
              if (running.rows.length >= maxConcurrent) {
                throw new ConcurrencyLimitError(
                  maxConcurrent,
                  running.rows.map((row) => row.id),
                );
              }
            }
            // A data feeder's rows are stored apart: every shard reads the run's options, only its own rows.
            const data = options.scenario?.data;
            const stored =
              data?.rows === undefined
                ? options
                : { ...options, scenario: { ...options.scenario, data: { ...data, rows: undefined } } };
            await client.query(
              `INSERT INTO loadtest_runs (id, target, options, plan) VALUES ($1, $2, $3, $4)`,
              [id, options.target, JSON.stringify(stored), JSON.stringify(plan)],
            );
            if (data?.rows !== undefined)
              await client.query(
                `INSERT INTO loadtest_data_rows (run_id, row_index, data)
                 SELECT $1, ordinality - 1, value FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY`,
                [id, JSON.stringify(data.rows)],
              );
          },
          { isolation: 'serializable' },
        );
        return;
      } catch (error) {
        if (!isSerializationFailure(error) || attempt >= SERIALIZATION_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }

  /** The rows `from` (inclusive) to `to` (exclusive) of a run's data feeder, in order. */
  async dataRows(id: string, from = 0, to = 2 ** 31 - 1): Promise<DataRow[]> {
    const result = await this.db.query<{ data: DataRow }>(
      `SELECT data FROM loadtest_data_rows
        WHERE run_id = $1 AND row_index >= $2 AND row_index < $3 ORDER BY row_index`,
      [id, from, to],
      { idempotent: true },
    );
    return result.rows.map((row) => row.data);
  }

  async getRun(id: string): Promise<RunRecord | null> {
    await this.failStaleRuns();
    const result = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM loadtest_runs WHERE id = $1`,
      [id],
      {
        idempotent: true,
      },
    );
    const row = result.rows[0];
    return row ? toRecord(row) : null;
  }

  async listRuns(limit: number, before?: string): Promise<RunSummary[]> {
    await this.failStaleRuns();
    const result = await this.db.query<
      Omit<RunSummary, 'createdAt' | 'finishedAt'> & { createdAt: Date; finishedAt: Date | null }
    >(
      // float8, which the driver reads as a number: a bigint would come back as a string.
      `SELECT id, status, target, created_at AS "createdAt", finished_at AS "finishedAt",
              (report -> 'totals' ->> 'requests')::float8 AS requests,
              (report ->> 'passed')::boolean AS passed,
              report ->> 'grade' AS grade
         FROM loadtest_runs
        WHERE ($2::timestamptz IS NULL OR created_at < $2::timestamptz)
        ORDER BY created_at DESC
        LIMIT $1`,
      [limit, before ?? null],
      { idempotent: true },
    );
    return result.rows.map((row) => ({
      ...row,
      createdAt: row.createdAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    }));
  }

  /** Marks the run started (once) and returns the start time every shard measures from. */
  async markStarted(id: string, executionArn?: string): Promise<Date> {
    const result = await this.db.query<{ started_at: Date }>(
      `UPDATE loadtest_runs
          SET status = CASE WHEN status = 'pending' THEN 'running' ELSE status END,
              started_at = COALESCE(started_at, now()),
              heartbeat_at = now(),
              execution_arn = COALESCE($2, execution_arn)
        WHERE id = $1
    RETURNING started_at`,
      [id, executionArn ?? null],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`load test ${id} does not exist`);
    return row.started_at;
  }

  async setExecution(id: string, executionArn: string): Promise<void> {
    await this.db.query(`UPDATE loadtest_runs SET execution_arn = $2 WHERE id = $1`, [id, executionArn]);
  }

  /**
   * Asks a run to stop: its shards see the flag within a second or two. A stale run has no process left to
   * see it, so it is finished at once as aborted, with the reason. `reason`: the abort threshold that was lost
   * (the first one recorded stays).
   */
  async requestAbort(id: string, reason?: AbortReason): Promise<AbortOutcome> {
    const result = await this.db.query<{ status: RunStatus }>(
      `UPDATE loadtest_runs
          SET abort_requested = true,
              abort_reason = COALESCE(abort_reason, $2::jsonb),
              status = CASE WHEN ${STALE} THEN 'aborted' ELSE status END,
              error = CASE WHEN ${STALE} THEN ${STALE_REASON} ELSE error END,
              finished_at = CASE WHEN ${STALE} THEN now() ELSE finished_at END
        WHERE id = $1 AND status IN ('pending', 'running')
    RETURNING status`,
      [id, reason === undefined ? null : JSON.stringify(reason)],
    );
    const status = result.rows[0]?.status;
    return status === undefined ? null : status === 'aborted' ? 'aborted' : 'aborting';
  }

  /** Records that the run is alive, for steps that run between shards' heartbeats. */
  async recordHeartbeat(id: string): Promise<void> {
    await this.db.query(`UPDATE loadtest_runs SET heartbeat_at = now() WHERE id = $1`, [id]);
  }

  /** Whether an abort was asked for; with `heartbeat`, also records that a shard of the run is alive. */
  async isAbortRequested(id: string, heartbeat = false): Promise<boolean> {
    const sql = heartbeat
      ? `UPDATE loadtest_runs SET heartbeat_at = now() WHERE id = $1 RETURNING abort_requested`
      : `SELECT abort_requested FROM loadtest_runs WHERE id = $1`;
    const result = await this.db.query<{ abort_requested: boolean }>(sql, [id], { idempotent: !heartbeat });
    return result.rows[0]?.abort_requested ?? false;
  }

  /** Replaces a shard's progress snapshot: one row per shard and round, whatever the run's length. */
  async saveShardProgress(id: string, round: number, shard: number, snapshot: ShardSnapshot): Promise<void> {
    await this.db.query(
      `INSERT INTO loadtest_shard_progress (run_id, round, shard, snapshot) VALUES ($1, $2, $3, $4)
       ON CONFLICT (run_id, round, shard) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = now()`,
      [id, round, shard, encodeSnapshot(snapshot)],
    );
  }

  /** Every shard's latest snapshot of a run, a page at a time in (round, shard) order. */
  async *shardProgressPages(id: string, pageSize = this.shardPageSize): AsyncGenerator<ShardSnapshot[]> {
    const pages = keysetPages(pageSize, (round, shard) =>
      this.db.query<{ round: number; shard: number; snapshot: ShardSnapshot }>(
        `SELECT round, shard, snapshot FROM loadtest_shard_progress
          WHERE run_id = $1 AND (round, shard) > ($2, $3)
          ORDER BY round, shard LIMIT $4`,
        [id, round, shard, pageSize],
        { idempotent: true },
      ),
    );
    for await (const rows of pages) yield rows.map((row) => toSnapshot(row.snapshot));
  }

  /** Every shard's latest snapshot of a run at once: for small runs and checks. */
  async shardProgress(id: string): Promise<ShardSnapshot[]> {
    return allPages(this.shardProgressPages(id));
  }

  /**
   * Takes the turn to judge the run's abort thresholds, at most once per `everySeconds` for the whole run:
   * true for the one shard that got it. Only a running run not already stopping is judged.
   */
  async takeLiveCheck(id: string, everySeconds: number): Promise<boolean> {
    const result = await this.db.query(
      `UPDATE loadtest_runs SET live_checked_at = now()
        WHERE id = $1 AND status = 'running' AND NOT abort_requested
          AND (live_checked_at IS NULL OR live_checked_at <= now() - make_interval(secs => $2))
    RETURNING id`,
      [id, everySeconds],
    );
    return result.rows.length > 0;
  }

  /** Stores the run's merged live figures, for the API to serve as they are. */
  async saveLiveResults(id: string, live: LiveResults): Promise<void> {
    await this.db.query(`UPDATE loadtest_runs SET live = $2 WHERE id = $1`, [id, JSON.stringify(live)]);
  }

  /** Stores a shard's result; a retried shard replaces its earlier row rather than adding one. */
  async saveShardResult(id: string, round: number, shard: number, result: ShardResult): Promise<void> {
    const { latency, latencyUncorrected, timeline, stepLatency, ...summary } = result;
    await this.db.query(
      `INSERT INTO loadtest_shard_results
         (run_id, round, shard, summary, latency, latency_uncorrected, timeline, step_latency)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (run_id, round, shard)
       DO UPDATE SET result = NULL, summary = EXCLUDED.summary, latency = EXCLUDED.latency,
                     latency_uncorrected = EXCLUDED.latency_uncorrected, timeline = EXCLUDED.timeline,
                     step_latency = EXCLUDED.step_latency,
                     attempts = loadtest_shard_results.attempts + 1, updated_at = now()`,
      [
        id,
        round,
        shard,
        JSON.stringify(summary),
        asBuffer(latency),
        latencyUncorrected === latency ? null : asBuffer(latencyUncorrected),
        asBuffer(timeline),
        stepLatency === undefined ? null : asBuffer(stepLatency),
      ],
    );
  }

  async shardResult(id: string, round: number, shard: number): Promise<ShardResultSummary | null> {
    const result = await this.db.query<{ summary: ShardResultSummary }>(
      `SELECT COALESCE(summary, result) AS summary
         FROM loadtest_shard_results WHERE run_id = $1 AND round = $2 AND shard = $3`,
      [id, round, shard],
      { idempotent: true },
    );
    return result.rows[0]?.summary ?? null;
  }

  /** Per round: shards stored and requests left over (closed model). */
  async roundSummary(id: string, round: number): Promise<RoundSummary> {
    // An aggregate answers one row, also for no shards; float8, which the driver reads as numbers.
    const result = await this.db.query<RoundSummary>(
      `SELECT count(*)::float8 AS shards,
              COALESCE(sum((COALESCE(summary, result) ->> 'remaining')::bigint), 0)::float8 AS remaining,
              COALESCE(bool_or((COALESCE(summary, result) ->> 'aborted')::boolean), false) AS aborted
         FROM loadtest_shard_results WHERE run_id = $1 AND round = $2`,
      [id, round],
      { idempotent: true },
    );
    return result.rows[0] as RoundSummary;
  }

  /** A run's shard results a page at a time, in (round, shard) order. */
  async *shardResultPages(id: string, pageSize = this.shardPageSize): AsyncGenerator<StoredShardResult[]> {
    const pages = keysetPages(pageSize, (round, shard) =>
      this.db.query<ShardResultRow>(
        // Base64 text, not bytea's hex: a third of the bytes on the wire and decoded about three times
        // faster by the driver.
        // The page is chosen first and encoded after: were the planner to sort the run's rows (a seq scan on
        // a table not yet analysed), encoding in the same SELECT would detoast every row for every page.
        `SELECT round, shard, attempts, result, summary,
                encode(latency, 'base64') AS latency,
                encode(latency_uncorrected, 'base64') AS latency_uncorrected,
                encode(timeline, 'base64') AS timeline,
                encode(step_latency, 'base64') AS step_latency
           FROM (SELECT * FROM loadtest_shard_results
                  WHERE run_id = $1 AND (round, shard) > ($2, $3)
                  ORDER BY round, shard
                  LIMIT $4) AS page
          ORDER BY round, shard`,
        [id, round, shard, pageSize],
        { idempotent: true },
      ),
    );
    for await (const rows of pages) yield rows.map(toStoredShardResult);
  }

  /** Every shard result of a run at once: for small runs and checks; the Aggregate step reads pages. */
  async shardResults(id: string): Promise<StoredShardResult[]> {
    return allPages(this.shardResultPages(id));
  }

  /**
   * Deletes the shard rows and failure reasons of runs finished over LOADTEST_SHARD_RETENTION_HOURS ago (or
   * `olderThanHours`), a bounded batch per statement; their reports keep what the rows said. A row is written
   * before its run finishes, so the expired ones all lie in the updated_at (recorded_at) index below the cut-off.
   * Reports the rows deleted, failure reasons included.
   */
  async pruneShardResults(olderThanHours = this.retention.shardRetentionHours): Promise<PruneReport> {
    const limits = { batchRows: this.retention.shardBatchRows, maxBatches: this.retention.maxBatches };
    const expired = (table: string, written: string) =>
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
         SELECT row.ctid FROM ${table} row
           JOIN loadtest_runs run ON run.id = row.run_id
          WHERE row.${written} < now() - make_interval(secs => $1::double precision * 3600)
            AND run.finished_at < now() - make_interval(secs => $1::double precision * 3600)
            AND run.status NOT IN ('pending', 'running')
          ORDER BY row.${written}
          LIMIT $2))`;
    const prune = (sql: string) => deleteInBatches(this.db, sql, [olderThanHours], limits);
    const shards = await prune(expired('loadtest_shard_results', 'updated_at'));
    const failures = await prune(expired('loadtest_shard_failures', 'recorded_at'));
    // Progress snapshots and a scenario's data rows go with the run's shard rows, whenever they were written.
    const ofExpiredRuns = (table: string) =>
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
         SELECT row.ctid FROM ${table} row
           JOIN loadtest_runs run ON run.id = row.run_id
          WHERE run.finished_at < now() - make_interval(secs => $1::double precision * 3600)
            AND run.status NOT IN ('pending', 'running')
          LIMIT $2))`;
    const progress = await prune(ofExpiredRuns('loadtest_shard_progress'));
    const dataRows = await prune(ofExpiredRuns('loadtest_data_rows'));
    return combinePrunes(shards, failures, progress, dataRows);
  }

  /**
   * Deletes runs finished over LOADTEST_RUN_RETENTION_DAYS ago, oldest first in bounded batches, with whatever
   * shard rows they still have; 0 days keeps every run (a baseline may name any of them).
   */
  async pruneRuns(olderThanDays = this.retention.runRetentionDays): Promise<PruneReport> {
    if (olderThanDays <= 0) return EMPTY_PRUNE;
    return deleteInBatches(
      this.db,
      `DELETE FROM loadtest_runs WHERE id IN (
         SELECT id FROM loadtest_runs
          WHERE status NOT IN ('pending', 'running') AND finished_at < now() - make_interval(days => $1)
          ORDER BY finished_at
          LIMIT $2)`,
      [olderThanDays],
      // A run cascades to its shard rows: its batch is the shard batch's size in runs.
      { batchRows: this.retention.shardBatchRows, maxBatches: this.retention.maxBatches },
    );
  }

  /** Both retentions, shard rows first: what the Aggregate step runs after each run. */
  async pruneExpired(): Promise<{ shardRows: PruneReport; runs: PruneReport }> {
    const shardRows = await this.pruneShardResults();
    return { shardRows, runs: await this.pruneRuns() };
  }

  /** Records why a shard failed; a retried shard's later failure replaces the earlier reason. */
  async saveShardFailure(id: string, failure: ShardFailure): Promise<void> {
    await this.db.query(
      `INSERT INTO loadtest_shard_failures (run_id, round, shard, error, cause) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id, round, shard)
       DO UPDATE SET error = EXCLUDED.error, cause = EXCLUDED.cause, recorded_at = now()`,
      [id, failure.round, failure.shard, failure.error, failure.cause],
    );
  }

  async shardFailures(id: string): Promise<ShardFailure[]> {
    const result = await this.db.query<ShardFailure>(
      `SELECT round, shard, error, cause FROM loadtest_shard_failures WHERE run_id = $1 ORDER BY round, shard`,
      [id],
      { idempotent: true },
    );
    return result.rows;
  }

  async finish(id: string, status: RunStatus, report: LoadTestReport | null, error?: string): Promise<void> {
    await this.db.query(
      `UPDATE loadtest_runs SET status = $2, report = $3, error = $4, finished_at = now() WHERE id = $1`,
      [id, status, report === null ? null : JSON.stringify(report), error ?? null],
    );
  }

  /**
   * Targets of runs in progress, for the monitor's automatic holds. A run counts while it shows signs of
   * life: created or started lately, or a shard's heartbeat within HEARTBEAT_GRACE_SECONDS. A run whose
   * process died stops holding its target's alerts soon after, and each cycle marks it failed.
   */
  async activeTargets(now: Date = new Date()): Promise<string[]> {
    await this.failStaleRuns();
    const result = await this.db.query<{ target: string }>(
      `SELECT DISTINCT target FROM loadtest_runs
        WHERE status IN ('pending', 'running')
          AND GREATEST(created_at, started_at, heartbeat_at) > $1::timestamptz - make_interval(secs => $2)`,
      [now, HEARTBEAT_GRACE_SECONDS],
      { idempotent: true },
    );
    return result.rows.map((row) => row.target);
  }

  /** The newest finished run of each target with its totals and latency, for /metrics. */
  async lastRunsByTarget() {
    const result = await this.db.query<{
      target: string;
      id: string;
      status: RunStatus;
      finishedAt: Date;
      report: LoadTestReport;
    }>(
      `SELECT DISTINCT ON (target) target, id, status, finished_at AS "finishedAt", report FROM loadtest_runs
        WHERE finished_at IS NOT NULL AND report IS NOT NULL ORDER BY target, finished_at DESC`,
      [],
      { idempotent: true },
    );
    return result.rows;
  }
}
