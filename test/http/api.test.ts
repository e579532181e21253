import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { createTestDatabase, type TestDatabase, useMigratedDatabase } from '../support/database.ts';

const ALLOWED = 'https://app.example.com';
const OTHER_ALLOWED = 'http://localhost:5173';
const DENIED = 'https://evil.example.net';

describe('API over HTTP', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      CORS_ORIGINS: `${ALLOWED},${OTHER_ALLOWED}`,
      CORS_MAX_AGE: '300',
      STAGE: 'test',
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${api.url}${path}`, { headers });

  it('answers /health without the database', async () => {
    const response = await get('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      service: 'loadwatch',
      stage: 'test',
      version: '0.1.0',
    });
  });

  it('reports readiness with the migration version and pool stats', async () => {
    const response = await get('/health/ready');
    const body = (await response.json()) as { database: { latencyMs: number; pool: { total: number } } };
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      status: 'ready',
      database: {
        reachable: true,
        migrations: { current: listMigrations().at(-1), latest: listMigrations().at(-1), pending: [] },
        pool: { max: 60 },
      },
    });
    expect(body.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.database.pool.total).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 with a JSON error for an unknown path', async () => {
    const response = await get('/nope');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'no route for GET /nope' },
    });
  });

  it('answers 405 with Allow when the path exists but the method does not', async () => {
    const response = await fetch(`${api.url}/health`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, OPTIONS');
    expect(await response.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });

  it('answers 413 for a body over 1 MB and 404 rather than 400 for malformed JSON to an unknown route', async () => {
    const big = await fetch(`${api.url}/health`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    const unknown = await fetch(`${api.url}/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{bad',
    });
    expect(unknown.status).toBe(404);
  });

  it('puts security headers and Vary: Origin on every response', async () => {
    for (const response of [
      await get('/health'),
      await get('/nope'),
      await get('/health', { origin: DENIED }),
    ]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('vary')).toBe('Origin');
    }
  });

  it('allows each listed origin exactly, on success and on errors', async () => {
    for (const origin of [ALLOWED, OTHER_ALLOWED]) {
      for (const path of ['/health', '/nope']) {
        const response = await get(path, { origin });
        expect(response.headers.get('access-control-allow-origin')).toBe(origin);
        expect(response.headers.get('vary')).toBe('Origin');
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      }
    }
  });

  it('sends no CORS header at all to an origin that is not allowed', async () => {
    for (const path of ['/health', '/nope']) {
      const response = await get(path, { origin: DENIED });
      const corsHeaders = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
      expect(corsHeaders).toEqual([]);
    }
  });

  it('answers a preflight with 204, methods, headers and max-age for an allowed origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${api.url}/health/ready`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(allowed.headers.get('access-control-max-age')).toBe('300');
    expect(allowed.headers.get('vary')).toBe('Origin, Access-Control-Request-Headers');
    const denied = await preflight(DENIED);
    expect(denied.status).toBe(204);
    expect([...denied.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  const preflightAsking = (url: string, origin: string, requestHeaders: string) =>
    fetch(`${url}/health`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': requestHeaders,
      },
    });

  it('allows the headers an allowed preflight asks for, and varies on them', async () => {
    const allowed = await preflightAsking(api.url, ALLOWED, 'X-Api-Key, traceparent,authorization');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-headers')).toBe('x-api-key, traceparent, authorization');
    expect(allowed.headers.get('vary')).toBe('Origin, Access-Control-Request-Headers');
    const denied = await preflightAsking(api.url, DENIED, 'x-api-key');
    expect([...denied.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('reflects nothing when the asked-for headers are not a list of header names', async () => {
    for (const requested of [
      'x-api-key, bad header',
      'x-a(b)',
      Array.from({ length: 65 }, (_, i) => `x-h${i}`).join(','),
    ]) {
      const response = await preflightAsking(api.url, ALLOWED, requested);
      expect(response.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(response.headers.get('access-control-allow-headers')).toBeNull();
    }
  });

  it('exposes Retry-After and X-Request-Id by default', async () => {
    const response = await get('/health', { origin: ALLOWED });
    expect(response.headers.get('access-control-expose-headers')).toBe('Retry-After, X-Request-Id');
  });

  it('logs one JSON line per request with method, route, status, duration and request id', async () => {
    const before = api.logs.length;
    await get('/health/ready?x=1');
    const lines = api.logs.slice(before).filter((entry) => entry.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', method: 'GET', route: '/health/ready', status: 200 });
    expect(typeof lines[0]?.durationMs).toBe('number');
    expect(lines[0]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(api.logs)).not.toContain(postgres.database.url);
  });

  it('answers 400 naming the parameter for every bad query value, on every route that reads one', async () => {
    const cases: Array<[string, RegExp]> = [];
    for (const path of ['/v1/loadtests', '/v1/alerts', '/v1/checks/api/samples']) {
      for (const bad of ['1.5', '0', '-1', 'abc', '1e3', '99999999999999999999', '%00']) {
        cases.push([`${path}?limit=${bad}`, /^limit: /]);
      }
    }
    for (const bad of [
      '0',
      '-1',
      '1',
      'yesterday',
      '0000-01-01',
      '2024-13-01',
      '2024-02-30T00:00:00Z',
      '%00',
    ]) {
      cases.push([`/v1/loadtests?before=${bad}`, /^before: /]);
      cases.push([`/v1/checks/api/samples?since=${bad}`, /^since: /]);
    }
    cases.push(['/v1/alerts?state=%00bogus', /^state: /]);
    cases.push(['/v1/loadtests/00000000-0000-0000-0000-000000000000?view=%0A', /^view: /]);
    for (const [path, message] of cases) {
      const response = await get(path);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect({ path, status: response.status, code: body.error.code }).toEqual({
        path,
        status: 400,
        code: 'BAD_REQUEST',
      });
      expect(body.error.message).toMatch(message);
    }
    for (const good of ['/v1/loadtests?limit=100&before=2024-05-01T12:00:00Z', '/v1/alerts?limit=500']) {
      expect((await get(good)).status).toBe(200);
    }
    expect((await get('/v1/loadtests?before=2024-05-01T12:00:00.123456+02:00')).status).toBe(200);
  });

  it('answers 400 for a control character in a path parameter', async () => {
    for (const path of ['/v1/checks/a%00b/samples', '/v1/checks/a%0d%0ab/samples']) {
      const response = await get(path);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        'holds a control character',
      );
    }
  });

  it('answers 400 naming the field for a NUL anywhere in a JSON body, and for a body nested too deep', async () => {
    const post = (body: string) =>
      fetch(`${api.url}/v1/loadtests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const cases: Array<[unknown, string]> = [
      [{ endpoint: '/x\u0000' }, 'endpoint: holds a NUL character'],
      [{ body: 'a\u0000' }, 'body: holds a NUL character'],
      [{ headers: { 'x-a': 'v\u0000' } }, 'headers.x-a: holds a NUL character'],
      [{ endpoints: [{ path: '/a' }, { path: '/b\u0000' }] }, 'endpoints[1].path: holds a NUL character'],
      [{ 'a\u0000': 1 }, 'body: a key holds a NUL character'],
    ];
    for (const [body, message] of cases) {
      const response = await post(JSON.stringify(body));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(message);
    }
    const deep = `{"body":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const response = await post(deep);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: {
        code: 'BODY_TOO_DEEP',
        message:
          'body[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 64 levels',
      },
    });
  });

  it('recovers on the next request after every API connection was terminated', async () => {
    await Promise.all([get('/health/ready'), get('/health/ready'), get('/health/ready')]);
    const killed = await postgres.database.admin<{ count: string }>(
      `SELECT count(pg_terminate_backend(pid)) AS count FROM pg_stat_activity WHERE application_name = 'lw-api-test'`,
    );
    expect(Number(killed.rows[0]?.count)).toBeGreaterThan(0);
    const response = await get('/health/ready');
    expect(response.status).toBe(200);
  });
});

describe('CORS with pinned header lists', () => {
  let database: TestDatabase;
  let api: RunningApi;
  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startApiServer({
      DATABASE_URL: database.url,
      CORS_ORIGINS: ALLOWED,
      CORS_ALLOW_HEADERS: 'Authorization, Content-Type, X-Api-Key',
      CORS_EXPOSE_HEADERS: 'X-Request-Id, Traceresponse',
    });
  });
  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  it('answers every preflight with CORS_ALLOW_HEADERS, whatever it asks for', async () => {
    const response = await fetch(`${api.url}/health`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-api-key, traceparent',
      },
    });
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'Authorization, Content-Type, X-Api-Key',
    );
    expect(response.headers.get('vary')).toBe('Origin');
  });

  it('exposes CORS_EXPOSE_HEADERS instead of the default', async () => {
    const response = await fetch(`${api.url}/health`, { headers: { origin: ALLOWED } });
    expect(response.headers.get('access-control-expose-headers')).toBe('X-Request-Id, Traceresponse');
  });
});

describe('readiness with pending migrations', () => {
  let database: TestDatabase;
  let api: RunningApi;
  beforeAll(async () => {
    database = await createTestDatabase();
    api = await startApiServer({ DATABASE_URL: database.url });
  });
  afterAll(async () => {
    await api?.close();
    await database?.drop();
  });

  it('answers 503 unavailable naming the pending migrations', async () => {
    const response = await fetch(`${api.url}/health/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: 'unavailable',
      reason: `${listMigrations().length} migration(s) pending: ${listMigrations().join(', ')}`,
      database: { reachable: true, migrations: { current: null, pending: listMigrations() } },
    });
  });
});

describe('routes after migrations were reverted', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  beforeAll(async () => {
    // Every migration after the first (the API tokens) reverted: the monitor's and the load tests' tables are gone.
    await runMigrations({
      target: postgres.database.target,
      direction: 'down',
      count: listMigrations().length - 1,
    });
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers 503 with Retry-After and the reason on every route that reads a missing table', async () => {
    for (const path of [
      '/status',
      '/v1/checks',
      '/v1/alerts',
      '/v1/checks/api/samples',
      '/v1/loadtests',
      '/v1/loadtests/00000000-0000-0000-0000-000000000000',
    ]) {
      const response = await fetch(`${api.url}${path}`);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect({ path, status: response.status, code: body.error.code }).toEqual({
        path,
        status: 503,
        code: 'DB_MIGRATIONS_PENDING',
      });
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(body.error.message).toContain('migrations pending');
    }
    expect((await fetch(`${api.url}/health/ready`)).status).toBe(503);
  });
});
