// The load-test store against a real PostgreSQL: runs whose process died do not stay "running".

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import type { Db } from '../../lib/db/pool.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/options.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { HEARTBEAT_GRACE_SECONDS, LoadTestStore } from '../../lib/loadtest/store.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../support/database.ts';

const TARGET = 'http://127.0.0.1:9';
/** These tests leave live runs behind on purpose: no cap on runs in progress gets in their way. */
const LIMITS = { ...DEFAULT_LIMITS, maxConcurrentRuns: 1000 };

describe('LoadTestStore', () => {
  let database: TestDatabase;
  let db: Db;
  let store: LoadTestStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    await runMigrations({ target: database.target, direction: 'up' });
    db = testPool(database.target);
    store = new LoadTestStore(db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  /** A started run whose last sign of life (creation, start, heartbeat) was `secondsAgo` ago. */
  async function runLastSeen(secondsAgo: number): Promise<string> {
    const { runId } = await createLoadTest({ target: TARGET, users: 1, requests: 1 }, store, LIMITS);
    await store.markStarted(runId);
    await database.admin(
      `UPDATE loadtest_runs
          SET created_at = now() - make_interval(secs => $2), started_at = now() - make_interval(secs => $2),
              heartbeat_at = now() - make_interval(secs => $2)
        WHERE id = $1`,
      [runId, secondsAgo],
    );
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
    await database.admin(`UPDATE loadtest_runs SET created_at = now() - interval '1 hour' WHERE id = $1`, [
      runId,
    ]);
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
    const statuses = await database.admin<{ id: string; status: string }>(
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
});
