import { createServer } from 'node:http';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../../lib/api/create-api.ts';
import { issueToken } from '../../lib/auth/tokens.ts';
import { loadConfig } from '../../lib/config/config.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { gatewayEvent, lambdaContext } from '../support/gateway-event.ts';
import { listenLocally } from '../support/listen.ts';

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('/v1/loadtests', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  let token: string;

  beforeAll(async () => {
    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      CORS_ORIGINS: 'https://app.example.com',
    });
    token = await issueToken(api.db, 'test');
  });
  afterAll(async () => {
    await api?.close();
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
    // 1 GB-s, 4 invocations and 7 transitions: a fraction of a cent, kept as it is rather than rounded up.
    expect(body.estimate.usd).toMatchObject({ architecture: 'arm64' });
    expect(body.estimate.usd.total).toBeGreaterThan(0);
    expect(body.estimate.usd.total).toBeLessThan(0.001);
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

  it('lists the first 20 problems and how many more, however many there are and however long', async () => {
    const response = await post(
      { users: 1, requests: 'x'.repeat(200_000), thresholds: Array.from({ length: 60_000 }, () => 'bad') },
      { authorization: `Bearer ${token}` },
    );
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text.length).toBeLessThan(25_000);
    const body = JSON.parse(text) as { error: { code: string; message: string; problems: string[] } };
    expect(body.error.code).toBe('INVALID_LOADTEST');
    expect(body.error.problems).toHaveLength(21);
    expect(body.error.problems[0]).toMatch(/^thresholds\[0\]: "bad" is not a threshold/);
    expect(body.error.problems[20]).toBe('and 59981 more');
    expect(body.error.message).toContain('thresholds[19]: "bad" is not a threshold');
    expect(body.error.message).toMatch(/; and 59981 more$/);
    const long = await post({ users: 'y'.repeat(200_000) }, { authorization: `Bearer ${token}` });
    const longBody = (await long.json()) as { error: { problems: string[] } };
    expect(longBody.error.problems).toHaveLength(1);
    expect(longBody.error.problems[0]?.length).toBeLessThanOrEqual(500);
    expect(longBody.error.problems[0]).toMatch(/^users: "yyy.*…$/);
  });

  it('never lets a request header widen the allowlist or pick the default target', async () => {
    const spoofed: Array<Record<string, string>> = [
      { host: 'evil.test' },
      { 'x-forwarded-proto': 'http://evil2.test/#' },
      { 'x-forwarded-host': 'evil.test' },
      { forwarded: 'host=evil.test;proto=http' },
      { 'x-original-host': 'evil.test' },
      { 'x-host': 'evil.test' },
      { 'x-forwarded-server': 'evil.test' },
      { host: 'evil.test', 'x-forwarded-proto': 'http', 'x-forwarded-port': '80' },
    ];
    const send = async (body: unknown, headers: Record<string, string>) => {
      const response = await request(`${api.url}/v1/loadtests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify(body),
      });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, never> };
    };
    for (const headers of spoofed) {
      for (const target of ['http://evil.test', 'https://evil.test', 'http://evil2.test']) {
        const answer = await send({ users: 1, requests: 1, target }, headers);
        expect({ headers, target, status: answer.status }).toEqual({ headers, target, status: 400 });
        expect(JSON.stringify(answer.body)).toContain('is not on the allowlist');
      }
    }
    const defaulted = await send({ users: 1, requests: 1 }, { host: 'evil.test' });
    expect(defaulted.status).toBe(202);
    const run = (await (
      await fetch(`${api.url}/v1/loadtests/${defaulted.body.runId}?view=summary`)
    ).json()) as {
      target: string;
    };
    expect(run.target).toBe(api.url);
  });

  it("refuses the stack's own PostgreSQL port on loopback while other loopback ports stay allowed", async () => {
    const port = new URL(postgres.database.url).port;
    for (const target of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]) {
      const response = await post({ users: 1, requests: 1, target }, { authorization: `Bearer ${token}` });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        "is the stack's own PostgreSQL",
      );
    }
  });

  it('sends credential query parameters for real but masks them in everything it stores, serves and logs', async () => {
    const seen: string[] = [];
    const recorder = createServer((request, response) => {
      seen.push(request.url ?? '');
      response.end('ok');
    });
    const target = await listenLocally(recorder);
    try {
      const path = '/x?api_key=SECRET1&page=2&X-Amz-Signature=SECRET2&access_token=SECRET3';
      const started = await post(
        { target, users: 1, requests: 2, endpoint: path },
        { authorization: `Bearer ${token}` },
      );
      expect(started.status).toBe(202);
      const { runId } = (await started.json()) as { runId: string };
      const final = await poll(
        async () => (await fetch(`${api.url}/v1/loadtests/${runId}`)).text(),
        (text) => /"status":"(passed|failed|error)"/.test(text),
      );
      expect(seen).toEqual([path, path]);
      expect(final).toContain('/x?api_key=***&page=2&X-Amz-Signature=***&access_token=***');
      const served = [
        final,
        await (await fetch(`${api.url}/v1/loadtests/${runId}?view=summary`)).text(),
        await (await fetch(`${api.url}/v1/loadtests/${runId}/report.html`)).text(),
        await (await fetch(`${api.url}/v1/loadtests?limit=100`)).text(),
        JSON.stringify(api.logs),
      ];
      const stored = await postgres.database.admin<{ report: unknown }>(
        'SELECT report FROM loadtest_runs WHERE id = $1',
        [runId],
      );
      for (const text of [...served, JSON.stringify(stored.rows)]) expect(text).not.toMatch(/SECRET\d/);
    } finally {
      recorder.close();
    }
  });

  it('answers 404 for an unknown run, also when aborting it, and 409 when aborting a finished one', async () => {
    expect((await fetch(`${api.url}/v1/loadtests/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
    expect((await fetch(`${api.url}/v1/loadtests/not-a-uuid`)).status).toBe(404);
    const unknown = await fetch(`${api.url}/v1/loadtests/00000000-0000-0000-0000-000000000000`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
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

describe('/v1/loadtests on Lambda', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  const started: string[] = [];

  const lambdaApi = (env: Record<string, string> = {}) =>
    createApi({
      config: loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'api', DATABASE_URL: postgres.database.url, ...env }),
      db: postgres.db,
      logger: createLogger({ level: 'error', write: () => undefined }),
      knownMigrations: listMigrations(),
      // Step Functions' port: records what it was asked to start; nothing is sent anywhere.
      starter: {
        start: async (runId) => {
          started.push(runId);
          return `arn:aws:states:eu-west-1:123456789012:execution:test:${runId}`;
        },
      },
    });
  const spoofing = {
    host: 'evil.test',
    'x-forwarded-host': 'evil.test',
    'x-forwarded-proto': 'http',
    forwarded: 'host=evil.test',
  };
  const start = async (api: ReturnType<typeof lambdaApi>, body: unknown) => {
    const result = await api(
      gatewayEvent({
        method: 'POST',
        path: '/v1/loadtests',
        headers: spoofing,
        body,
        userArn: 'arn:aws:iam::1:user/t',
      }),
      lambdaContext(29_000),
    );
    return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as { runId: string } };
  };
  const targetOf = async (runId: string) => (await new LoadTestStore(postgres.db).getRun(runId))?.target;

  it("defaults to https on the event's API Gateway domain, whatever the headers say", async () => {
    const api = lambdaApi();
    const defaulted = await start(api, { users: 1, requests: 1 });
    expect(defaulted.status).toBe(202);
    expect(await targetOf(defaulted.body.runId)).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
    expect(started).toContain(defaulted.body.runId);
    for (const target of [
      'http://evil.test',
      'https://evil.test',
      'http://127.0.0.1:9001',
      'http://169.254.169.254',
    ]) {
      const refused = await start(api, { users: 1, requests: 1, target });
      expect({ target, status: refused.status }).toEqual({ target, status: 400 });
    }
  });

  it('uses API_URL over the domain when it is set', async () => {
    const defaulted = await start(lambdaApi({ API_URL: 'https://api.example.com' }), {
      users: 1,
      requests: 1,
    });
    expect(defaulted.status).toBe(202);
    expect(await targetOf(defaulted.body.runId)).toBe('https://api.example.com');
  });
});
