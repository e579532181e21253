// The load-test store against a real PostgreSQL: runs whose process died do not stay "running".

import { beforeAll, describe, expect, it } from 'vitest';
import { createHistogram, encodeHistogram, recordMs } from '../../lib/loadtest/histogram.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import {
  HEARTBEAT_GRACE_SECONDS,
  LoadTestStore,
  SHARD_RESULT_RETENTION_HOURS,
} from '../../lib/loadtest/store.ts';
import { TimelineWriter } from '../../lib/loadtest/timeline.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { backdateRun } from '../support/loadtest-runs.ts';

const TARGET = 'http://127.0.0.1:9';
/** These tests leave live runs behind on purpose: no cap on runs in progress gets in their way. */
const LIMITS = { ...DEFAULT_LIMITS, maxConcurrentRuns: 1000 };

describe('LoadTestStore', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let store: LoadTestStore;

  beforeAll(() => {
    store = new LoadTestStore(postgres.db);
  });

  /** A started run whose last sign of life (creation, start, heartbeat) was `secondsAgo` ago. */
  async function runLastSeen(secondsAgo: number): Promise<string> {
    const { runId } = await createLoadTest({ target: TARGET, users: 1, requests: 1 }, store, LIMITS);
    await store.markStarted(runId);
    await backdateRun(postgres.database, runId, secondsAgo);
    return runId;
  }

  const staleReason =
    /^the process running it stopped: no heartbeat for over 120 s \(last sign of life \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/;

  it('marks a run failed with the reason when a read finds its heartbeat older than the grace', async () => {
    const runId = await runLastSeen(HEARTBEAT_GRACE_SECONDS + 5);
    const run = await store.getRun(runId);
    expect(run).toMatchObject({ status: 'failed', report: null });
    expect(run?.error).toMatch(staleReason);
    expect(run?.finishedAt).not.toBeNull();
  });

  it('leaves a run running while its heartbeat is within the grace, however old the run', async () => {
    const runId = await runLastSeen(HEARTBEAT_GRACE_SECONDS - 20);
    await postgres.database.admin(
      `UPDATE loadtest_runs SET created_at = now() - interval '1 hour' WHERE id = $1`,
      [runId],
    );
    expect(await store.getRun(runId)).toMatchObject({ status: 'running', error: null });
    expect((await store.listRuns(100)).find((run) => run.id === runId)?.status).toBe('running');
  });

  it('marks stale runs failed on a listing, on the next start and on the monitor cycle', async () => {
    const listed = await runLastSeen(HEARTBEAT_GRACE_SECONDS + 1);
    expect((await store.listRuns(100)).find((run) => run.id === listed)?.status).toBe('failed');

    const beforeStart = await runLastSeen(HEARTBEAT_GRACE_SECONDS + 1);
    await createLoadTest({ target: 'http://localhost:9', users: 1, requests: 1 }, store, LIMITS);
    const beforeCycle = await runLastSeen(HEARTBEAT_GRACE_SECONDS + 1);
    // The monitor's cycle asks which targets are under load.
    await store.activeTargets();
    const statuses = await postgres.database.admin<{ id: string; status: string }>(
      `SELECT id, status FROM loadtest_runs WHERE id = ANY($1::uuid[])`,
      [[beforeStart, beforeCycle]],
    );
    expect(statuses.rows.map((row) => row.status)).toEqual(['failed', 'failed']);
  });

  it('finishes a stale run at once when asked to abort, and only flags a live one', async () => {
    const live = await runLastSeen(5);
    expect(await store.requestAbort(live)).toBe('aborting');
    expect(await store.getRun(live)).toMatchObject({ status: 'running', abortRequested: true });

    const dead = await runLastSeen(HEARTBEAT_GRACE_SECONDS + 5);
    expect(await store.requestAbort(dead)).toBe('aborted');
    const run = await store.getRun(dead);
    expect(run).toMatchObject({ status: 'aborted', abortRequested: true });
    expect(run?.error).toMatch(staleReason);
    expect(await store.requestAbort(dead)).toBeNull();
  });

  /** A run with one stored shard result and one failure reason, finished `hoursAgo` (or still running). */
  async function runWithShardRows(hoursAgo: number | null): Promise<string> {
    const { runId } = await createLoadTest({ target: TARGET, users: 1, requests: 1 }, store, LIMITS);
    await store.markStarted(runId);
    const latency = createHistogram();
    recordMs(latency, 12);
    const perSecond = createHistogram('timeline');
    recordMs(perSecond, 12);
    const timeline = new TimelineWriter();
    timeline.add(0, 1, 0, perSecond);
    const encoded = encodeHistogram(latency);
    await store.saveShardResult(runId, 0, 0, {
      requests: 1,
      ok: 1,
      failed: 0,
      remaining: 0,
      aborted: false,
      statusCodes: { 200: 1 },
      errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
      latency: encoded,
      latencyUncorrected: encoded,
      timeline: timeline.finish(),
      startedAt: Date.now(),
      finishedAt: Date.now(),
      generator: {
        eventLoopLagP99Ms: 0,
        eventLoopLagMaxMs: 0,
        sendLagP99Ms: 0,
        cpuPercent: 1,
        saturated: false,
      },
    });
    await store.saveShardFailure(runId, { round: 0, shard: 1, error: 'States.Timeout', cause: null });
    if (hoursAgo !== null) {
      await store.finish(runId, 'passed', null);
      await postgres.database.admin(
        `UPDATE loadtest_runs SET finished_at = now() - make_interval(secs => $2 * 3600) WHERE id = $1`,
        [runId, hoursAgo],
      );
      // Its shards wrote before it finished.
      for (const [table, written] of [
        ['loadtest_shard_results', 'updated_at'],
        ['loadtest_shard_failures', 'recorded_at'],
      ])
        await postgres.database.admin(
          `UPDATE ${table} SET ${written} = now() - make_interval(secs => $2 * 3600 + 60) WHERE run_id = $1`,
          [runId, hoursAgo],
        );
    }
    return runId;
  }

  const rowsOf = async (runId: string) => ({
    shards: (await store.shardResults(runId)).length,
    failures: (await store.shardFailures(runId)).length,
  });

  it('prunes shard rows and failure reasons of runs finished longer ago than the retention', async () => {
    const expired = await runWithShardRows(SHARD_RESULT_RETENTION_HOURS + 1);
    const recent = await runWithShardRows(SHARD_RESULT_RETENTION_HOURS - 1);
    const running = await runWithShardRows(null);
    expect(await rowsOf(expired)).toEqual({ shards: 1, failures: 1 });
    expect((await store.pruneShardResults()).deleted).toBeGreaterThanOrEqual(2);
    expect(await rowsOf(expired)).toEqual({ shards: 0, failures: 0 });
    expect(await rowsOf(recent)).toEqual({ shards: 1, failures: 1 });
    expect(await rowsOf(running)).toEqual({ shards: 1, failures: 1 });
    // The run itself and its report stay.
    expect(await store.getRun(expired)).toMatchObject({ status: 'passed' });
  });
});
