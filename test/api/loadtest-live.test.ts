import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import type { LiveResults } from '../../lib/loadtest/live.ts';
import type { LoadTestReport } from '../../lib/loadtest/report.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('/v1/loadtests/{id} while a run is going', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  let token: string;
  let target: string;
  let server: Server;

  beforeAll(async () => {
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
    token = await issueToken(api.db, 'test');
    server = createServer((_request, response) => {
      setTimeout(() => response.end('ok'), 2);
    });
    target = await listenLocally(server);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await api?.close();
  });

  it('answers the figures so far from the shards, a page that reloads itself, and the report once finished', async () => {
    const started = await fetch(`${api.url}/v1/loadtests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ target, endpoint: '/orders', rate: 20, duration: 12, workers: 2 }),
    });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const read = async () =>
      (await (await fetch(`${api.url}/v1/loadtests/${runId}`)).json()) as {
        status: string;
        live?: LiveResults;
        report?: LoadTestReport;
      };

    // The first turn comes once the shards have sent for a second; a busy machine may take longer.
    const deadline = Date.now() + 20_000;
    let running = await read();
    while (running.status !== 'passed' && (running.live?.totals.requests ?? 0) === 0) {
      if (Date.now() > deadline) throw new Error('no live figures within 20 s');
      await sleep(100);
      running = await read();
    }
    expect(running.status).toBe('running');
    expect(running.live?.totals.requests).toBeGreaterThan(0);
    expect(running.live?.steps).toEqual([expect.objectContaining({ name: 'GET /orders' })]);
    expect(running.live?.window.seconds).toBeLessThanOrEqual(10);

    const page = await fetch(`${api.url}/v1/loadtests/${runId}/report.html`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    expect(html).toContain('<span class="badge">RUNNING</span>');
    expect(html).toContain('<code>GET /orders</code>');
    expect(html).toMatch(/<a class="reload" href="">Reload<\/a>/);

    let final = await read();
    while (final.status === 'running' || final.status === 'pending') {
      await sleep(250);
      final = await read();
    }
    expect(final.status).toBe('passed');
    expect(final.live).toBeUndefined();
    const live = (await (await fetch(`${api.url}/v1/loadtests/${runId}?view=live`)).json()) as {
      status: string;
      live: LiveResults;
    };
    expect(live.status).toBe('passed');
    expect(live.live.totals).toEqual(final.report?.totals);
    expect(live.live.totals.requests).toBe(240);
    expect(live.live.totals.requests).toBeGreaterThan(running.live?.totals.requests ?? 0);
    const report = await (await fetch(`${api.url}/v1/loadtests/${runId}/report.html`)).text();
    expect(report).not.toContain('http-equiv="refresh"');
  });

  it('refuses an unknown view, naming the ones there are', async () => {
    const response = await fetch(`${api.url}/v1/loadtests/00000000-0000-0000-0000-000000000000?view=now`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/live/);
  });
});
