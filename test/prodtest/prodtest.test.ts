/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { GROUPS, type ProdtestOptions, runGroups, type TestResult } from '../../lib/prodtest/groups.ts';
import { toJunit } from '../../lib/prodtest/junit.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { launchChromium } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { startMutatingProxy } from '../support/mutating-proxy.ts';

const ALLOWED = 'https://app.example.com';

describe('prodtest', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  const closers: Array<() => Promise<void>> = [];

  const options = (baseUrl: string): ProdtestOptions => ({
    baseUrl,
    allowedOrigin: ALLOWED,
    deniedOrigin: 'https://evil.example.net',
    latestMigration: listMigrations().at(-1) ?? null,
    timeoutMs: 5000,
    load: { users: 5, requests: 10, thresholds: ['p95<2000', 'errors<1%'] },
  });
  const failures = (results: TestResult[]) =>
    results.filter((result) => !result.passed).map((result) => [result.group, result.reason]);

  beforeAll(async () => {
    api = await startApiServer({ DATABASE_URL: postgres.database.url, CORS_ORIGINS: ALLOWED });
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await api?.close();
  });

  it('passes every group against the real API', async () => {
    const results = await runGroups([...GROUPS], options(api.url));
    expect(failures(results)).toEqual([]);
    expect(new Set(results.map((result) => result.group))).toEqual(new Set(GROUPS));
  });

  it('checks that a given token is accepted and names a token that is not', async () => {
    const token = await issueToken(api.db, 'prodtest');
    const accepted = await runGroups(['security'], { ...options(api.url), token });
    expect(failures(accepted)).toEqual([]);
    const refused = await runGroups(['security'], { ...options(api.url), token: 'lw_revoked' });
    expect(failures(refused)).toEqual([
      ['security', 'the given token answered 401, expected 400 for an invalid run (authenticated)'],
    ]);
  });

  it('catches a CORS leak in the cors group', async () => {
    const leaky = await startMutatingProxy(api.url, (response, incoming) => {
      const origin = incoming.headers.origin;
      return origin
        ? { ...response, headers: { ...response.headers, 'access-control-allow-origin': origin } }
        : response;
    });
    closers.push(leaky.close);
    const results = await runGroups(['cors'], options(leaky.url));
    expect(failures(results)[0]?.[1]).toContain(
      'CORS leak: GET with the disallowed Origin https://evil.example.net got Access-Control-Allow-Origin: https://evil.example.net',
    );
  });

  it('catches a stack trace in an error in the security group', async () => {
    const chatty = await startMutatingProxy(api.url, (response) =>
      response.status === 404
        ? {
            ...response,
            body: JSON.stringify({
              error: {
                code: 'NOT_FOUND',
                message: 'TypeError: x is undefined\n    at dispatch (/var/task/functions/api.mjs:1:2345)',
              },
            }),
          }
        : response,
    );
    closers.push(chatty.close);
    const results = await runGroups(['security'], options(chatty.url));
    const failed = failures(results);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.[1]).toContain(
      'GET /no-such-route (status 404) shows a stack trace ("at dispatch (/var/task/functions/api.mjs:1:2345)")',
    );
  });

  it('catches a missing security header in the security group', async () => {
    const bare = await startMutatingProxy(api.url, (response) => {
      const { 'x-content-type-options': _dropped, ...headers } = response.headers;
      return { ...response, headers };
    });
    closers.push(bare.close);
    const results = await runGroups(['security'], options(bare.url));
    expect(failures(results)).toEqual([
      ['security', '/health: no x-content-type-options; /no-such-route: no x-content-type-options'],
    ]);
  });

  it('catches a pending migration in the database and health groups', async () => {
    const behind = await startApiServer(
      { DATABASE_URL: postgres.database.url, CORS_ORIGINS: ALLOWED },
      {
        knownMigrations: [...listMigrations(), '9999_future'],
      },
    );
    closers.push(behind.close);
    const results = await runGroups(['health', 'database'], {
      ...options(behind.url),
      latestMigration: '9999_future',
    });
    expect(failures(results)).toEqual([
      ['health', 'status 503 "unavailable": 1 migration(s) pending: 9999_future'],
      ['database', 'migrations pending: 9999_future'],
    ]);
  });

  it('writes JUnit XML that a real XML parser accepts, with one failure per failed test', async () => {
    const results: TestResult[] = [
      { group: 'health', name: 'GET /health <ok> & "fine"', passed: true, reason: 'ok', durationMs: 12 },
      {
        group: 'cors',
        name: 'CORS',
        passed: false,
        reason: 'CORS leak: <script>alert("x")</script>',
        durationMs: 30,
      },
    ];
    const xml = toJunit(results, 'http://localhost:3000', new Date('2026-01-01T00:00:00Z'));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const parsed = await page.evaluate((text) => {
        const document = new DOMParser().parseFromString(text, 'application/xml');
        return {
          error: document.getElementsByTagName('parsererror').length,
          suites: document.getElementsByTagName('testsuite').length,
          cases: document.getElementsByTagName('testcase').length,
          failures: [...document.getElementsByTagName('failure')].map((node) => node.getAttribute('message')),
          tests: document.documentElement.getAttribute('tests'),
          name: document.getElementsByTagName('testcase')[0]?.getAttribute('name'),
        };
      }, xml);
      expect(parsed).toEqual({
        error: 0,
        suites: 2,
        cases: 2,
        failures: ['CORS leak: <script>alert("x")</script>'],
        tests: '2',
        name: 'GET /health <ok> & "fine"',
      });
    } finally {
      await browser.close();
    }
  });

  it('exits 0 when all pass, 1 when a group fails, 2 for bad usage', async () => {
    const passing = await runCli(
      ['prodtest', '--base-url', api.url, '--test', 'health', '--test', 'errors'],
      {},
    );
    expect(passing.code).toBe(0);
    expect(passing.output).toMatch(/^6 passed, 0 failed/m);
    const behind = await startApiServer(
      { DATABASE_URL: postgres.database.url },
      { knownMigrations: [...listMigrations(), '9999_future'] },
    );
    closers.push(behind.close);
    const failing = await runCli(['prodtest', '--base-url', behind.url, '--test', 'health'], {});
    expect(failing.code).toBe(1);
    expect(failing.output).toContain(
      'FAIL  health   GET /health/ready answers 200 {"status":"ready"}: status 503',
    );
    const usage = await runCli(
      ['prodtest', '--base-url', api.url, '--test', 'speed', '--load-users', '500', '--alowed-origin', 'x'],
      {},
    );
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('--alowed-origin: unknown option; did you mean --allowed-origin?');
    expect(usage.output).toContain('--test: "speed" is not one of all');
    expect(usage.output).toContain('--load-users: "500" must be a whole number from 1 to 50');
  });

  it('passes --test all on a stack with CORS_ORIGINS empty, checking same-origin only and saying so', async () => {
    const sameOrigin = await startApiServer({ DATABASE_URL: postgres.database.url });
    closers.push(sameOrigin.close);
    const result = await runCli(['prodtest', '--base-url', sameOrigin.url, '--test', 'all'], {});
    expect(result.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(result.code).toBe(0);
    expect(result.output).toContain(
      'PASS  cors     CORS as configured: allowed, disallowed and missing Origin; preflight; Vary: Origin: same-origin only (no --allowed-origin given): https://denied.invalid gets no CORS header and its preflight is refused',
    );
  });

  it('catches an origin allowed where the API should be same-origin only', async () => {
    const leaky = await startMutatingProxy(api.url, (response, incoming) =>
      incoming.method === 'OPTIONS'
        ? { ...response, headers: { ...response.headers, 'access-control-allow-origin': '*' } }
        : response,
    );
    closers.push(leaky.close);
    const results = await runGroups(['cors'], { ...options(leaky.url), allowedOrigin: undefined });
    expect(failures(results)).toEqual([
      [
        'cors',
        'same-origin only (no --allowed-origin given): CORS leak: preflight from https://evil.example.net got access-control-allow-origin: * (expected no Access-Control-* header)',
      ],
    ]);
  });
});
