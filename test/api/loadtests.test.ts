import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('/v1/loadtests', () => {
  let database: TestDatabase;
  let api: RunningApi;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await runMigrations({ target: database.target, direction: 'up' });
    api = await startApiServer({ DATABASE_URL: database.url, CORS_ORIGINS: 'https://app.example.com' });
    token = await issueToken(api.db, 'test');
  });
  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/v1/loadtests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('refuses to start a run without a valid token, with CORS headers on the 401', async () => {
    const anonymous = await post({ users: 1, requests: 1 }, { origin: 'https://app.example.com' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const wrong = await post({ users: 1, requests: 1 }, { authorization: 'Bearer lw_not-a-token' });
    expect(wrong.status).toBe(401);
  });

  it('starts a run against its own API by default and reports exact totals', async () => {
    const started = await post(
      { users: 5, requests: 4, endpoint: '/health', workers: 2 },
      { authorization: `Bearer ${token}` },
    );
    expect(started.status).toBe(202);
    const body = (await started.json()) as {
      runId: string;
      estimate: { requests: number; usd: { total: number; architecture: string } };
      capacity: { checked: boolean; note: string };
    };
    expect(body.estimate.requests).toBe(20);
    // The price of the same run on AWS, and the local stack's word that it had no Lambda concurrency to check.
    expect(body.estimate.usd).toMatchObject({ total: 0.001, architecture: 'arm64' });
    expect(body.capacity).toEqual({
      checked: false,
      note: 'local run: shards run in this process, no Lambda concurrency to check',
    });
    expect(started.headers.get('location')).toBe(`/v1/loadtests/${body.runId}`);

    const final = await poll(
      async () =>
        (await (await fetch(`${api.url}/v1/loadtests/${body.runId}`)).json()) as {
          status: string;
          report?: { totals: unknown; target: string };
        },
      (value) => value.status !== 'running' && value.status !== 'pending',
    );
    expect(final.status).toBe('passed');
    expect(final.report?.totals).toEqual({ requests: 20, ok: 20, failed: 0 });
    expect(final.report?.target).toBe(api.url);

    const html = await fetch(`${api.url}/v1/loadtests/${body.runId}/report.html`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'");
    expect(await html.text()).toContain(body.runId);

    const list = (await (await fetch(`${api.url}/v1/loadtests?limit=5`)).json()) as {
      runs: Array<{ id: string; requests: number }>;
    };
    expect(list.runs.find((run) => run.id === body.runId)?.requests).toBe(20);
  });

  it('names every bad field, and refuses a target off the allowlist', async () => {
    const response = await post(
      { users: 0, requests: 'many', target: 'https://example.com', threshold: 'p95<1' },
      { authorization: `Bearer ${token}` },
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INVALID_LOADTEST');
    expect(body.error.message).toContain('threshold: is not a load-test option');
    expect(body.error.message).toContain('target: host "example.com" is not on the allowlist');
    expect(body.error.message).toContain('users: 0 is below the minimum of 1');
    expect(body.error.message).toContain('requests: "many" is not a whole number');
  });

  it('answers 404 for an unknown run and 409 when aborting a finished one', async () => {
    expect((await fetch(`${api.url}/v1/loadtests/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
    expect((await fetch(`${api.url}/v1/loadtests/not-a-uuid`)).status).toBe(404);
    const started = await post({ users: 1, requests: 1 }, { authorization: `Bearer ${token}` });
    const { runId } = (await started.json()) as { runId: string };
    await poll(
      async () =>
        ((await (await fetch(`${api.url}/v1/loadtests/${runId}`)).json()) as { status: string }).status,
      (status) => status === 'passed',
    );
    const abort = await fetch(`${api.url}/v1/loadtests/${runId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(abort.status).toBe(409);
  });

  it('aborts a running open-model run', async () => {
    const started = await post(
      { rate: 50, duration: 30, endpoint: '/health' },
      { authorization: `Bearer ${token}` },
    );
    const { runId } = (await started.json()) as { runId: string };
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const abort = await fetch(`${api.url}/v1/loadtests/${runId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(abort.status).toBe(202);
    const final = await poll(
      async () =>
        (await (await fetch(`${api.url}/v1/loadtests/${runId}`)).json()) as {
          status: string;
          report?: { aborted: boolean; totals: { requests: number } };
        },
      (value) => value.status !== 'running',
      10_000,
    );
    expect(final.status).toBe('aborted');
    expect(final.report?.aborted).toBe(true);
    expect(final.report?.totals.requests).toBeGreaterThan(0);
    expect(final.report?.totals.requests).toBeLessThan(50 * 30);
  });
});
