// The terminal summary's wording (and the HTML report's, where they share it): plurals, rates, stages.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShard, type ShardResult } from '../../lib/loadtest/engine.ts';
import { renderHtmlReport } from '../../lib/loadtest/html-report.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import type { LoadTestOptions } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { plural } from '../../lib/loadtest/plural.ts';
import { buildReport } from '../../lib/loadtest/report.ts';
import { formatSummary } from '../../lib/loadtest/text-summary.ts';
import { HOSTILE_TEXT } from '../support/fault-target.ts';
import { listenLocally } from '../support/listen.ts';
import { reportOf } from '../support/report.ts';
import { stepOf, withSteps } from '../support/steps.ts';
import { rawControls } from '../support/terminal.ts';

describe('formatSummary', () => {
  let server: Server;
  let target: string;
  /** One real request, measured by the engine: a run of a few milliseconds. */
  let oneRequest: ShardResult;

  beforeAll(async () => {
    server = createServer((_, response) => response.end('ok'));
    target = await listenLocally(server);
    oneRequest = await runShard({
      target,
      endpoints: [{ path: '/', method: 'GET', headers: {}, weight: 1 }],
      timeoutMs: 2000,
      runStartedAt: Date.now(),
      deadline: Date.now() + 10_000,
      load: { model: 'closed', requestsPerUser: [1], thinkTimeMs: 0 },
    });
  });
  afterAll(() => {
    server.close();
  });

  /** The summary's line that starts with this label. */
  const lineOf = (summary: string, label: string) =>
    summary.split('\n').find((line) => line.startsWith(`  ${label}`)) ?? '';

  it('counts HTTP failures on the errors line with their status and step when responses failed', async () => {
    const failing = createServer((request, response) => {
      response.statusCode = request.url === '/orders' ? 503 : 200;
      response.end();
    });
    const failingTarget = await listenLocally(failing);
    try {
      const result = await runShard({
        target: failingTarget,
        endpoints: [{ path: '/orders', method: 'GET', headers: {}, weight: 1 }],
        timeoutMs: 2000,
        runStartedAt: Date.now(),
        deadline: Date.now() + 10_000,
        load: { model: 'closed', requestsPerUser: [6], thinkTimeMs: 0 },
      });
      const summary = formatSummary(
        reportOf({ target: failingTarget, users: 1, requests: 6, endpoint: '/orders' }, [result]),
        'failed',
      );
      expect(lineOf(summary, 'errors')).toBe(
        '  errors      failed 6 (100 %): 503 ×6 on GET /orders · network none',
      );
      expect(lineOf(summary, 'GET /orders')).toMatch(
        /^ {2}GET \/orders {2}6 +(–|[\d.]+) +[\d.]+ +[\d.]+ +[\d.]+ +100% +–$/,
      );
    } finally {
      failing.close();
    }
  });

  it('names network errors apart from HTTP failures when some requests got no response', () => {
    const report = withSteps(reportOf({ target, users: 1, requests: 1 }, [oneRequest]), [
      stepOf({
        name: 'login',
        method: 'POST',
        path: '/login',
        requests: 40,
        statusCodes: { '200': 38 },
        errors: { timeout: 2 },
      }),
      stepOf({ path: '/orders', requests: 60, statusCodes: { '200': 10, '503': 48, '500': 2 } }),
    ]);
    const line = lineOf(formatSummary(report, 'failed'), 'errors');
    expect(line).toBe(
      '  errors      failed 52 (52 %): 503 ×48, 500 ×2 on GET /orders · network timeout ×2 on login',
    );
    expect(lineOf(formatSummary(report, 'failed'), 'requests')).toContain('failed 52, 52%');
  });

  it('prints a row per step and every check with its passes and failures when the report has steps', () => {
    const report = withSteps(reportOf({ target, users: 1, requests: 1 }, [oneRequest]), [
      stepOf({
        name: 'login',
        method: 'POST',
        path: '/login',
        requests: 100,
        statusCodes: { '200': 100 },
        p50: 12,
        checks: [{ name: 'has-token', passed: 97, failed: 3 }],
      }),
      stepOf({
        name: 'a step whose name is far too long to fit the column',
        path: '/x',
        requests: 5,
        statusCodes: { '200': 5 },
      }),
    ]);
    const summary = formatSummary(report, 'passed');
    expect(summary).toMatch(/\n {2}step +requests +req\/s +p50 ms +p95 ms +p99 ms +errors +checks failed\n/);
    expect(lineOf(summary, 'login')).toMatch(/^ {2}login +100 +(–|[\d.]+) +12 +24 +36 +0% +3$/);
    expect(summary).toContain('  a step whose name is far too lo…  5');
    expect(summary).toMatch(/\n {2}has-token +97 +3 +97% +login {2}FAIL\n/);
  });

  it('prints the whole run as one step and no check table when the report has no steps', () => {
    const summary = formatSummary(reportOf({ target, users: 1, requests: 1 }, [oneRequest]), 'passed');
    expect(lineOf(summary, 'GET /health')).toMatch(/^ {2}GET \/health {2}1 /);
    expect(summary).not.toContain('  check ');
    expect(lineOf(summary, 'errors')).toBe('  errors      none');
  });

  it('counts in the singular when there is one user, one request and one round', () => {
    const summary = formatSummary(reportOf({ target, users: 1, requests: 1 }, [oneRequest]), 'passed');
    expect(summary).toContain('closed: 1 user × 1 request\n');
    expect(summary).toContain('workers     1 × 1 round\n');
    expect(plural(2, 'user')).toBe('2 users');
    expect(plural(1000, 'request')).toBe('1,000 requests');
  });

  it('claims no rate for a run shorter than a second', () => {
    const report = reportOf({ target, users: 1, requests: 1 }, [oneRequest]);
    expect(report.durationSeconds).toBeLessThan(1);
    expect(report.rps).toBe(1);
    const requestsLine = formatSummary(report, 'passed')
      .split('\n')
      .find((line) => line.startsWith('  requests'));
    expect(requestsLine).toMatch(/in [\d.]+s, under a second: too short for a rate$/);
    expect(renderHtmlReport(report)).toContain('under a second: too short for a rate');
  });

  it('shows a steady rate as one rate, and an arrow only where the rate ramps', () => {
    const steady = renderHtmlReport(reportOf({ target, rate: 50, duration: 2 }, [oneRequest]));
    expect(steady).not.toContain('50 → 50');
    expect(steady).not.toContain('Stages');
    const ramped = renderHtmlReport(reportOf({ target, rate: 50, duration: 3, rampUp: '1s' }, [oneRequest]));
    expect(ramped).toContain('0 → 50 req/s over 1 s');
    expect(ramped).toContain('50 req/s for 2 s');
    expect(ramped).not.toContain('50 → 50');
  });

  it('shows control characters in the target and the paths escaped, never raw', () => {
    const options: LoadTestOptions = {
      model: 'closed',
      target: `http://127.0.0.1:1${HOSTILE_TEXT}`,
      endpoints: [
        { path: `/a${HOSTILE_TEXT}`, method: 'GET', headers: {}, weight: 1 },
        { path: '/b\x85', method: 'GET', headers: {}, weight: 1 },
      ],
      timeoutMs: 1000,
      workers: 1,
      thresholds: [],
      toleratedFailurePercent: 0,
      users: 1,
      requestsPerUser: 1,
      thinkTimeMs: 0,
    };
    const report = buildReport({
      runId: 'lt_hostile',
      options,
      plan: planLoadTest(options, DEFAULT_LIMITS),
      shards: [],
      expectedShards: 1,
      aborted: false,
    });
    const summary = formatSummary(report, 'error');
    expect(rawControls(summary)).toEqual([]);
    expect(summary).toContain('GET /a\\x1b]0;PWNED\\x07\\x1b[31m\\x9b2J\\r\\x1b[1A ×1, GET /b\\x85 ×1');
    expect(summary).toContain('target      http://127.0.0.1:1\\x1b]0;PWNED');
  });
});
