// POST /v1/loadtests with a scenario: the same document as the CLI's file, its data feeder given as rows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import type { LoadTestReport } from '../../lib/loadtest/report.ts';
import { createDemoShop, type DemoShop } from '../../lib/local/demo-shop.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('POST /v1/loadtests with a scenario', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  let token: string;
  let shop: DemoShop;
  let target: string;

  beforeAll(async () => {
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
    token = await issueToken(api.db, 'test');
    shop = createDemoShop({ record: true });
    target = await listenLocally(shop.server);
  });
  afterAll(async () => {
    await api?.close();
    shop?.server.closeAllConnections();
    shop?.server.close();
  });

  const post = (body: unknown) =>
    fetch(`${api.url}/v1/loadtests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });

  it('runs the scenario with its rows and reports each step', async () => {
    const started = await post({
      target,
      users: 2,
      requests: 3,
      scenario: {
        flows: [
          {
            steps: [
              {
                name: 'login',
                method: 'POST',
                path: '/login',
                json: { user: '{{ user }}' },
                capture: { token: { json: '$.data.token' } },
              },
              {
                name: 'orders',
                path: '/orders',
                headers: { authorization: 'Bearer {{ token }}' },
                checks: [{ status: 200 }],
              },
            ],
          },
        ],
        data: { rows: [{ user: 'ada' }, { user: 'grace' }], per: 'vu' },
      },
    });
    expect(started.status).toBe(202);
    const { runId, estimate } = (await started.json()) as { runId: string; estimate: { requests: number } };
    expect(estimate.requests).toBe(12);
    let final: { status: string; report: LoadTestReport | null } = { status: 'pending', report: null };
    for (let tries = 0; tries < 200 && ['pending', 'running'].includes(final.status); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      final = (await (await fetch(`${api.url}/v1/loadtests/${runId}`)).json()) as typeof final;
    }
    expect(final.status).toBe('passed');
    // per: vu, sequential: each of the two users kept its own row for its three iterations.
    expect(shop.seen.logins.map((login) => login.user).sort()).toEqual([
      'ada',
      'ada',
      'ada',
      'grace',
      'grace',
      'grace',
    ]);
    expect(final.report?.steps.map(({ name, requests, ok }) => ({ name, requests, ok }))).toEqual([
      { name: 'login', requests: 6, ok: 6 },
      { name: 'orders', requests: 6, ok: 6 },
    ]);
    expect(final.report?.checks).toEqual([{ step: 'orders', name: 'status 200', passed: 6, failed: 0 }]);
  });

  it('answers 400 naming each problem of the scenario under "scenario", and a data file it cannot read', async () => {
    const response = await post({
      target,
      scenario: {
        flows: [{ steps: [{ path: '/a', capture: { token: { xpath: '//a' } } }, { loop: { count: 2 } }] }],
        data: { file: 'users.csv' },
      },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; problems: string[] } };
    expect(body.error.code).toBe('INVALID_LOADTEST');
    expect(body.error.problems).toEqual([
      'scenario.flows[0].steps[0].capture.token.xpath: is not a key of a capture (json, header or regex)',
      'scenario.flows[0].steps[1].loop.steps: is required',
      'scenario.data: file is read by the CLI only (loadwatch loadtest scenario.yml); send its rows as data.rows',
    ]);
  });
});
