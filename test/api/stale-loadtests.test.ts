// /v1/loadtests for runs whose process died mid-run: read as failed, and a DELETE finishes them at once.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { HEARTBEAT_GRACE_SECONDS, LoadTestStore } from '../../lib/loadtest/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { backdateRun } from '../support/loadtest-runs.ts';

describe('/v1/loadtests for runs of a dead process', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  let token: string;

  beforeAll(async () => {
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
    token = await issueToken(api.db, 'test');
  });
  afterAll(async () => {
    await api?.close();
  });

  /** A run started by a process that was then killed: no heartbeat for longer than the grace. */
  async function deadRun(): Promise<string> {
    const store = new LoadTestStore(api.db);
    const { runId } = await createLoadTest(
      { target: 'http://127.0.0.1:9', users: 1, requests: 1 },
      store,
      DEFAULT_LIMITS,
    );
    await store.markStarted(runId);
    await backdateRun(postgres.database, runId, HEARTBEAT_GRACE_SECONDS + 10);
    return runId;
  }

  it('answers failed with the reason, not running, when the run stopped beating', async () => {
    const runId = await deadRun();
    const response = await fetch(`${api.url}/v1/loadtests/${runId}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ runId, status: 'failed' });
    expect(body.error).toMatch(/^the process running it stopped: no heartbeat for over 120 s/);
    expect(body).not.toHaveProperty('message');
  });

  it('finishes a dead run at once on DELETE, and answers 409 after', async () => {
    const runId = await deadRun();
    const abort = () =>
      fetch(`${api.url}/v1/loadtests/${runId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    const first = await abort();
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ runId, status: 'aborted' });
    const run = (await (await fetch(`${api.url}/v1/loadtests/${runId}`)).json()) as Record<string, unknown>;
    expect(run.status).toBe('aborted');
    expect((await abort()).status).toBe(409);
  });
});
