import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../lib/auth/tokens.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { ConcurrencyLimitError, LoadTestStore } from '../../lib/loadtest/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';

describe('LoadTestStore.createRun under LOADTEST_MAX_CONCURRENT_RUNS', () => {
  const postgres = useMigratedDatabase({ poolSize: 12 });
  let store: LoadTestStore;

  beforeAll(() => {
    store = new LoadTestStore(postgres.db);
  });

  it('lets exactly the limit through when 24 starts race on 24 connections', async () => {
    const options = parseLoadTestInput({ target: 'http://localhost:3000', users: 1, requests: 1 });
    const plan = planLoadTest(options, DEFAULT_LIMITS);
    const ids = Array.from(
      { length: 24 },
      (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    );
    const outcomes = await Promise.allSettled(ids.map((id) => store.createRun(id, options, plan, 3)));
    const created = ids.filter((_, index) => outcomes[index]?.status === 'fulfilled');
    expect(created).toHaveLength(3);
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') continue;
      expect(outcome.reason).toBeInstanceOf(ConcurrencyLimitError);
      expect([...(outcome.reason as ConcurrencyLimitError).runningIds].sort()).toEqual([...created].sort());
    }
    const rows = await postgres.database.admin<{ count: string }>(
      'SELECT count(*) AS count FROM loadtest_runs',
    );
    expect(Number(rows.rows[0]?.count)).toBe(3);

    // A finished run frees its place.
    await store.finish(created[0] ?? '', 'passed', null);
    await store.createRun('00000000-0000-4000-8000-000000000100', options, plan, 3);
  });
});

describe('POST /v1/loadtests over the limit', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  let token: string;

  beforeAll(async () => {
    api = await startApiServer({ DATABASE_URL: postgres.database.url, LOADTEST_MAX_CONCURRENT_RUNS: '2' });
    token = await issueToken(api.db, 'test');
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers 429 with Retry-After and the running run ids to starts beyond the limit, sent at once', async () => {
    const start = () =>
      fetch(`${api.url}/v1/loadtests`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ rate: 2, duration: 20, endpoint: '/health' }),
      });
    const responses = await Promise.all(Array.from({ length: 6 }, start));
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as Array<{
      runId?: string;
      error?: { code: string; message: string; running: string[]; limit: number };
    }>;
    const started = bodies.flatMap((body) => (body.runId ? [body.runId] : []));
    expect(responses.map((response) => response.status).sort()).toEqual([202, 202, 429, 429, 429, 429]);
    for (const [index, response] of responses.entries()) {
      if (response.status !== 429) continue;
      expect(response.headers.get('retry-after')).toBe('30');
      expect(bodies[index]?.error).toMatchObject({ code: 'LOADTEST_CONCURRENCY_LIMIT', limit: 2 });
      expect([...(bodies[index]?.error?.running ?? [])].sort()).toEqual([...started].sort());
      expect(bodies[index]?.error?.message).toContain('LOADTEST_MAX_CONCURRENT_RUNS=2');
    }
    for (const runId of started) {
      await fetch(`${api.url}/v1/loadtests/${runId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
      });
    }
  });
});
