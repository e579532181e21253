import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { urlTarget } from '../../lib/local/stack.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { type ReplicatedPostgres, startReplicatedPostgres } from '../support/replication.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/** Longer than any answer may take: a request still open then counts as a hang. */
const HANG_MS = 8_000;
const READS_RECOVER_MS = 10_000;

interface Answer {
  status: number | 'hang' | 'network';
  retryAfter: string | null;
  at: number;
  runId?: string;
}

/** One request after another until stopped, each recorded with when it was answered. */
function loop(send: () => Promise<Response>, pauseMs: number) {
  const answers: Answer[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const response = await send();
        const body = (await response.json().catch(() => ({}))) as { runId?: string };
        answers.push({
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          at: performance.now(),
          ...(response.status === 202 && body.runId ? { runId: body.runId } : {}),
        });
      } catch (error) {
        const hang = (error as Error).name === 'TimeoutError';
        answers.push({ status: hang ? 'hang' : 'network', retryAfter: null, at: performance.now() });
      }
      await delay(pauseMs);
    }
  })();
  return {
    answers,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('failover drill', () => {
  let replicated: ReplicatedPostgres;
  let proxy: TcpProxy;
  let api: RunningApi;
  let token: string;

  beforeAll(async () => {
    replicated = await startReplicatedPostgres({
      database: 'loadwatch',
      synchronous: true,
      prepare: async (url) => {
        await runMigrations({ target: urlTarget(url), direction: 'up' });
      },
    });
    // The API reaches the database by one name, as an RDS endpoint: the proxy is that name.
    proxy = await startTcpProxy(replicated.primary.port);
    const url = new URL(replicated.primary.url);
    url.port = String(proxy.port);
    api = await startApiServer(
      {
        DATABASE_URL: url.toString(),
        DB_SSL: 'disable',
        DB_POOL_TIMEOUT: '2',
        DB_STATEMENT_TIMEOUT: '1500',
        API_HANDLER_TIMEOUT: '5000',
        READINESS_TIMEOUT: '1000',
        LOADTEST_MAX_CONCURRENT_RUNS: '1000',
      },
      // Runs are recorded, not executed: the drill is about the database.
      { starter: { start: async (runId) => `drill:${runId}` } },
    );
    token = await issueToken(api.db, 'drill');
  }, 90_000);

  afterAll(async () => {
    await api?.close();
    await proxy?.close();
    await replicated?.stop();
  });

  const request = (path: string, init: RequestInit = {}) =>
    fetch(`${api.url}${path}`, { ...init, signal: AbortSignal.timeout(HANG_MS) });

  it('answers 503 with Retry-After while the writer fails over, recovers reads within 10 s and loses no acknowledged write', async () => {
    const before = await request('/health/ready');
    expect(before.status).toBe(200);

    const writes = loop(
      () =>
        request('/v1/loadtests', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ target: 'http://127.0.0.1:9/', users: 1, requests: 1 }),
        }),
      20,
    );
    const reads = loop(() => request('/v1/loadtests?limit=5'), 20);
    await delay(1_000);

    // The writer dies (immediate shutdown: no checkpoint, every connection cut), the endpoint moves to the
    // standby before its promotion is done (writes there are refused as read-only), then the standby is promoted.
    const failedAt = performance.now();
    process.kill(replicated.primary.pid, 'SIGQUIT');
    await delay(300);
    proxy.switchTo(replicated.standby.port);
    await delay(700);
    await replicated.promote();
    const promotedAt = performance.now();
    const deadline = promotedAt + READS_RECOVER_MS;
    while (performance.now() < deadline && !reads.answers.some((a) => a.at > promotedAt && a.status === 200))
      await delay(50);
    await delay(1_500);
    await Promise.all([writes.stop(), reads.stop()]);

    const all = [...writes.answers, ...reads.answers];
    // Never a 500, never a hang: every answer is a success or a 503 that says when to retry.
    expect(all.filter((a) => ![200, 202, 503].includes(a.status as number))).toEqual([]);
    expect(all.filter((a) => a.status === 503 && a.retryAfter === null)).toEqual([]);
    const refused = writes.answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(writes.answers.filter((a) => a.at < failedAt && a.status !== 202)).toEqual([]);

    const firstReadBack = reads.answers.find(
      (a, index) =>
        a.at > failedAt && a.status === 200 && reads.answers.slice(index).every((b) => b.status === 200),
    );
    expect(firstReadBack, 'reads never came back for good').toBeDefined();
    const readsDownMs = (firstReadBack?.at ?? Number.POSITIVE_INFINITY) - failedAt;
    expect(readsDownMs).toBeLessThanOrEqual(READS_RECOVER_MS);
    expect(writes.answers.at(-1)?.status).toBe(202);

    // Every write that was acknowledged is on the new writer.
    const acknowledged = writes.answers.flatMap((a) => (a.runId ? [a.runId] : []));
    const stored = await replicated.sql<{ id: string }>(
      replicated.standby,
      'SELECT id FROM loadtest_runs WHERE id = ANY($1::uuid[])',
      [acknowledged],
    );
    expect(new Set(stored.rows.map((row) => row.id))).toEqual(new Set(acknowledged));

    // Readiness reads the migration version again, now from the new writer.
    const after = await request('/health/ready');
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({
      status: 'ready',
      database: { migrations: { current: listMigrations().at(-1), pending: [] } },
    });
    console.info(
      `failover drill: reads back ${readsDownMs.toFixed(0)} ms after the writer died; ` +
        `${refused.length} writes answered 503 with Retry-After, ${acknowledged.length} acknowledged, all kept`,
    );
  });
});
