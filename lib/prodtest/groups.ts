// The production verification groups: each sends real requests to a deployed (or local) stack and judges them.

import { request } from 'undici';
import { LoadwatchError } from '../errors.ts';
import { probeCors, probeSameOriginOnly } from '../http/cors-probe.ts';
import { runShard } from '../loadtest/engine.ts';
import { decodeHistogram, summarize } from '../loadtest/histogram.ts';
import { describeThresholdResult, evaluateThresholds } from '../loadtest/thresholds.ts';

export const GROUPS = ['health', 'cors', 'database', 'security', 'errors', 'load'] as const;
export type Group = (typeof GROUPS)[number];

export interface TestResult {
  group: Group;
  name: string;
  passed: boolean;
  /** Why it failed, naming the problem; what was seen when it passed. */
  reason: string;
  durationMs: number;
}

export interface ProdtestOptions {
  baseUrl: string;
  /** An origin the stack allows; without one the cors group checks that the API is same-origin only. */
  allowedOrigin?: string;
  deniedOrigin: string;
  token?: string;
  /** The newest migration this code ships: the database group expects the stack to be on it. */
  latestMigration: string | null;
  timeoutMs: number;
  load: { users: number; requests: number; thresholds: string[] };
}

async function call(
  options: ProdtestOptions,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const response = await request(`${options.baseUrl}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const text = await response.body.text();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers, text, json };
}

type Response = Awaited<ReturnType<typeof call>>;

/** POST /v1/loadtests with a JSON body, as a client of the API sends it. */
const postLoadTest = (options: ProdtestOptions, body: string, headers: Record<string, string> = {}) =>
  call(options, '/v1/loadtests', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

/** What a test checks: it returns a short note when it passes and throws an Error naming the problem when not. */
type Check = (options: ProdtestOptions) => Promise<string>;

class Failure extends LoadwatchError {
  constructor(message: string) {
    super(message, { code: 'PRODTEST_FAILED' });
  }
}
const fail = (message: string): never => {
  throw new Failure(message);
};
const expectThat = (condition: unknown, message: string) => {
  if (!condition) fail(message);
};

// Signs that an error response leaks internals: stack frames, file paths, driver or SQL messages.
const LEAK_PATTERNS: Array<[RegExp, string]> = [
  [/\bat [\w$.<>]+ \(?[^)\s]*:\d+:\d+\)?/, 'a stack trace'],
  [/[\w/.-]+\.(?:ts|js|mjs|cjs):\d+/, 'a source file path'],
  [/node_modules\//, 'a node_modules path'],
  [/\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT)\b/, 'a socket error code'],
  [
    /relation "[^"]+" does not exist|syntax error at or near|duplicate key value|violates (?:foreign key|not-null|unique) constraint/i,
    'a PostgreSQL message',
  ],
  [/\b(?:TypeError|ReferenceError|SyntaxError):/, 'a JavaScript exception'],
];

function leaks(text: string): string | null {
  for (const [pattern, what] of LEAK_PATTERNS) {
    const match = text.match(pattern);
    if (match) return `${what} ("${match[0].slice(0, 80)}")`;
  }
  return null;
}

const SECURITY_HEADERS: Array<[string, (value: string) => boolean, string]> = [
  ['x-content-type-options', (value) => value.toLowerCase() === 'nosniff', 'nosniff'],
  ['strict-transport-security', (value) => /max-age=\d+/.test(value), 'max-age=…'],
  ['referrer-policy', (value) => value.length > 0, 'a policy'],
  ['content-security-policy', (value) => value.length > 0, 'a policy'],
];

// The cors group says which of its two modes it checked, in every result.
const SAME_ORIGIN_MODE = 'same-origin only (no --allowed-origin given)';
const allowlistMode = (origin: string) => `allowlist (--allowed-origin ${origin})`;

const UNKNOWN_RUN = '/v1/loadtests/00000000-0000-4000-8000-000000000000';

const TESTS: Record<Group, Record<string, Check>> = {
  health: {
    'GET /health answers 200 {"status":"ok"} with service, stage and version': async (options) => {
      const response = await call(options, '/health');
      expectThat(response.status === 200, `status ${response.status}, expected 200`);
      const body = (response.json ?? {}) as Record<string, unknown>;
      expectThat(body.status === 'ok', `status field is ${JSON.stringify(body.status)}, expected "ok"`);
      for (const field of ['service', 'stage', 'version'])
        expectThat(typeof body[field] === 'string', `no "${field}" in the answer`);
      return `${body.service} ${body.version} on stage ${body.stage}`;
    },
    'GET /health/ready answers 200 {"status":"ready"}': async (options) => {
      const response = await call(options, '/health/ready');
      const body = (response.json ?? {}) as Record<string, unknown>;
      expectThat(
        response.status === 200 && body.status === 'ready',
        `status ${response.status} ${JSON.stringify(body.status)}${body.reason ? `: ${body.reason}` : ''}`,
      );
      return 'ready';
    },
  },
  cors: {
    'CORS as configured: allowed, disallowed and missing Origin; preflight; Vary: Origin': async (
      options,
    ) => {
      const { allowedOrigin, deniedOrigin } = options;
      const url = `${options.baseUrl}/health`;
      if (allowedOrigin === undefined) {
        const result = await probeSameOriginOnly(url, { deniedOrigin, timeoutMs: options.timeoutMs });
        expectThat(result.ok, `${SAME_ORIGIN_MODE}: ${result.problems.join('; ')}`);
        return `${SAME_ORIGIN_MODE}: ${deniedOrigin} gets no CORS header and its preflight is refused`;
      }
      const result = await probeCors(url, { allowedOrigin, deniedOrigin, timeoutMs: options.timeoutMs });
      expectThat(result.ok, `${allowlistMode(allowedOrigin)}: ${result.problems.join('; ')}`);
      return `${allowlistMode(allowedOrigin)}: ${allowedOrigin} allowed, ${deniedOrigin} refused`;
    },
    'CORS headers on error responses: present for an allowed origin, absent for a refused one': async (
      options,
    ) => {
      const { allowedOrigin, deniedOrigin } = options;
      const denied = await call(options, '/no-such-route', { headers: { origin: deniedOrigin } });
      expectThat(denied.status === 404, `status ${denied.status}, expected 404`);
      const leaked = Object.keys(denied.headers).filter((name) => name.startsWith('access-control-'));
      expectThat(leaked.length === 0, `CORS leak: a 404 for ${deniedOrigin} carries ${leaked.join(', ')}`);
      if (allowedOrigin === undefined) return `${SAME_ORIGIN_MODE}: none on a 404 for ${deniedOrigin}`;
      const response = await call(options, '/no-such-route', { headers: { origin: allowedOrigin } });
      expectThat(response.status === 404, `status ${response.status}, expected 404`);
      expectThat(
        response.headers['access-control-allow-origin'] === allowedOrigin,
        `a 404 for ${allowedOrigin} has Access-Control-Allow-Origin ${response.headers['access-control-allow-origin'] ?? 'missing'}: browsers will hide the error`,
      );
      return `${allowlistMode(allowedOrigin)}: present on a 404 for ${allowedOrigin}, none for ${deniedOrigin}`;
    },
  },
  database: {
    'database reachable, migrations current, pool not saturated': async (options) => {
      const response = await call(options, '/health/ready');
      const body = (response.json ?? {}) as {
        database?: {
          reachable?: boolean;
          latencyMs?: number;
          migrations?: { current?: string | null; pending?: string[] } | null;
          pool?: { total: number; waiting: number; max: number };
        };
      };
      const database = body.database ?? fail(`no "database" in /health/ready (status ${response.status})`);
      expectThat(database.reachable === true, 'the database is unreachable');
      const pending = database.migrations?.pending ?? [];
      expectThat(pending.length === 0, `migrations pending: ${pending.join(', ')}`);
      const current = database.migrations?.current ?? null;
      if (options.latestMigration) {
        expectThat(
          current === options.latestMigration,
          `migration ${current ?? '(none)'} applied, this code expects ${options.latestMigration}`,
        );
      }
      const pool = database.pool;
      expectThat(
        !pool || !(pool.waiting > 0 && pool.total >= pool.max),
        `pool saturated: ${pool?.waiting} waiting with ${pool?.total} of ${pool?.max} connections in use`,
      );
      return `migration ${current}, ${database.latencyMs} ms, pool ${pool?.total ?? '?'}/${pool?.max ?? '?'}`;
    },
  },
  security: {
    'security headers on successes and errors': async (options) => {
      const problems: string[] = [];
      for (const path of ['/health', '/no-such-route']) {
        const response = await call(options, path);
        for (const [name, valid, expected] of SECURITY_HEADERS) {
          const value = response.headers[name];
          if (value === undefined) problems.push(`${path}: no ${name}`);
          else if (!valid(value)) problems.push(`${path}: ${name} is "${value}", expected ${expected}`);
        }
        const framing = response.headers['x-frame-options'] ?? '';
        const csp = response.headers['content-security-policy'] ?? '';
        if (!/deny|sameorigin/i.test(framing) && !/frame-ancestors/.test(csp)) {
          problems.push(`${path}: neither X-Frame-Options nor CSP frame-ancestors (clickjacking)`);
        }
      }
      expectThat(problems.length === 0, problems.join('; '));
      return 'present';
    },
    'no stack trace or driver message in any error': async (options) => {
      const responses = [
        ['GET /no-such-route', await call(options, '/no-such-route')],
        ['DELETE /health', await call(options, '/health', { method: 'DELETE' })],
        ['malformed JSON', await postLoadTest(options, '{"users":')],
        ['unknown run', await call(options, UNKNOWN_RUN)],
        ['bad query', await call(options, '/v1/alerts?state=%00bogus')],
      ] as const;
      const problems = responses.flatMap(([label, response]) => {
        const leak = leaks(response.text);
        return leak ? [`${label} (status ${response.status}) shows ${leak}`] : [];
      });
      expectThat(problems.length === 0, problems.join('; '));
      return `${responses.length} error responses clean`;
    },
    'writes are refused without authentication': async (options) => {
      const start = await postLoadTest(options, JSON.stringify({ users: 1, requests: 1 }));
      expectRefused(start, 'POST /v1/loadtests without credentials');
      const abort = await call(options, UNKNOWN_RUN, { method: 'DELETE' });
      expectRefused(abort, `DELETE ${UNKNOWN_RUN} without credentials`);
      const bad = await postLoadTest(options, '{}', { authorization: 'Bearer lw_invalid' });
      expectRefused(bad, 'an invalid token');
      if (!options.token) return '401 without credentials or with an invalid token';
      // The given token must get past authentication; the run it asks for is invalid, so nothing starts.
      const good = await postLoadTest(options, JSON.stringify({ users: 0 }), {
        authorization: `Bearer ${options.token}`,
      });
      expectThat(
        good.status === 400,
        `the given token answered ${good.status}, expected 400 for an invalid run (authenticated)`,
      );
      return '401 without credentials, the given token accepted';
    },
  },
  errors: {
    '404 answers the documented JSON error': async (options) => {
      const response = await call(options, '/no-such-route');
      expectErrorBody(response, 404, 'NOT_FOUND');
      return 'NOT_FOUND';
    },
    '405 answers the documented JSON error with Allow': async (options) => {
      const response = await call(options, '/health', { method: 'DELETE' });
      expectErrorBody(response, 405, 'METHOD_NOT_ALLOWED');
      expectThat(
        /GET/.test(response.headers.allow ?? ''),
        `Allow is "${response.headers.allow ?? ''}", expected it to list GET`,
      );
      return `Allow: ${response.headers.allow}`;
    },
    '400 answers the documented JSON error for malformed JSON': async (options) => {
      const response = await postLoadTest(options, '{"users":');
      expectErrorBody(response, 400, 'MALFORMED_JSON');
      return 'MALFORMED_JSON';
    },
    '413 answers the documented JSON error for a body over 1 MB': async (options) => {
      const response = await postLoadTest(options, JSON.stringify({ padding: 'x'.repeat(1024 * 1024) }));
      expectErrorBody(response, 413, 'PAYLOAD_TOO_LARGE');
      return 'PAYLOAD_TOO_LARGE';
    },
  },
  load: {
    'a short load test passes its thresholds': async (options) => {
      const result = await runShard({
        target: options.baseUrl,
        endpoints: [{ path: '/health', method: 'GET', headers: {}, weight: 1 }],
        timeoutMs: options.timeoutMs,
        runStartedAt: Date.now(),
        deadline: Date.now() + 60_000,
        load: {
          model: 'closed',
          requestsPerUser: Array.from({ length: options.load.users }, () => options.load.requests),
          thinkTimeMs: 0,
        },
      });
      const latencyMs = summarize(decodeHistogram(result.latency));
      const seconds = Math.max(0.001, (result.finishedAt - result.startedAt) / 1000);
      const errorPercent = result.requests ? (result.failed / result.requests) * 100 : 100;
      const verdicts = evaluateThresholds(options.load.thresholds, {
        latencyMs,
        errorPercent,
        rps: result.requests / seconds,
        requests: result.requests,
      });
      const failed = verdicts.filter((verdict) => !verdict.passed);
      expectThat(
        failed.length === 0,
        failed.map((verdict) => `${describeThresholdResult(verdict)} failed`).join('; '),
      );
      return `${result.requests} requests, p95 ${latencyMs.p95} ms, errors ${Math.round(errorPercent * 100) / 100}%`;
    },
  },
};

/** 401 (or 403) for a request whose credentials are missing or wrong. */
function expectRefused(response: Response, what: string) {
  const refused = response.status === 401 || response.status === 403;
  expectThat(refused, `${what} answered ${response.status}, expected 401`);
}

function expectErrorBody(response: Response, status: number, code: string) {
  expectThat(response.status === status, `status ${response.status}, expected ${status}`);
  expectThat(
    /^application\/json/.test(response.headers['content-type'] ?? ''),
    `Content-Type is "${response.headers['content-type'] ?? ''}", expected application/json`,
  );
  const body = (response.json ?? {}) as {
    error?: { code?: unknown; message?: unknown };
    requestId?: unknown;
  };
  expectThat(
    body.error?.code === code,
    `error.code is ${JSON.stringify(body.error?.code)}, expected "${code}"`,
  );
  expectThat(typeof body.error?.message === 'string', 'no error.message');
  expectThat(typeof body.requestId === 'string', 'no requestId');
}

export async function runGroups(
  groups: Group[],
  options: ProdtestOptions,
  onResult?: (result: TestResult) => void,
): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const group of groups) {
    for (const [name, check] of Object.entries(TESTS[group])) {
      const started = performance.now();
      let passed = true;
      let reason: string;
      try {
        reason = await check(options);
      } catch (error) {
        passed = false;
        reason =
          error instanceof Failure
            ? error.message
            : `could not run: ${(error as Error)?.message ?? String(error)}`;
      }
      const result = { group, name, passed, reason, durationMs: Math.round(performance.now() - started) };
      results.push(result);
      onResult?.(result);
    }
  }
  return results;
}
