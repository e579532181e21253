// Step- and check-tagged abort thresholds judged live across shards: a scenario whose one step turns slow, or
// whose check starts failing, is stopped within seconds while the whole run's figures still look fine.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { runLocally } from '../../lib/loadtest/local-runner.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

/** Thirty fast requests, then a login: the login is one request in 31, too few to move the whole run's p95. */
const scenario = {
  flows: [
    {
      steps: [
        { loop: { count: 30, steps: [{ name: 'list', path: '/list' }] } },
        {
          name: 'login',
          method: 'POST',
          path: '/login',
          checks: [{ name: 'has token', json: '$.token', exists: true }],
        },
      ],
    },
  ],
};

describe('step-tagged abort thresholds judged live', () => {
  const postgres = useMigratedDatabase({ poolSize: 6 });
  let store: LoadTestStore;
  let server: Server;
  let target: string;
  /** Epoch ms from which logins answer slowly (slowMs) or without a token; Infinity keeps them well. */
  let turnsAt = Number.POSITIVE_INFINITY;
  let slowMs = 0;
  let dropToken = false;
  let firstArrival = 0;
  let lastArrival = 0;
  let received = 0;
  const logger = createLogger({ level: 'error' });

  beforeAll(async () => {
    store = new LoadTestStore(postgres.db);
    server = createServer((request, response) => {
      received++;
      lastArrival = Date.now();
      firstArrival ||= lastArrival;
      if (request.url !== '/login') return setTimeout(() => response.end('{}'), 2);
      const turned = lastArrival >= turnsAt;
      setTimeout(
        () => response.end(JSON.stringify(turned && dropToken ? {} : { token: 't' })),
        turned ? slowMs : 2,
      );
    });
    target = await listenLocally(server);
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  const start = async (thresholds: string[], turnAfterMs: number) => {
    received = 0;
    firstArrival = 0;
    const run = await createLoadTest(
      { target, scenario, rate: 6, duration: 40, workers: 2, thresholds },
      store,
      DEFAULT_LIMITS,
    );
    turnsAt = Number.POSITIVE_INFINITY;
    const execution = runLocally(run.runId, { store, logger });
    // The target turns a fixed time after the run's first request reached it.
    const turn = setInterval(() => {
      if (firstArrival > 0 && turnsAt === Number.POSITIVE_INFINITY) turnsAt = firstArrival + turnAfterMs;
    }, 20);
    const outcome = await execution.result.finally(() => clearInterval(turn));
    const report = (await store.getRun(run.runId))?.report;
    if (!report) throw new Error('no report');
    return { outcome, report, turnedAtSeconds: (turnsAt - Date.parse(report.startedAt ?? '')) / 1000 };
  };

  it('stops a two-shard scenario within 5 s of one step turning slow, while the untagged p95 holds', async () => {
    slowMs = 600;
    dropToken = false;
    const { outcome, report, turnedAtSeconds } = await start(
      ['p95<300:abort', 'p95{step:login}<300:abort'],
      3000,
    );
    expect(outcome.status).toBe('aborted');
    // Nothing was sent more than 5 s after the login turned slow (the 40 s schedule was cut short).
    expect(lastArrival - turnsAt).toBeLessThan(5000);
    expect(report.abortedBy).toMatchObject({ threshold: 'p95{step:login}<300ms:abort' });
    expect(report.abortedBy?.actual).toBeGreaterThanOrEqual(300);
    expect(report.abortedBy?.atSeconds).toBeGreaterThan(turnedAtSeconds);
    expect(report.abortedBy?.atSeconds).toBeLessThan(turnedAtSeconds + 5);
    expect(report.failedBecause[0]).toMatch(
      /^it was aborted: threshold p95\{step:login\}<300ms:abort lost \d+(\.\d+)? s into the run \(actual \d+(\.\d+)? ms\)$/,
    );
    // The whole run's p95 is the fast list's: on it alone the run would have gone on.
    const untagged = report.thresholds.find((item) => item.expr === 'p95<300ms:abort');
    expect(untagged).toMatchObject({ passed: true });
    expect(untagged?.actual).toBeLessThan(300);
    expect(report.totals.requests).toBe(received);
  });

  it('stops a run within 5 s of a step check starting to fail, naming the check threshold', async () => {
    slowMs = 2;
    dropToken = true;
    const { outcome, report, turnedAtSeconds } = await start(
      ['errors<1%:abort', 'checks{step:login,check:has token}>=95%:abort'],
      3000,
    );
    expect(outcome.status).toBe('aborted');
    expect(lastArrival - turnsAt).toBeLessThan(5000);
    expect(report.abortedBy).toMatchObject({ threshold: 'checks{step:login,check:has token}>=95%:abort' });
    expect(report.abortedBy?.actual).toBeLessThan(95);
    expect(report.abortedBy?.atSeconds).toBeGreaterThan(turnedAtSeconds);
    expect(report.abortedBy?.atSeconds).toBeLessThan(turnedAtSeconds + 5);
    // No request failed: the errors threshold alone would not have stopped it.
    expect(report.thresholds.find((item) => item.expr === 'errors<1%:abort')).toMatchObject({
      passed: true,
      actual: 0,
    });
  });
});
