import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { expectedRequests } from '../../lib/loadtest/request-count.ts';
import { isAllowedTarget, refuseDatabasePort } from '../../lib/loadtest/target-rules.ts';
import { evaluateThresholds, parseThreshold } from '../../lib/loadtest/thresholds.ts';

const target = 'http://localhost:3000';

function problems(input: unknown, limits = DEFAULT_LIMITS): string[] {
  try {
    parseLoadTestInput(input, limits);
  } catch (error) {
    if (error instanceof LoadTestInputError) return error.problems;
    throw error;
  }
  throw new Error('expected a LoadTestInputError');
}

describe('parseLoadTestInput', () => {
  it('applies the closed-model defaults of 10 users × 10 requests to /health', () => {
    const options = parseLoadTestInput({ target });
    expect(options).toMatchObject({
      model: 'closed',
      users: 10,
      requestsPerUser: 10,
      workers: 1,
      timeoutMs: 10_000,
    });
    expect(options.endpoints).toEqual([{ path: '/health', method: 'GET', headers: {}, weight: 1 }]);
    expect(expectedRequests(options)).toBe(100);
  });

  it('accepts the CLI strings with units and builds the open-model timeline', () => {
    const options = parseLoadTestInput({ target, rate: '100', duration: '1m', rampUp: '10s', timeout: '2s' });
    expect(options).toMatchObject({ model: 'open', rate: 100, durationSeconds: 60, timeoutMs: 2000 });
    if (options.model !== 'open') throw new Error('open model expected');
    expect(options.stages).toEqual([
      { durationSeconds: 10, from: 0, to: 100 },
      { durationSeconds: 50, from: 100, to: 100 },
    ]);
    expect(expectedRequests(options)).toBe(500 + 5000);
  });

  it('reads ramp-up stages and weighted endpoints', () => {
    const options = parseLoadTestInput({
      target,
      rate: 100,
      duration: 30,
      rampUp: '5s:50,5s:100',
      endpoints: [
        { path: '/a', weight: 3 },
        { path: '/b', method: 'post', body: { x: 1 } },
      ],
    });
    if (options.model !== 'open') throw new Error('open model expected');
    expect(options.stages.map((stage) => [stage.from, stage.to])).toEqual([
      [0, 50],
      [50, 100],
      [100, 100],
    ]);
    expect(options.endpoints[1]).toEqual({
      path: '/b',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
      weight: 1,
    });
  });

  it('names every bad field at once', () => {
    expect(
      problems({
        target: 'ftp://x',
        users: -1,
        requests: 'lots',
        timeout: 'forever',
        thresholds: ['p95 < fast'],
        color: 'red',
      }),
    ).toEqual([
      'color: is not a load-test option',
      'target: "ftp://x" must use http or https',
      'timeout: "forever" is not a duration (e.g. 500, 500ms or 2s)',
      'thresholds[0]: "p95 < fast" is not a threshold (metric, operator, value: e.g. "p95<300", "errors<1%", "rps>=100")',
      'users: -1 is below the minimum of 1',
      'requests: "lots" is not a whole number',
    ]);
  });

  it('reads a weight left null or empty as the default 1, rather than dropping the endpoint', () => {
    const options = parseLoadTestInput({
      target,
      endpoints: [
        { path: '/a', weight: null },
        { path: '/b', weight: '' },
      ],
    });
    expect(options.endpoints.map((endpoint) => [endpoint.path, endpoint.weight])).toEqual([
      ['/a', 1],
      ['/b', 1],
    ]);
  });

  it('judges workers against the users only when the user count itself is valid', () => {
    expect(problems({ target, users: 'many', workers: 20 })).toEqual(['users: "many" is not a whole number']);
    expect(problems({ target, users: 5, workers: 20 })).toEqual([
      'workers: 20 is more than the 5 users to share among them',
    ]);
  });

  it('checks a field given outside its model as well as refusing it there', () => {
    expect(problems({ target, rate: 10, duration: 5, thinkTime: 'soon' })).toEqual([
      'thinkTime: "soon" is not a duration (e.g. 500, 500ms or 2s)',
      'thinkTime: applies to the closed model (users, requests) only',
    ]);
  });

  it('refuses mixing the two models and a ramp-up longer than the run', () => {
    expect(problems({ target, users: 5, rate: 10, duration: 5 })[0]).toMatch(/do not mix; choose one/);
    expect(problems({ target, rate: 10, duration: 5, rampUp: 10 })).toEqual([
      'rampUp: lasts 10s, longer than the duration of 5s',
    ]);
  });

  it('enforces the caps and the allowlist with the setting to change', () => {
    const limits = { ...DEFAULT_LIMITS, maxUsers: 100, maxRate: 50, maxDurationSeconds: 60, maxWorkers: 4 };
    expect(problems({ target, users: 101 }, limits)).toEqual([
      'users: 101 is over the cap of 100 (LOADTEST_MAX_USERS)',
    ]);
    expect(problems({ target, rate: 51, duration: 61 }, limits)).toEqual([
      'rate: 51 is over the cap of 50 (LOADTEST_MAX_RATE)',
      'duration: 61s is over the cap of 60s (LOADTEST_MAX_DURATION)',
    ]);
    expect(problems({ target, users: 10, workers: 5 }, limits)).toEqual([
      'workers: 5 is over the cap of 4 (LOADTEST_MAX_WORKERS)',
    ]);
    expect(problems({ target: 'https://prod.example.com' })).toEqual([
      'target: host "prod.example.com" is not on the allowlist (localhost, 127.0.0.1, [::1]); add it to LOADTEST_ALLOWED_HOSTS',
    ]);
  });
});

describe('characters a request cannot carry', () => {
  it('refuses CR, LF, NUL and other control characters in header names and values', () => {
    expect(
      problems({
        target,
        headers: {
          'x-a': 'one\r\nInjected: yes',
          'x-b': 'nul\u0000',
          'x-c': 'bell\u0007',
          'x-ok': 'tab\there',
        },
      }),
    ).toEqual([
      'headers: "x-a" has a value holding CR (U+000D), which is not allowed',
      'headers: "x-b" has a value holding NUL (U+0000), which is not allowed',
      'headers: "x-c" has a value holding the character "\\u0007" (U+0007), which is not allowed',
    ]);
    expect(problems({ target, headers: ['X-Bad\r\nName: 1', 'X-Lf: a\nb'] })).toEqual([
      'headers: "X-Bad\\r\\nName" is not a header name',
      'headers: "X-Lf" has a value holding LF (U+000A), which is not allowed',
    ]);
  });

  it('refuses a path holding a space, a control character or anything but printable ASCII', () => {
    expect(
      problems({
        target,
        endpoints: ['/a b', '/x\r\nHost: evil.test', { path: '/n\u0000ul' }, '/caf\u00e9', '/ok%20fine?x=1'],
      }),
    ).toEqual([
      'endpoints[0].path: holds a space (U+0020), which is not allowed; percent-encode it',
      'endpoints[1].path: holds CR (U+000D), which is not allowed; percent-encode it',
      'endpoints[2].path: holds NUL (U+0000), which is not allowed; percent-encode it',
      'endpoints[3].path: holds the character "é" (U+00E9), which is not allowed; percent-encode it',
    ]);
  });

  it('refuses NUL in a body, which PostgreSQL cannot store with the run', () => {
    expect(problems({ target, method: 'POST', body: 'a\u0000b' })).toEqual([
      'body: holds NUL (U+0000), which is not allowed',
    ]);
    expect(problems({ target, endpoints: [{ path: '/a', method: 'POST', body: 'x\u0000' }] })).toEqual([
      'endpoints[0].body: holds NUL (U+0000), which is not allowed',
    ]);
  });
});

describe('target rules', () => {
  const onAws = loadConfig({
    AWS_LAMBDA_FUNCTION_NAME: 'api',
    DATABASE_URL: 'postgres://u:p@db:5432/app',
  }).loadtest;
  const locally = refuseDatabasePort(loadConfig({}).loadtest, { host: '127.0.0.1', port: 54_321 });
  const loopbackAndLinkLocal = [
    'http://localhost:22',
    'http://LOCALHOST.:8080',
    'http://app.localhost',
    'http://127.0.0.1:9001',
    'http://127.9.8.7',
    'http://2130706433:9001',
    'http://0x7f000001',
    'http://0177.0.0.1',
    'http://127.1',
    'http://0.0.0.0:9001',
    'http://[::1]:9001',
    'http://[0:0:0:0:0:0:0:1]',
    'http://[::]',
    'http://[::ffff:127.0.0.1]',
    'http://[::ffff:7f00:1]',
    'http://[::127.0.0.1]',
    'http://169.254.169.254/latest/meta-data',
    'http://2852039166',
    'http://0xa9.0xfe.0xa9.0xfe',
    'http://[::ffff:169.254.169.254]',
    'http://[fe80::1]',
    'http://[febf::1]',
    'http://[fd00:ec2::254]',
  ];

  it('refuses loopback and link-local on AWS in every spelling new URL accepts', () => {
    for (const url of loopbackAndLinkLocal) {
      expect({ url, allowed: isAllowedTarget(url, onAws) }).toEqual({ url, allowed: false });
      expect(problems({ target: url }, onAws)[0]).toMatch(
        /^target: host ".*" is a (loopback|link-local) address/,
      );
    }
    expect(isAllowedTarget('http://[fe00::1]', onAws)).toBe(false);
    expect(problems({ target: 'http://[fe00::1]' }, onAws)[0]).toMatch(/is not on the allowlist \(empty\)/);
  });

  it('allows on AWS exactly what LOADTEST_ALLOWED_HOSTS lists, in any spelling', () => {
    const listed = loadConfig({
      AWS_LAMBDA_FUNCTION_NAME: 'api',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      LOADTEST_ALLOWED_HOSTS: '127.0.0.1:8080,[0:0::1],api.example.com',
    }).loadtest;
    expect(isAllowedTarget('http://127.0.0.1:8080', listed)).toBe(true);
    expect(isAllowedTarget('http://2130706433:8080', listed)).toBe(true);
    expect(isAllowedTarget('http://127.0.0.1:9001', listed)).toBe(false);
    expect(isAllowedTarget('http://[::1]:9001', listed)).toBe(true);
    expect(isAllowedTarget('https://api.example.com', listed)).toBe(true);
    expect(isAllowedTarget('http://169.254.169.254', listed)).toBe(false);
  });

  it('allows loopback locally except the database port, and still refuses link-local', () => {
    for (const url of [
      'http://localhost:8080',
      'http://127.0.0.1:3000',
      'http://[::1]:5173',
      'http://2130706433',
    ]) {
      expect({ url, allowed: isAllowedTarget(url, locally) }).toEqual({ url, allowed: true });
    }
    for (const url of [
      'http://localhost:54321',
      'http://127.0.0.1:54321',
      'http://[::1]:54321',
      'http://2130706433:54321',
    ]) {
      expect({ url, allowed: isAllowedTarget(url, locally) }).toEqual({ url, allowed: false });
    }
    expect(problems({ target: 'http://localhost:54321' }, locally)).toEqual([
      "target: port 54321 of localhost is the stack's own PostgreSQL, never a load-test target",
    ]);
    expect(isAllowedTarget('http://169.254.169.254', locally)).toBe(false);
    expect(refuseDatabasePort(locally, { host: 'db.example.com', port: 5432 })).toBe(locally);
  });
});

describe('planLoadTest', () => {
  it('chooses an inline map up to 40 shards and a distributed map beyond', () => {
    expect(planLoadTest(parseLoadTestInput({ target, users: 40, workers: 40 }), DEFAULT_LIMITS).mode).toBe(
      'INLINE',
    );
    const large = planLoadTest(parseLoadTestInput({ target, users: 2000, workers: 400 }), DEFAULT_LIMITS);
    expect(large).toMatchObject({ mode: 'DISTRIBUTED', shards: 400, maxConcurrency: 400 });
  });

  it('splits an open-model run into rounds of the shard length', () => {
    const options = parseLoadTestInput(
      { target, rate: 10, duration: '25m' },
      { ...DEFAULT_LIMITS, maxDurationSeconds: 3600 },
    );
    expect(planLoadTest(options, DEFAULT_LIMITS).rounds).toBe(3);
  });

  it('refuses an open-model run that would need more than 24 rounds', () => {
    const options = parseLoadTestInput({ target, rate: 10, duration: '30m' });
    expect(() => planLoadTest(options, { ...DEFAULT_LIMITS, shardSeconds: 60 })).toThrow(
      'duration: 1800s needs more than 24 rounds of LOADTEST_SHARD_SECONDS=60; shorten the run or raise LOADTEST_SHARD_SECONDS',
    );
  });

  it('accepts a tolerated failure percentage of 0 and refuses a rate of 0', () => {
    expect(parseLoadTestInput({ target, toleratedFailurePercent: 0 }).toleratedFailurePercent).toBe(0);
    expect(problems({ target, rate: 0, duration: 10 })).toEqual(['rate: 0 must be over 0']);
  });

  it('refuses a plan that would send no request, with the reason', () => {
    expect(problems({ target, rate: 0.0001, duration: 3600 })).toEqual([
      'rate: 0.0001 req/s for 3600s sends no request (0.36 due); raise the rate or the duration',
    ]);
    expect(problems({ target, rate: 0.5, duration: 1 })).toEqual([
      'rate: 0.5 req/s for 1s sends no request (0.5 due); raise the rate or the duration',
    ]);
    // The estimate counts whole requests as the engine sends them.
    expect(expectedRequests(parseLoadTestInput({ target, rate: 1.5, duration: 1 }))).toBe(1);
    expect(expectedRequests(parseLoadTestInput({ target, rate: 0.5, duration: 2 }))).toBe(1);
  });

  it('refuses a malformed ramp-up, naming each stage that is not duration:rate', () => {
    expect(problems({ target, rate: 10, duration: 60, rampUp: '::,::' })).toEqual([
      'rampUp[0]: "::" is not a stage: it needs a duration and a rate, as "30s:100"',
      'rampUp[1]: "::" is not a stage: it needs a duration and a rate, as "30s:100"',
    ]);
    expect(problems({ target, rate: 10, duration: 60, rampUp: '10s:50,' })).toEqual([
      'rampUp[1]: "" is not a stage: it needs a duration and a rate, as "30s:100"',
    ]);
    expect(problems({ target, rate: 10, duration: 60, rampUp: '10s:50:5' })).toEqual([
      'rampUp[0]: "10s:50:5" is not a stage: it needs a duration and a rate, as "30s:100"',
    ]);
    expect(problems({ target, rate: 10, duration: 60, rampUp: [{ duration: '10s' }] })).toEqual([
      'rampUp[0]: {"duration":"10s"} is not a stage: it needs a duration and a rate, as "30s:100"',
    ]);
  });

  it('refuses a run whose Lambda cost estimate is over LOADTEST_MAX_GB_SECONDS', () => {
    const options = parseLoadTestInput({ target, rate: 1000, duration: '1h', workers: 100 });
    expect(() => planLoadTest(options, { ...DEFAULT_LIMITS, maxGbSeconds: 1000 })).toThrow(
      /about 360000 Lambda GB-seconds \(100 workers × ~3600s × 1024 MB\) is over LOADTEST_MAX_GB_SECONDS=1000/,
    );
  });
});

describe('thresholds', () => {
  it('parses units into milliseconds and percent', () => {
    expect(parseThreshold('p95 < 0.3s')).toMatchObject({ expression: 'p95<0.3s', metric: 'p95', value: 300 });
    expect(parseThreshold('errors<1%')).toMatchObject({ metric: 'errors', value: 1 });
    expect(() => parseThreshold('p95<1%')).toThrow(/a latency takes ms or s/);
    expect(() => parseThreshold('latency<1')).toThrow(/"latency" is not a metric/);
  });

  it('evaluates each threshold against the report figures', () => {
    const latencyMs = { min: 1, mean: 20, p50: 15, p90: 40, p95: 120, p99: 300, p999: 500, max: 800 };
    expect(
      evaluateThresholds(['p95<100', 'errors<1%', 'rps>=50', 'max<=800'], {
        latencyMs,
        errorPercent: 0.5,
        rps: 49,
        requests: 1000,
      }),
    ).toEqual([
      { expr: 'p95<100ms', actual: 120, passed: false },
      { expr: 'errors<1%', actual: 0.5, passed: true },
      { expr: 'rps>=50', actual: 49, passed: false },
      { expr: 'max<=800ms', actual: 800, passed: true },
    ]);
  });
});
